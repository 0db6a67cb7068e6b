#!/usr/bin/env bash
# make demo: the main job on the built-in emulator, from a fresh clone, with no account and no network.
#
# It starts the API emulator as its own process (signature checks on, a demo key, its cloud in a data
# file), then on the studio example runs the GitOps loop: validate (offline and against the API), the
# pull request's plan (Markdown, saved), the apply on merge of that saved plan, plan again (no changes),
# changes made outside deskfleet (`deskfleet sim label`, `sim power`), the scheduled drift check (finds
# them, exit 6), apply (sets them back), drift (clean), and the journal. Then a repository of two
# fleets (examples/two-fleets) is planned, applied and planned again (no changes) in one run each. The
# other examples are validated and planned, and the emulator reports the calls it served.
set -euo pipefail
bin=${1:-bin/deskfleet}
work=$(mktemp -d)
trap 'kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
expect_exit() { # expect_exit CODE COMMAND...: run it, and fail unless it exits with CODE
	local want=$1 got=0
	shift
	"$@" || got=$?
	[ "$got" -eq "$want" ] || { echo "demo: '$*' exited $got, want $want" >&2; exit 1; }
}

say "Start the API emulator (signature checks on, demo key, tasks of 1s)"
# The demo key is not a secret: it only opens this throwaway emulator.
DESKFLEET_SIM_KEY=demo-id:demo-secret-not-real "$bin" sim serve --addr 127.0.0.1:0 --task-time 1s \
	--data "$work/cloud.json" >"$work/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 100); do
	addr=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$work/sim.log" | head -1)
	[ -n "$addr" ] && break
	sleep 0.1
done
[ -n "${addr:-}" ] || { cat "$work/sim.log"; echo "the emulator did not start" >&2; exit 1; }
echo "emulator at $addr"

export CDS_SECRET_ID=demo-id CDS_SECRET_KEY=demo-secret-not-real
export DESKFLEET_ENDPOINT=$addr DESKFLEET_STATE=$work/state.db DESKFLEET_POLL_INTERVAL=300ms
studio=examples/studio

say "deskfleet catalog: what the cloud offers, read through the signed HTTP client"
"$bin" catalog

for dir in examples/studio examples/render-farm examples/classroom examples/two-fleets/design examples/two-fleets/course; do
	say "deskfleet validate -f $dir --online"
	"$bin" validate -f "$dir" --online
done
for dir in examples/render-farm examples/classroom; do
	say "deskfleet plan -f $dir"
	"$bin" plan -f "$dir"
done

say "A pull request: deskfleet plan -f $studio --format markdown --out plan.bin (the comment reviewers read; the plan saved)"
"$bin" plan -f "$studio" --format markdown --out "$work/plan.bin"

say "Merged: deskfleet apply --auto-approve plan.bin (exactly the reviewed plan, refused if anything moved since)"
"$bin" apply --auto-approve "$work/plan.bin"

say "deskfleet plan -f $studio --detailed-exitcode (after apply: no changes, exit 0)"
"$bin" plan -f "$studio" --detailed-exitcode

say "Someone relabels design_001 and starts review (wanted off) in the console, outside deskfleet"
"$bin" sim label design_001 tmp --data "$work/cloud.json"
"$bin" sim power review on --data "$work/cloud.json"

say "deskfleet drift -f $studio (finds both, exit 6)"
expect_exit 6 "$bin" drift -f "$studio"

say "deskfleet apply -f $studio --auto-approve (sets them back)"
"$bin" apply -f "$studio" --auto-approve

say "deskfleet drift -f $studio (clean, exit 0)"
"$bin" drift -f "$studio"

say "deskfleet state history studio"
"$bin" state history studio

two=examples/two-fleets
say "Two fleets in one repository: deskfleet plan -f $two (a section per fleet, then a table of the fleets)"
"$bin" plan -f "$two"

say "deskfleet apply -f $two --auto-approve (each fleet under its own lock; the exit is the worst of the fleets')"
"$bin" apply -f "$two" --auto-approve

say "deskfleet plan -f $two --detailed-exitcode (plan again: no changes in either fleet, exit 0)"
"$bin" plan -f "$two" --detailed-exitcode | tail -4

say "What the emulator served (it prints its call counts when it stops)"
kill -INT "$sim_pid"
wait "$sim_pid" || true
cat "$work/sim.log"
echo "Done: validate, pull-request plan (Markdown, saved), apply of the saved plan on merge, plan (no changes), changes outside deskfleet, scheduled drift (exit 6), apply, drift (clean), journal; two fleets in one repository planned, applied and planned again (no changes)."

#!/usr/bin/env bash
# make demo: the main job on the built-in emulator, from a fresh clone, with no account and no network.
#
# Today (planner stage) it: starts the API emulator with a demo key on a free loopback port, lists its
# catalog (sites, products, images, networks) through the real signed HTTP client, validates each example
# fleet offline and online, plans it (text, and the studio's plan as a pull-request comment), and stops the
# emulator, which reports the calls it served: planning makes none that mutate. apply and drift join the
# demo with the executor (issue 5).
set -euo pipefail
bin=${1:-bin/deskfleet}
work=$(mktemp -d)
trap 'kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }

say "Start the API emulator (signature checks on, demo key)"
# The demo key is not a secret: it only opens this throwaway emulator.
DESKFLEET_SIM_KEY=demo-id:demo-secret-not-real "$bin" sim serve --addr 127.0.0.1:0 --task-time 1s >"$work/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 100); do
	addr=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$work/sim.log" | head -1)
	[ -n "$addr" ] && break
	sleep 0.1
done
[ -n "${addr:-}" ] || { cat "$work/sim.log"; echo "the emulator did not start" >&2; exit 1; }
echo "emulator at $addr"

export CDS_SECRET_ID=demo-id CDS_SECRET_KEY=demo-secret-not-real

say "deskfleet catalog: what the cloud offers, read through the signed HTTP client"
"$bin" catalog --endpoint "$addr"

for dir in examples/*/; do
	say "deskfleet validate -f $dir --online"
	"$bin" validate -f "$dir" --online --endpoint "$addr"
	say "deskfleet plan -f $dir"
	"$bin" plan -f "$dir" --endpoint "$addr"
done

say "deskfleet plan -f examples/studio --format markdown (the pull-request comment)"
"$bin" plan -f examples/studio --endpoint "$addr" --format markdown

say "What the emulator served (it prints its call counts when it stops)"
kill -INT "$sim_pid"
wait "$sim_pid" || true
cat "$work/sim.log"
grep -q 'mutating: 0)' "$work/sim.log" || { echo "planning made a mutating call" >&2; exit 1; }
echo "Done: every example validated and planned, with no mutating call. apply and drift are the next milestone; see README.md."

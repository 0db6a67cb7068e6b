#!/usr/bin/env bash
# make demo: the main job on the built-in emulator, from a fresh clone, with no account and no network.
#
# Today (foundation stage) it: starts the API emulator with a demo key on a free loopback port, lists its
# catalog (sites, products, images, networks) through the real signed HTTP client, validates the example
# fleets, and stops the emulator. plan/apply/drift join the demo as the planner and executor land.
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

if [ -d examples ] && ls examples/*/*.yaml >/dev/null 2>&1; then
	for dir in examples/*/; do
		say "deskfleet validate -f $dir"
		"$bin" validate -f "$dir"
	done
fi

say "What the emulator served (it prints its call counts when it stops)"
kill -INT "$sim_pid"
wait "$sim_pid" || true
cat "$work/sim.log"
echo "Done. The planner (deskfleet plan/apply/drift) is the next milestone; see README.md."

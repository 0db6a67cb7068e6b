#!/usr/bin/env bash
# Reads `go test -bench` output on stdin, passes it through, then prints every benchmark that reports a
# ratio to its bound (metric x_bound) and its allowed ratio (metric limit_x) as a table. Exits 1 when a
# figure is over its bound (docs/performance.md lists the figures and their bounds).
set -euo pipefail
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
tee "$tmp"
echo
printf '%-70s %10s %10s  %s\n' "figure (docs/performance.md)" "measured" "bound" "verdict"
awk 'BEGIN { over = 0 }
/^Benchmark/ {
	name = $1; x = ""; lim = ""
	for (i = 2; i < NF; i++) {
		if ($(i+1) == "x_bound") x = $i
		if ($(i+1) == "limit_x") lim = $i
	}
	if (x != "" && lim != "") {
		verdict = (x + 0 <= lim + 0) ? "within" : "OVER"
		if (verdict == "OVER") over++
		printf "%-70s %9.2fx %9.2fx  %s\n", name, x, lim, verdict
	}
}
END {
	if (over > 0) {
		printf "\n%d figure(s) over their bound\n", over
		exit 1
	}
}' "$tmp"

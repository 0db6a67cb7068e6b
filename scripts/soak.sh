#!/usr/bin/env bash
# The reliability figures of docs/performance.md on their full seed counts (make test runs fewer under
# the race detector): the fault figure (TestFaultConvergence: seeds 1..100 of each fleet), the crash
# figures (TestApplyCrash at each intent, TestApplyCrashRandom: 200 seeds, TestCLICrashResume: the real
# binary killed after each intent) and every create answered 5xx after its work
# (TestApplyCreatesAnswered5xxAfterWork). Prints each figure line, and exits non-zero when a test
# fails: a figure under its bound. Runs from anywhere inside the repository: make soak.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
go test -count=1 -timeout 20m -v \
	-run '^(TestFaultConvergence|TestApplyCrash|TestApplyCrashRandom|TestApplyCreatesAnswered5xxAfterWork|TestApplyUnknownOutcome)$' \
	./engine/ >"$out" 2>&1 || status=$?
go test -count=1 -timeout 20m -v -run '^TestCLICrashResume$' ./cmd/deskfleet/ >>"$out" 2>&1 || status=$?
echo "figures:"
grep -a -E 'converged within [0-9]+ applies|crash at random points|^--- (PASS|FAIL)|^(ok|FAIL)\s' "$out" |
	sed -E 's/^\s+reliability_test.go:[0-9]+: /  /'
if [ "$status" -ne 0 ]; then
	echo
	echo "soak: a figure is under its bound; the failures:"
	grep -a -B2 -A12 -E '^\s+--- FAIL|^--- FAIL' "$out" | head -200
	exit "$status"
fi
echo "soak: every figure within its bound"

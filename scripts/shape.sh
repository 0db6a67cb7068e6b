#!/usr/bin/env bash
# Prints size and portability figures of the code (scripts/shape/main.go says how each is counted):
# the longest non-test function of the product and of cmd/, the lines of cmd/, the files of spec/ and
# schema/ that spell the key renamedFrom, the three GOOS builds, and the functions over their limit.
# It reports and exits 0; with --check it exits 1 when a figure is over its limit. --no-build skips
# the builds. Runs from anywhere inside the repository: make shape [ARGS=--check].
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/shape" ./scripts/shape
"$tmp/shape" "$@"

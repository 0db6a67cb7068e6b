#!/usr/bin/env bash
# Makes sure PostgreSQL's server programs (initdb, pg_ctl, postgres) are there for the tests of the
# PostgreSQL state store, which start a throwaway server of their own (internal/pgtest). They are
# looked for where internal/pgtest looks: on PATH, then under /usr/lib/postgresql/*/bin. When missing,
# Debian's `postgresql` package is installed with apt-get (with sudo when not root). `make test` runs
# this first. Exits non-zero, saying why, when the programs are missing and cannot be installed.
set -euo pipefail

say() { echo "ensure-postgres: $*"; }
die() { echo "ensure-postgres: $*" >&2; exit 1; }

# find_bin prints the folder holding initdb, pg_ctl and postgres (initdb's on PATH first, then the
# highest version under /usr/lib/postgresql), or fails.
find_bin() {
	local dir
	if dir=$(command -v initdb 2>/dev/null) && dir=$(dirname "$dir") && has_all "$dir"; then
		echo "$dir"
		return 0
	fi
	while read -r dir; do
		if [ -n "$dir" ] && has_all "$dir"; then
			echo "$dir"
			return 0
		fi
	done < <(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5 -V -r)
	return 1
}

has_all() {
	local p
	for p in initdb pg_ctl postgres; do
		[ -x "$1/$p" ] || return 1
	done
}

version_of() { "$1/postgres" --version 2>/dev/null || echo "PostgreSQL (version unknown)"; }

if bin=$(find_bin); then
	say "found $(version_of "$bin") in $bin: nothing to install"
	exit 0
fi

say "PostgreSQL's server programs (initdb, pg_ctl, postgres) are not on PATH nor under /usr/lib/postgresql/*/bin"
command -v apt-get >/dev/null 2>&1 ||
	die "no apt-get on this system: install PostgreSQL's server (initdb, pg_ctl, postgres) with its package manager, then run the tests again"

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 ||
		die "installing Debian's postgresql package needs root, and sudo is not there: run 'apt-get install postgresql' as root"
	sudo=(sudo)
fi

say "installing Debian's postgresql package: apt-get update, then apt-get install -y --no-install-recommends postgresql${sudo:+ (with sudo)}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
	die "apt-get update failed: see above"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql ||
	die "apt-get install postgresql failed: see above"

bin=$(find_bin) ||
	die "the postgresql package was installed, but initdb, pg_ctl and postgres are still not found under /usr/lib/postgresql/*/bin"
say "installed $(version_of "$bin") in $bin"

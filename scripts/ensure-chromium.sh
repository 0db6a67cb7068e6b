#!/usr/bin/env bash
# Makes sure a headless-capable Chromium is there for the fleet report's browser test
# (cmd/deskfleet: TestReportInBrowser), which loads the page in it, checks the console and the DOM and
# keeps a screenshot. It is looked for as the test looks for it: $DESKFLEET_CHROMIUM, then chromium,
# chromium-browser, google-chrome on PATH. When missing, Debian's `chromium` package is installed with
# apt-get (with sudo when not root), with a small CJK font (fonts-wqy-microhei) when the system has
# none, so that the screenshot shows Chinese names rather than empty boxes. `make test` runs this first. Exits non-zero, saying why, when
# Chromium is missing and cannot be installed.
set -euo pipefail

say() { echo "ensure-chromium: $*"; }
die() { echo "ensure-chromium: $*" >&2; exit 1; }

find_browser() {
	local b
	if [ -n "${DESKFLEET_CHROMIUM:-}" ] && [ -x "$DESKFLEET_CHROMIUM" ]; then
		echo "$DESKFLEET_CHROMIUM"
		return 0
	fi
	for b in chromium chromium-browser google-chrome; do
		if command -v "$b" >/dev/null 2>&1; then
			command -v "$b"
			return 0
		fi
	done
	return 1
}

version_of() { "$1" --version 2>/dev/null || echo "Chromium (version unknown)"; }

has_cjk_font() { ! command -v fc-list >/dev/null 2>&1 || [ -n "$(fc-list :lang=zh 2>/dev/null | head -n 1)" ]; }

if b=$(find_browser) && has_cjk_font; then
	say "found $(version_of "$b") at $b: nothing to install"
	exit 0
fi

pkgs=()
if [ -z "${b:-}" ]; then
	pkgs+=(chromium)
	say "no chromium, chromium-browser or google-chrome on PATH (nor DESKFLEET_CHROMIUM)"
fi
if ! has_cjk_font; then
	pkgs+=(fonts-wqy-microhei)
	say "no font for Chinese text: names in the report's screenshot would show as boxes"
fi
if [ -n "${b:-}" ] && { ! command -v apt-get >/dev/null 2>&1 || { [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; }; }; then
	say "found $(version_of "$b") at $b; install a CJK font (fonts-wqy-microhei) for Chinese names in the screenshot"
	exit 0
fi
command -v apt-get >/dev/null 2>&1 ||
	die "no apt-get on this system: install Chromium with its package manager (or set DESKFLEET_CHROMIUM to a Chrome binary), then run the tests again"

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 ||
		die "installing ${pkgs[*]} needs root, and sudo is not there: run 'apt-get install ${pkgs[*]}' as root"
	sudo=(sudo)
fi

say "installing ${pkgs[*]}: apt-get update, then apt-get install -y --no-install-recommends ${pkgs[*]}${sudo:+ (with sudo)}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
	die "apt-get update failed: see above"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${pkgs[@]}" ||
	die "apt-get install ${pkgs[*]} failed: see above"

b=$(find_browser) ||
	die "the chromium package was installed, but no chromium is on PATH"
say "installed $(version_of "$b") at $b"

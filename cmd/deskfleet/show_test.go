package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIShow prints a saved plan in each format: the same bytes plan printed when it saved it (less
// text's "Saved to" line), without an API call (no endpoint is given, and no credentials).
func TestCLIShow(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(oobSpec), 0o644))
	cases := []struct {
		format, reason string
	}{
		{"text", "the terminal rendering, for a person reading a saved plan"},
		{"markdown", "the pull-request comment, posted from the plan that will be applied"},
		{"json", "the JSON artifact: the saved plan itself"},
	}
	for _, tc := range cases {
		planFile := "plan-" + tc.format + ".bin"
		planned := mustRun(t, dir, 0, "plan", "--endpoint", "sim", "--format", tc.format, "--out", planFile)
		want := strings.TrimSuffix(planned.stdout, "\nSaved to "+planFile+": `deskfleet apply "+planFile+"` applies exactly this plan.\n")
		shown := runBin(t, dir, nil, "show", planFile, "--format", tc.format)
		if shown.code != 0 || shown.stdout != want {
			t.Errorf("%s: show --format %s: exit %d, stderr %s\ngot:\n%s\nwant:\n%s", tc.reason, tc.format, shown.code,
				shown.stderr, shown.stdout, want)
		}
	}
	r := runBin(t, dir, nil, "show", "missing.bin")
	if r.code != exitError || !strings.Contains(r.stderr, "hint: save a plan with `deskfleet plan --out FILE`") {
		t.Errorf("show of a missing file: exit %d\n%s", r.code, r.stderr)
	}
}

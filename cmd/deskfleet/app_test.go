package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLISpecAsPositional: a spec given as a positional argument (`deskfleet plan fleet/`) is read as
// -f PATH by the commands that read a spec, with flags after it parsed too; apply tells a spec from a
// saved plan; a saved plan given where a spec is wanted is an error that says so. Each run is in a
// folder whose own files are not a spec, so a positional silently ignored fails.
func TestCLISpecAsPositional(t *testing.T) {
	studio, err := os.ReadFile(filepath.Join("..", "..", "examples", "studio", "fleet.yaml"))
	must(t, err)
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "fleet"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "fleet", "fleet.yaml"), studio, 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "fleet", "spec.noext"), studio, 0o644))
	tests := []struct {
		reason     string
		args       []string
		code       int
		stdout     string // in stdout
		stderr     string // in stderr
		notStderr  string // not in stderr
		afterFiles []string
	}{
		{"validate reads a folder given as a positional", []string{"validate", "fleet"},
			exitOK, "fleet studio is valid", "", "", nil},
		{"plan reads a file given as a positional, and the flags after it", []string{"plan", "fleet/fleet.yaml", "--endpoint", "sim", "--out", "plan.json"},
			exitOK, "fleet studio", "", "", []string{"plan.json", filepath.Join(".deskfleet", "sim.db")}},
		{"a saved plan where a spec is wanted is an error pointing at show and apply", []string{"plan", "plan.json", "--endpoint", "sim"},
			exitError, "", "deskfleet show plan.json", "", nil},
		{"a positional that does not exist is a spec that cannot be read, not the current folder", []string{"validate", "nosuch"},
			exitError, "nosuch", "", "", nil},
		{"drift reads a folder given as a positional", []string{"drift", "--endpoint", "sim", "fleet"},
			exitOK, "fleet studio", "", "", nil},
		{"apply takes a *.yaml positional as the spec and says so", []string{"apply", "fleet/fleet.yaml", "--endpoint", "sim", "--auto-approve"},
			exitOK, "Apply done", "fleet/fleet.yaml is a spec, not a saved plan", "", nil},
		{"apply takes a file that is not JSON as the spec, whatever its name", []string{"apply", "fleet/spec.noext", "--endpoint", "sim", "--auto-approve"},
			exitOK, "", "is a spec, not a saved plan", "", nil},
		{"apply still takes a saved plan (JSON) as PLANFILE; it is stale now, exit 7", []string{"apply", "plan.json", "--endpoint", "sim", "--auto-approve"},
			exitStalePlan, "", "", "is a spec", nil},
	}
	for _, tt := range tests {
		r := runBin(t, dir, fastSim, tt.args...)
		if r.code != tt.code || !strings.Contains(r.stdout+r.stderr, tt.stdout) || !strings.Contains(r.stderr, tt.stderr) ||
			(tt.notStderr != "" && strings.Contains(r.stderr, tt.notStderr)) {
			t.Errorf("%s: deskfleet %s: exit %d (want %d)\nstdout:\n%s\nstderr:\n%s\nwant %q in the output, %q in stderr",
				tt.reason, strings.Join(tt.args, " "), r.code, tt.code, r.stdout, r.stderr, tt.stdout, tt.stderr)
		}
		for _, f := range tt.afterFiles {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("%s: %v", tt.reason, err)
			}
		}
	}
}

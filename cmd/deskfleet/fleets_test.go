package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIReadmeFleets keeps README.md's many-fleets example true: applying examples/two-fleets to an
// empty emulated cloud prints the table the README shows (each of its lines that is not "..."), in
// order, and a plan again has no changes.
func TestCLIReadmeFleets(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const start, end = "$ deskfleet apply -f examples/two-fleets --auto-approve\n", "$ deskfleet plan -f examples/two-fleets"
	s := string(readme)
	i := strings.Index(s, start)
	j := strings.Index(s[max(i, 0):], end)
	if i < 0 || j < 0 {
		t.Fatalf("README.md lacks the many-fleets example %q", start)
	}
	dir := t.TempDir()
	for _, f := range []string{"course/fleet.yaml", "design/fleet.yaml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "examples", "two-fleets", f))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, "examples", "two-fleets", f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := runBin(t, dir, fastSim, "apply", "-f", "examples/two-fleets", "--auto-approve", "--endpoint", "sim")
	out := r.stdout
	for _, line := range strings.Split(strings.TrimSpace(s[i+len(start):i+j]), "\n") {
		if line == "..." {
			continue
		}
		k := strings.Index(out, line+"\n")
		if k < 0 {
			t.Fatalf("README's many-fleets example is stale (exit %d): %q is not printed (in order).\nstdout:\n%s\nstderr:\n%s", r.code, line, r.stdout, r.stderr)
		}
		out = out[k+len(line):]
	}
	if r.code != 0 {
		t.Errorf("apply exited %d", r.code)
	}
	again := runBin(t, dir, fastSim, "plan", "examples/two-fleets", "--detailed-exitcode", "--endpoint", "sim")
	if again.code != 0 || strings.Count(again.stdout, "no changes\n") != 2 {
		t.Errorf("plan again: no changes in either fleet, exit 0; got exit %d\n%s%s", again.code, again.stdout, again.stderr)
	}
}

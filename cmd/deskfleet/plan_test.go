package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCLIPlanExamples plans every example against the emulator (a separate process, signatures on):
// each plans without error, and planning makes no mutating call.
func TestCLIPlanExamples(t *testing.T) {
	const secret = "CANARY-plan-secret-77ab"
	examples, err := filepath.Glob(filepath.Join("..", "..", "examples", "*", "fleet.yaml"))
	if err != nil || len(examples) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	url, stop := startSimServe(t, "--key", "demo:"+secret)
	env := []string{"CDS_SECRET_ID=demo", "CDS_SECRET_KEY=" + secret}
	for _, ex := range examples {
		abs, _ := filepath.Abs(ex)
		r := runBin(t, t.TempDir(), env, "plan", "--endpoint", url, "-f", abs, "--detailed-exitcode")
		if r.code != exitChanges || !strings.Contains(r.stdout, "Plan: ") || !strings.Contains(r.stdout, "to create") {
			t.Errorf("%s: exit %d (want 2: changes), stdout:\n%s\nstderr:\n%s", ex, r.code, r.stdout, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("%s: the secret appears in the output", ex)
		}
	}
	final := stop()
	if !regexp.MustCompile(`calls served: \d+ \(mutating: 0\)`).MatchString(final) {
		t.Errorf("planning must not mutate; the emulator says:\n%s", final)
	}
}

// TestCLIPlan covers plan's flags and exit codes on the in-process emulator.
func TestCLIPlan(t *testing.T) {
	dir := t.TempDir()
	spec := `version: 1
fleet: cli
defaults: {site: 宿迁A}
profiles:
  win: {product: {gpu: NVIDIA A5000, os: windows}, image: Windows10-公共镜像-图像处理型}
desktops:
  - {name: render, count: 2, profile: win, label: team-a}
  - {name: edit, profile: win}
`
	if err := os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, reason string
		args         []string
		wantCode     int
		wantOut      []string
		wantErr      []string
	}{
		{name: "text", reason: "a plan is printed and exits 0 without --detailed-exitcode",
			args: []string{"plan", "--endpoint", "sim"}, wantCode: 0,
			wantOut: []string{"deskfleet plan · fleet cli", "+ render, render_001", "CreateVm num=2", "Plan: 3 to create."}},
		{name: "detailed", reason: "--detailed-exitcode exits 2 when there are changes",
			args: []string{"plan", "--endpoint", "sim", "--detailed-exitcode"}, wantCode: exitChanges},
		{name: "markdown", reason: "markdown is a pull-request comment with its marker",
			args: []string{"plan", "--endpoint", "sim", "--format", "markdown"}, wantCode: 0,
			wantOut: []string{"### deskfleet · cli: 3 to create", "<!-- deskfleet-plan:cli -->"}},
		{name: "target", reason: "--target limits the plan to matching desktops",
			args: []string{"plan", "--endpoint", "sim", "--target", "edit"}, wantCode: 0,
			wantOut: []string{"+ edit", "Plan: 1 to create."}},
		{name: "bad format", reason: "an unknown --format is an error naming the choices",
			args: []string{"plan", "--endpoint", "sim", "--format", "yaml"}, wantCode: exitError,
			wantErr: []string{"--format \"yaml\": want text, markdown or json"}},
		{name: "no credentials", reason: "a real endpoint without credentials says which variables to set",
			args: []string{"plan"}, wantCode: exitError, wantErr: []string{"CDS_SECRET_ID", "CDS_SECRET_KEY"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runBin(t, dir, nil, tc.args...)
			if r.code != tc.wantCode {
				t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tc.reason, r.code, tc.wantCode, r.stdout, r.stderr)
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("%s: stdout lacks %q:\n%s", tc.reason, w, r.stdout)
				}
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("%s: stderr lacks %q:\n%s", tc.reason, w, r.stderr)
				}
			}
		})
	}

	// --out saves the plan as JSON, mode 0600, and --format json prints the same document.
	out := filepath.Join(dir, "plan.json")
	r := runBin(t, dir, nil, "plan", "--endpoint", "sim", "--format", "json", "--out", out)
	if r.code != 0 {
		t.Fatalf("plan --out: exit %d: %s", r.code, r.stderr)
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("plan file mode %v, want 0600", fi.Mode().Perm())
	}
	var doc struct {
		FormatVersion int               `json:"format_version"`
		Steps         []json.RawMessage `json:"steps"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || doc.FormatVersion != 1 || len(doc.Steps) != 3 {
		t.Errorf("json plan: %v, format_version %d, %d steps (want 1, 3):\n%s", err, doc.FormatVersion, len(doc.Steps), r.stdout)
	}
}

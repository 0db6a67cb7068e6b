package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCLIValidateOnline runs `validate --online` as users do: on the in-process emulator (--endpoint
// sim, whose cloud lives in .deskfleet/sim.db of the working folder) and on `sim serve` over HTTP.
func TestCLIValidateOnline(t *testing.T) {
	dir := t.TempDir()
	examples, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	studio, err := os.ReadFile(filepath.Join(examples, "studio", "fleet.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The studio example with its default site misspelt: valid offline, wrong online.
	bad := strings.Replace(string(studio), "site: 宿迁A", "site: 宿迁C", 1)
	if bad == string(studio) {
		t.Fatal("the studio example no longer sets site: 宿迁A under defaults; update this test")
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		reason   string
		args     []string
		wantCode int
		wantOut  []string
	}{
		{
			reason:   "offline the misspelt site cannot be caught: the spec is valid",
			args:     []string{"validate", "-f", "bad.yaml"},
			wantCode: exitOK,
			wantOut:  []string{"fleet studio is valid"},
		},
		{
			reason:   "online the unknown site is caught at its file:line:col, with the sites as a hint",
			args:     []string{"validate", "-f", "bad.yaml", "--online", "--endpoint", "sim"},
			wantCode: exitError,
			wantOut: []string{"names resolved online against sim:.deskfleet/sim.db\n",
				"bad.yaml:8:9: no site 宿迁C · hint: sites: 宿迁A, 宿迁B, 襄阳A\n", "1 error, 0 warnings in 1 file\n"},
		},
		{
			reason:   "the studio example resolves online",
			args:     []string{"validate", "-f", filepath.Join(examples, "studio"), "--online", "--endpoint", "sim"},
			wantCode: exitOK,
			wantOut:  []string{"0 errors, 0 warnings in 1 file: fleet studio is valid (6 desktops, 5 accounts)"},
		},
		{
			reason:   "the render farm example resolves online (宿迁B's default net gets its 移动 gateway from SupplyDefaultNet)",
			args:     []string{"validate", "-f", filepath.Join(examples, "render-farm"), "--online", "--endpoint", "sim"},
			wantCode: exitOK,
			wantOut:  []string{"fleet render-farm is valid (40 desktops, 0 accounts)"},
		},
		{
			reason:   "the classroom example resolves online (襄阳A has no default net yet: a plan creates it)",
			args:     []string{"validate", "-f", filepath.Join(examples, "classroom"), "--online", "--endpoint", "sim"},
			wantCode: exitOK,
			wantOut:  []string{"fleet classroom-3d-2026 is valid (13 desktops, 13 accounts)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			r := runBin(t, dir, nil, tt.args...)
			if r.code != tt.wantCode {
				t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tt.reason, r.code, tt.wantCode, r.stdout, r.stderr)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("%s: stdout lacks %q:\n%s", tt.reason, w, r.stdout)
				}
			}
			if r.stderr != "" {
				t.Errorf("%s: want nothing on stderr, got %q", tt.reason, r.stderr)
			}
		})
	}
}

// TestCLIValidateOnlineReadsOnly validates the examples online against `sim serve` and checks, from
// the counts it prints when stopped, that no mutating call was made and that desktops were not read.
func TestCLIValidateOnlineReadsOnly(t *testing.T) {
	const secret = "validate-online-secret"
	dir := t.TempDir()
	url, stop := startSimServe(t, "--key", "demo:"+secret, "--data", filepath.Join(dir, "cloud.json"))
	env := []string{"CDS_SECRET_ID=demo", "CDS_SECRET_KEY=" + secret}
	for _, ex := range []string{"studio", "render-farm", "classroom"} {
		path, err := filepath.Abs(filepath.Join("..", "..", "examples", ex))
		if err != nil {
			t.Fatal(err)
		}
		r := runBin(t, dir, env, "validate", "-f", path, "--online", "--endpoint", url)
		if r.code != exitOK || !strings.Contains(r.stdout, "names resolved online against "+url) {
			t.Errorf("example %s online: exit %d\nstdout:\n%s\nstderr:\n%s", ex, r.code, r.stdout, r.stderr)
		}
	}
	final := stop()
	if !strings.Contains(final, "(mutating: 0)") {
		t.Errorf("validate --online must make no mutating call:\n%s", final)
	}
	for _, action := range []string{"QueryVms", "QueryVm", "QueryExpireVms"} {
		if regexp.MustCompile(`(?m)^\s*` + action + `\s+\d+`).MatchString(final) {
			t.Errorf("validate --online needs no desktop, yet %s was called:\n%s", action, final)
		}
	}
	if !regexp.MustCompile(`QuerySites\s+3\n`).MatchString(final) {
		t.Errorf("want one QuerySites per validation (3), got:\n%s", final)
	}
}

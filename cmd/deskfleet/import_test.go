package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider/sim"
	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/bolt"
)

// TestCLIImport: the spec import writes is valid, and planned against the same cloud it shows only
// adoptions; the flags and exit codes of import.
func TestCLIImport(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "cloud.json")
	seedCloud(t, data, []sim.Account{
		{ID: "acct-alice", Email: "alice@example.com", Name: "alice", Remark: "设计部", Status: "create"},
		{ID: "acct-idle", Email: "idle@example.com", Name: "idle", Status: "create"},
	},
		sim.Desktop{Name: "render", Label: "team-a", AccountID: "acct-alice"},
		sim.Desktop{Name: "render_001", Label: "team-a"},
		sim.Desktop{Name: "render_002", Label: "team-a"},
		sim.Desktop{Name: "cad", Qos: 10, SiteID: sim.SiteSuqianB},
		sim.Desktop{Name: "lin", ProductID: sim.ProductA5000Linux, ImageID: sim.ImageUbuntu, Monthly: true},
	)
	api := []string{"--endpoint", "sim:" + data, "--state", filepath.Join(dir, "state.db")}

	r := runBin(t, dir, nil, append([]string{"import", "--fleet", "studio"}, api...)...)
	if r.code != 0 {
		t.Fatalf("import: exit %d\n%s", r.code, r.stderr)
	}
	for _, w := range []string{"fleet: studio\n", "  - name: render\n    count: 3\n", "bindings:\n  render: alice@example.com\n",
		"remark: 设计部", "billing: monthly\n", "site: 宿迁B\n"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("the spec lacks %q:\n%s", w, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "idle@example.com") {
		t.Errorf("an account bound to no imported desktop is in the spec:\n%s", r.stdout)
	}
	if err := os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	if v := runBin(t, dir, nil, "validate", "-f", "fleet.yaml"); v.code != 0 {
		t.Fatalf("the imported spec does not validate: exit %d\n%s%s", v.code, v.stdout, v.stderr)
	}
	if v := runBin(t, dir, nil, append([]string{"validate", "--online", "-f", "fleet.yaml"}, api[:2]...)...); v.code != 0 {
		t.Fatalf("the imported spec does not validate online: exit %d\n%s%s", v.code, v.stdout, v.stderr)
	}
	p := runBin(t, dir, nil, append([]string{"plan", "-f", "fleet.yaml"}, api[:2]...)...)
	if p.code != 0 {
		t.Fatalf("plan of the imported spec: exit %d\n%s%s", p.code, p.stdout, p.stderr)
	}
	if m := regexp.MustCompile(`(?m)^Plan: (.*)$`).FindStringSubmatch(p.stdout); m == nil || m[1] != "6 to adopt." {
		t.Errorf("the plan of the imported spec must only adopt (5 desktops, 1 account):\n%s", p.stdout)
	}

	tests := []struct {
		name, reason string
		args         []string
		wantCode     int
		wantOut      []string
		notOut       []string
		wantErr      []string
	}{
		{name: "fleet required", reason: "--fleet names the spec's fleet and is required",
			args: []string{"import"}, wantCode: exitError, wantErr: []string{"fleet"}},
		{name: "site", reason: "--site keeps one site's desktops",
			args: []string{"import", "--fleet", "f", "--site", "宿迁B"}, wantCode: 0,
			wantOut: []string{"name: cad"}, notOut: []string{"name: render"}},
		{name: "unknown site", reason: "an unknown site is an error naming the sites",
			args: []string{"import", "--fleet", "f", "--site", "nowhere"}, wantCode: exitError, wantErr: []string{"宿迁A"}},
		{name: "label", reason: "--label keeps the desktops with that label; the accounts follow the desktops",
			args: []string{"import", "--fleet", "f", "--label", "team-a"}, wantCode: 0,
			wantOut: []string{"count: 3", "alice@example.com"}, notOut: []string{"name: cad", "name: lin"}},
		{name: "prefix", reason: "--name-prefix keeps the names starting with it",
			args: []string{"import", "--fleet", "f", "--name-prefix", "li"}, wantCode: 0,
			wantOut: []string{"name: lin"}, notOut: []string{"name: render", "accounts:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runBin(t, dir, nil, append(tc.args, api...)...)
			if r.code != tc.wantCode {
				t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tc.reason, r.code, tc.wantCode, r.stdout, r.stderr)
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("%s: stdout lacks %q:\n%s", tc.reason, w, r.stdout)
				}
			}
			for _, w := range tc.notOut {
				if strings.Contains(r.stdout, w) {
					t.Errorf("%s: stdout holds %q:\n%s", tc.reason, w, r.stdout)
				}
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("%s: stderr lacks %q:\n%s", tc.reason, w, r.stderr)
				}
			}
		})
	}
}

// TestCLIImportAdoptLocked: --adopt takes the fleet's lock; when another run holds it, import exits 4
// naming the holder, and writes no spec.
func TestCLIImportAdoptLocked(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "cloud.json")
	seedCloud(t, data, nil, sim.Desktop{Name: "render"})
	statePath := filepath.Join(dir, "state.db")
	holdLock(t, statePath, "f")
	r := runBin(t, dir, nil, "import", "--fleet", "f", "--adopt", "--endpoint", "sim:"+data, "--state", statePath)
	if r.code != exitLockHeld || !strings.Contains(r.stderr, "locked by") || !strings.Contains(r.stderr, "holder-test") {
		t.Fatalf("exit %d (want 4), stderr %q", r.code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("a failed adoption writes no spec; stdout:\n%s", r.stdout)
	}
}

// holdLock takes the fleet's lock in the state file as another run would, until the test ends.
func holdLock(t *testing.T, statePath, fleet string) {
	t.Helper()
	st, err := bolt.Open(statePath, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	l, err := st.Lock(ctx, fleet, state.Holder{User: "ana", Host: "build-7", PID: os.Getpid(), Command: "holder-test",
		Since: time.Now()}, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		st.Unlock(ctx, l)
		st.Close()
	})
}

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider/sim"
)

// seedCloud writes an emulated cloud to dataFile with the given desktops (at 宿迁A on its default
// network, A5000 windows, Windows 10, 5 Mbps, running, unless set) and accounts; it returns the
// desktops' ids by name.
func seedCloud(t *testing.T, dataFile string, accounts []sim.Account, desks ...sim.Desktop) map[string]string {
	t.Helper()
	s, err := sim.New(sim.Options{DataFile: dataFile})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, a := range accounts {
		if _, err := s.AddAccount(a); err != nil {
			t.Fatal(err)
		}
	}
	ids := map[string]string{}
	for _, d := range desks {
		if d.SiteID == "" {
			d.SiteID = sim.SiteSuqianA
		}
		if d.ProductID == "" {
			d.ProductID = sim.ProductA5000Win
		}
		if d.ImageID == "" {
			d.ImageID = sim.ImageWin10
		}
		if d.Qos == 0 {
			d.Qos = 5
		}
		if d.Status == "" {
			d.Status = "using"
		}
		if net, ok := s.DefaultNet(d.SiteID); ok && d.VPCID == "" {
			d.VPCID = net.ID
			if len(net.Subnets) > 0 {
				d.SubnetID = net.Subnets[0].ID
			}
		}
		id, err := s.AddDesktop(d)
		if err != nil {
			t.Fatal(err)
		}
		ids[d.Name] = id
	}
	return ids
}

// console changes the emulated cloud as a person in the console would.
func console(t *testing.T, dataFile string, f func(s *sim.Sim) error) {
	t.Helper()
	s, err := sim.New(sim.Options{DataFile: dataFile})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := f(s); err != nil {
		t.Fatal(err)
	}
}

// TestCLIDrift: import --adopt a fleet from the emulator (a separate process, signatures on), then drift
// exits 0 while the cloud matches and 6 once a label is changed in the console; drift never mutates.
func TestCLIDrift(t *testing.T) {
	const secret = "CANARY-drift-secret-5c1e"
	dir := t.TempDir()
	data := filepath.Join(dir, "cloud.json")
	ids := seedCloud(t, data, []sim.Account{{ID: "acct-alice", Email: "alice@example.com", Name: "alice", Status: "create"}},
		sim.Desktop{Name: "render", Label: "team-a", AccountID: "acct-alice"},
		sim.Desktop{Name: "render_001", Label: "team-a"},
		sim.Desktop{Name: "legacy", Status: "error"},
		sim.Desktop{Name: "lead", Monthly: true, ExpireTime: time.Now().Add(72 * time.Hour)},
	)
	url, stop := startSimServe(t, "--key", "demo:"+secret, "--data", data)
	env := []string{"CDS_SECRET_ID=demo", "CDS_SECRET_KEY=" + secret}
	api := []string{"--endpoint", url, "--state", filepath.Join(dir, "state.db")}

	r := runBin(t, dir, env, append([]string{"import", "--fleet", "cli", "--name-prefix", "render", "--adopt"}, api...)...)
	if r.code != 0 {
		t.Fatalf("import --adopt: exit %d\n%s", r.code, r.stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, reason string
		before       func()
		args         []string
		wantCode     int
		wantOut      []string
		wantErr      []string
	}{
		{name: "plan after adopt", reason: "the imported spec, recorded by --adopt, plans to nothing",
			args: []string{"plan", "--detailed-exitcode"}, wantCode: 0, wantOut: []string{"No changes"}},
		{name: "clean", reason: "right after import --adopt the managed desktops match; unmanaged ones do not count",
			args: []string{"drift"}, wantCode: 0,
			wantOut: []string{"deskfleet drift · fleet cli · 2 desktops, 1 account", "Not managed (2): lead, legacy (status error)",
				"Expiring within 7d (1): lead (not managed, monthly, expires", "No drift: the live fleet matches the spec."}},
		{name: "window", reason: "--expiring-within takes days and Go durations; a shorter window leaves lead out",
			args: []string{"drift", "--expiring-within", "24h"}, wantCode: 0},
		{name: "bad window", reason: "a bad --expiring-within is an error that says what is accepted",
			args: []string{"drift", "--expiring-within", "soon"}, wantCode: exitError, wantErr: []string{"use a Go duration like 36h or days like 7d"}},
		{name: "bad format", reason: "an unknown --format names the choices",
			args: []string{"drift", "--format", "yaml"}, wantCode: exitError, wantErr: []string{"want text, markdown or json"}},
		{name: "label drift", reason: "a label changed in the console is drift: exit 6 and the line says want and live",
			before: func() {
				console(t, data, func(s *sim.Sim) error { return s.ConsoleSetLabel(ids["render_001"], "tmp") })
			},
			args: []string{"drift"}, wantCode: exitDrift,
			wantOut: []string{"Drifted (1)", `render_001  label  want "team-a"  live "tmp"`, "exit 6: drift found"}},
		{name: "markdown", reason: "the issue body carries the marker",
			args: []string{"drift", "--format", "markdown"}, wantCode: exitDrift, wantOut: []string{"<!-- deskfleet-drift:cli -->"}},
		{name: "json", reason: "the JSON form is versioned and lists the item",
			args: []string{"drift", "--format", "json"}, wantCode: exitDrift, wantOut: []string{`"format_version": 1`, `"attribute": "label"`}},
		{name: "deleted", reason: "a managed desktop deleted in the console is drift",
			before: func() {
				console(t, data, func(s *sim.Sim) error { return s.ConsoleDelete(ids["render"]) })
			},
			args: []string{"drift"}, wantCode: exitDrift, wantOut: []string{"render      deleted  want exists"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before()
			}
			r := runBin(t, dir, env, append(tc.args, api...)...)
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
			if tc.name == "json" {
				var doc map[string]any
				if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
					t.Errorf("json output does not parse: %v", err)
				}
			}
		})
	}
	// import --adopt wrote the state; drift only read: the emulator served no mutating call (the
	// console changes above go through the data file, not the API).
	final := stop()
	if !regexp.MustCompile(`calls served: \d+ \(mutating: 0\)`).MatchString(final) {
		t.Errorf("import and drift must not mutate; the emulator says:\n%s", final)
	}
}

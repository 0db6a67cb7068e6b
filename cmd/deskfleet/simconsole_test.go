package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/deskfleet/deskfleet/provider/sim"
)

// TestCLISimConsole makes each out-of-band change with `deskfleet sim ...` on a data file and reads the
// result back from the emulator.
func TestCLISimConsole(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, ".deskfleet", "sim.db")
	simConsole(t, dir, func(s *sim.Sim) {
		must(t, addDesktop(s, "ws"))
		_, err := s.AddAccount(sim.Account{Email: "bob@example.com", Name: "bob"})
		must(t, err)
	})
	cases := []struct {
		reason   string
		args     []string
		wantCode int
		check    func(d sim.Desktop, s *sim.Sim) bool
	}{
		{"label sets the label", []string{"label", "ws", "tmp"}, 0, func(d sim.Desktop, _ *sim.Sim) bool { return d.Label == "tmp" }},
		{"power off stops it", []string{"power", "ws", "off"}, 0, func(d sim.Desktop, _ *sim.Sim) bool { return d.Status == sim.StatusStopped }},
		{"power takes on or off only", []string{"power", "ws", "maybe"}, 1, nil},
		{"bind binds to the account", []string{"bind", "ws", "bob@example.com"}, 0, func(d sim.Desktop, s *sim.Sim) bool {
			a, _ := s.AccountByEmail("bob@example.com")
			return d.AccountID == a.ID
		}},
		{"bind - unbinds", []string{"bind", "ws", "-"}, 0, func(d sim.Desktop, _ *sim.Sim) bool { return d.AccountID == "" }},
		{"an unknown desktop is an error", []string{"label", "nope", "x"}, 1, nil},
		{"rename renames (the checks below use the new name)", []string{"rename", "ws", "ws2"}, 0, nil},
		{"delete deletes", []string{"delete", "ws2"}, 0, nil},
	}
	for _, tc := range cases {
		r := runBin(t, dir, nil, append([]string{"sim"}, append(tc.args, "--data", data)...)...)
		if r.code != tc.wantCode {
			t.Fatalf("%s: exit %d, want %d: %s", tc.reason, r.code, tc.wantCode, r.stderr)
		}
		if tc.check == nil {
			continue
		}
		simConsole(t, dir, func(s *sim.Sim) {
			d, ok := s.DesktopByName("ws")
			if !ok || !tc.check(d, s) {
				t.Errorf("%s: the emulator holds %+v", tc.reason, d)
			}
		})
	}
	simConsole(t, dir, func(s *sim.Sim) {
		for _, d := range s.Desktops() {
			if strings.HasPrefix(d.Name, "ws") && d.Status != "deleted" {
				t.Errorf("after rename and delete, %s is still there (%s)", d.Name, d.Status)
			}
		}
	})
}

func addDesktop(s *sim.Sim, name string) error {
	_, err := s.AddDesktop(sim.Desktop{Name: name, SiteID: sim.SiteSuqianA, ProductID: sim.ProductA5000Win,
		ImageID: sim.ImageWin10, Qos: 5})
	return err
}

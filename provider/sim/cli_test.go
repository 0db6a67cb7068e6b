package sim

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestFaultsAt(t *testing.T) {
	cases := []struct {
		reason  string
		rate    float64
		wantErr bool
	}{
		{"no faults: every rate zero", 0, false},
		{"the measured scenario's 12%", 0.12, false},
		{"every request faulted", 1, false},
		{"a negative rate is no fraction", -0.01, true},
		{"above one is no fraction", 1.5, true},
	}
	for _, c := range cases {
		f, err := FaultsAt(c.rate)
		if (err != nil) != c.wantErr {
			t.Errorf("%s: FaultsAt(%v) error %v, want error %v", c.reason, c.rate, err, c.wantErr)
			continue
		}
		if c.wantErr {
			continue
		}
		// The request-level kinds add up to the rate; failed tasks and accounts are drawn apart.
		if sum := f.HTTP5xx + f.Throttle + f.DropBefore + f.DropAfter + f.TaskFailed; abs(sum-c.rate) > 1e-12 {
			t.Errorf("%s: the kinds add up to %v, want %v", c.reason, sum, c.rate)
		}
		if f.DropBefore != f.DropAfter || f.AccountFailed != f.TaskFailed || abs(f.HTTP5xx-c.rate*5/12) > 1e-12 {
			t.Errorf("%s: mix %+v is not 5:3:1:1:2 with accounts failing as tasks do", c.reason, f)
		}
	}
}

func abs(v float64) float64 { return max(v, -v) }

func TestParseKeys(t *testing.T) {
	cases := []struct {
		reason string
		in     []string
		want   map[string]string
	}{
		{"none: unsigned requests pass", nil, map[string]string{}},
		{"two keys", []string{"a:x", "b:y"}, map[string]string{"a": "x", "b": "y"}},
		{"a secret may hold a colon", []string{"a:x:y"}, map[string]string{"a": "x:y"}},
		{"no colon", []string{"secretvalue"}, nil},
		{"empty id", []string{":secretvalue"}, nil},
		{"empty secret", []string{"id:"}, nil},
	}
	for _, c := range cases {
		got, err := ParseKeys(c.in)
		if c.want == nil {
			if err == nil || strings.Contains(err.Error(), "secretvalue") {
				t.Errorf("%s: error %v, want one that hides the value", c.reason, err)
			}
			continue
		}
		if err != nil || len(got) != len(c.want) {
			t.Errorf("%s: %v, %v; want %v", c.reason, got, err, c.want)
		}
		for k, v := range c.want {
			if got[k] != v {
				t.Errorf("%s: key %s = %q, want %q", c.reason, k, got[k], v)
			}
		}
	}
}

func TestConsoleActions(t *testing.T) {
	if _, err := OpenConsole(filepath.Join(t.TempDir(), "none.json")); !errors.Is(err, ErrNoCloud) {
		t.Errorf("OpenConsole of a missing file: %v, want ErrNoCloud", err)
	}
	file := filepath.Join(t.TempDir(), "cloud.json")
	made, err := New(Options{DataFile: file})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := made.AddDesktop(Desktop{Name: "d1", SiteID: SiteSuqianA, ProductID: ProductA5000Win,
		VPCID: VPCDefaultSuqianA, Status: "running"}); err != nil {
		t.Fatal(err)
	}
	made.Close()
	s, err := OpenConsole(file)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	actions := map[string]ConsoleAction{}
	for _, a := range ConsoleActions() {
		actions[a.Name] = a
	}
	cases := []struct {
		reason, action string
		args           []string // the desktop's name first
		wantErr        bool
		check          func(d Desktop, ok bool) bool
	}{
		{"label sets the label", "label", []string{"d1", "tmp"}, false, func(d Desktop, _ bool) bool { return d.Label == "tmp" }},
		{"power off stops it", "power", []string{"d1", "off"}, false, func(d Desktop, _ bool) bool { return d.Status == "stop" }},
		{"power takes on or off only", "power", []string{"d1", "down"}, true, nil},
		{"bind by email", "bind", []string{"d1", "17716313367@163.com"}, false,
			func(d Desktop, _ bool) bool { return d.AccountID == "7e7ba91e-4357-470a-9609-ce60d9d7e38f" }},
		{"- unbinds", "bind", []string{"d1", "-"}, false, func(d Desktop, _ bool) bool { return d.AccountID == "" }},
		{"an unknown email is an error", "bind", []string{"d1", "nobody@example.com"}, true, nil},
		{"rename renames", "rename", []string{"d1", "d2"}, false, func(d Desktop, ok bool) bool { return ok && d.Name == "d2" }},
		{"delete removes it", "delete", []string{"d2"}, false, func(_ Desktop, ok bool) bool { return !ok }},
	}
	for _, c := range cases {
		a := actions[c.action]
		if a.NArgs() != len(c.args) {
			t.Fatalf("%s: %s takes %d args (%q), the case gives %d", c.reason, a.Name, a.NArgs(), a.Args, len(c.args))
		}
		d, ok := s.DesktopByName(c.args[0])
		if !ok {
			t.Fatalf("%s: no desktop %s", c.reason, c.args[0])
		}
		err := a.Do(s, d, c.args[1:])
		if (err != nil) != c.wantErr {
			t.Errorf("%s: error %v, want error %v", c.reason, err, c.wantErr)
		}
		if c.check != nil {
			after, ok := s.Desktop(d.ID)
			if !c.check(after, ok) {
				t.Errorf("%s: desktop after: %+v (exists %v)", c.reason, after, ok)
			}
		}
	}
}

package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/state"
)

func TestCreationNaming(t *testing.T) {
	cases := []struct {
		reason    string
		group     string
		names     []string
		wantBase  string
		wantHost  int
		wantFixes int // names CreateVm gets wrong, renamed after
	}{
		{"a single desktop is named exactly", "edit", []string{"edit"}, "edit", 0, 0},
		{"a whole new group is the API's own sequence", "r", []string{"r", "r_001", "r_002"}, "r", 0, 0},
		{"the first desktop and a later run use hostNo", "r", []string{"r", "r_003", "r_004"}, "r", 3, 0},
		{"a run without the first desktop cannot be named by CreateVm: renames", "r", []string{"r_003", "r_004"}, "r_003", 0, 1},
		{"a gap in the run: base name, renames for the rest", "r", []string{"r", "r_001", "r_003"}, "r", 0, 1},
		{"desktops of another group's naming: renames", "r", []string{"r", "x"}, "r", 0, 1},
	}
	for _, c := range cases {
		base, host := creationNaming(c.group, c.names)
		op := CreateDesktops{Names: c.names, BaseName: base, HostNo: host}
		fixes := 0
		for i, n := range op.APINames() {
			if n != c.names[i] {
				fixes++
			}
		}
		if base != c.wantBase || host != c.wantHost || fixes != c.wantFixes {
			t.Errorf("%s: creationNaming(%q, %v) = %q, %d with %d renames (%v); want %q, %d with %d",
				c.reason, c.group, c.names, base, host, fixes, strings.Join(op.APINames(), ","), c.wantBase, c.wantHost, c.wantFixes)
		}
	}
}

func TestGroupIndex(t *testing.T) {
	cases := []struct {
		reason      string
		group, name string
		want        int
		ok          bool
	}{
		{"the group's name is index 0", "r", "r", 0, true},
		{"three digits after an underscore", "r", "r_012", 12, true},
		{"four digits are the API's naming past 999", "r", "r_1000", 1000, true},
		{"two digits are not the API's naming", "r", "r_12", 0, false},
		{"zero is not a desktop index", "r", "r_000", 0, false},
		{"another prefix", "r", "rx_001", 0, false},
	}
	for _, c := range cases {
		got, ok := groupIndex(c.group, c.name)
		if got != c.want || ok != c.ok {
			t.Errorf("%s: groupIndex(%q, %q) = %d, %v; want %d, %v", c.reason, c.group, c.name, got, ok, c.want, c.ok)
		}
	}
}

func TestMassDeleteLimit(t *testing.T) {
	// One of two managed desktops is removed from the spec: a 50% deletion.
	d := &Desired{Fleet: "f", Desktops: []DesiredDesktop{{Name: "keep", Site: Site{ID: "s"},
		Product: provider.Product{ProductID: "p"}, Image: Image{ID: "i"}, Bandwidth: 5}}}
	live := []provider.Desktop{
		{ID: "vm-keep", Name: "keep", SiteID: "s", ProductID: "p", BandwidthMbps: 5, Status: provider.StatusRunning},
		{ID: "vm-x", Name: "x", SiteID: "s", ProductID: "p", BandwidthMbps: 5, Status: provider.StatusRunning},
	}
	rec := &state.Record{Fleet: "f", Desktops: map[string]state.Desktop{
		"vm-keep": {VmID: "vm-keep", Name: "keep", ImageID: "i"}, "vm-x": {VmID: "vm-x", Name: "x", ImageID: "i"}}}
	pct := func(n int) *int { return &n }
	cases := []struct {
		reason string
		limit  *int
		guard  bool
	}{
		{"the default (30%) is exceeded by a 50% deletion", nil, true},
		{"0% means any deletion needs --force", pct(0), true},
		{"a limit above the share allows it", pct(60), false},
		{"a negative limit disables the guard", pct(-1), false},
	}
	for _, c := range cases {
		p := Diff(d, provider.NewSnapshot(time.Time{}, live, nil, nil, nil), rec, Options{MaxDeletePercent: c.limit})
		got := false
		for _, g := range p.Guards {
			got = got || g.Guard == GuardMassDelete
		}
		if got != c.guard {
			t.Errorf("%s: mass-delete guard %v, want %v (guards %+v)", c.reason, got, c.guard, p.Guards)
		}
		if len(p.Steps) != 1 || p.Steps[0].Op.Kind() != KindDeleteDesktop {
			t.Errorf("%s: want one DeleteVm step, got %+v", c.reason, p.Steps)
		}
	}
}

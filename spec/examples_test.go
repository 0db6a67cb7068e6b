package spec

import (
	"path/filepath"
	"slices"
	"testing"
)

// TestExamples loads every example fleet: each must be valid with no warning, and must be the fleet it
// claims to be.
func TestExamples(t *testing.T) {
	files, _ := filepath.Glob("../examples/*/*.yaml")
	if len(files) < 3 {
		t.Fatalf("want at least three examples, found %v", files)
	}
	fleets := map[string]*Fleet{}
	for _, f := range files {
		fl, ds := Load(f)
		if len(ds) != 0 {
			t.Errorf("%s: want no diagnostics, got:\n%v", f, ds)
		}
		fleets[filepath.Base(filepath.Dir(f))] = fl
	}
	studio, farm, class := fleets["studio"], fleets["render-farm"], fleets["classroom"]
	if studio == nil || farm == nil || class == nil {
		t.Fatalf("missing one of examples/studio, examples/render-farm, examples/classroom: %v", files)
	}

	monthly, bound := 0, 0
	for _, d := range studio.Desktops {
		if d.Billing.Cycle == CycleMonth {
			monthly++
		}
		if _, ok := studio.Bindings.Account(d.Name); ok {
			bound++
		}
	}
	if monthly == 0 || !studio.Bindings.Set || bound != len(studio.Desktops) {
		t.Errorf("studio: want monthly desktops, all bound; got %d monthly, %d of %d bound", monthly, bound, len(studio.Desktops))
	}

	sites := map[string]int{}
	for _, d := range farm.Desktops {
		sites[d.Site]++
		if d.Billing.Cycle != CycleMinute || d.Power == nil || *d.Power != PowerOff {
			t.Errorf("render farm: %s must be per-minute and powered off", d.Name)
		}
	}
	if len(farm.Desktops) != 40 || len(sites) != 2 {
		t.Errorf("render farm: want 40 desktops in 2 sites, got %d in %v", len(farm.Desktops), sites)
	}

	perAccount := map[string]int{}
	for _, e := range class.Bindings.ByDesktop {
		perAccount[e]++
	}
	if len(class.Bindings.ByDesktop) != len(class.Desktops) || len(perAccount) != len(class.Desktops) {
		t.Errorf("classroom: want each desktop bound to its own account; %d desktops, %d bindings, %d accounts bound",
			len(class.Desktops), len(class.Bindings.ByDesktop), len(perAccount))
	}
}

// TestEnvironmentsExample loads examples/environments: the base alone, and staging and production,
// each extending it. Each is valid with no warning, names its own fleet, reads the base first, and
// gets from it what it does not override.
func TestEnvironmentsExample(t *testing.T) {
	dir := filepath.Join("..", "examples", "environments")
	load := func(env string) *Fleet {
		t.Helper()
		fl, ds := Load(filepath.Join(dir, env))
		if len(ds) != 0 {
			t.Errorf("%s: want no diagnostics, got:\n%v", env, ds)
		}
		return fl
	}
	base, staging, prod := load("base"), load("staging"), load("production")
	baseFile := filepath.Join(dir, "base", "fleet.yaml")
	tests := []struct {
		reason string
		fl     *Fleet
		name   string
		files  []string
		lab    int // desktops of the group lab
		bw     int // bandwidth of lab
		count  int // desktops
	}{
		{"the base is a fleet by itself", base, "course", []string{baseFile}, 4, 5, 5},
		{"staging shrinks lab, lowers the bandwidth and removes the teacher desktop", staging, "course-staging",
			[]string{baseFile, filepath.Join(dir, "staging", "fleet.yaml")}, 1, 2, 1},
		{"production grows lab and adds an assistant, keeping the base's bandwidth", prod, "course-production",
			[]string{baseFile, filepath.Join(dir, "production", "fleet.yaml")}, 8, 5, 10},
	}
	for _, tc := range tests {
		lab := 0
		for _, d := range tc.fl.Desktops {
			if d.Group == "lab" {
				lab++
				if d.Bandwidth != tc.bw {
					t.Errorf("%s: %s has bandwidth %d, want %d", tc.reason, d.Name, d.Bandwidth, tc.bw)
				}
			}
		}
		if tc.fl.Name != tc.name || lab != tc.lab || len(tc.fl.Desktops) != tc.count || !slices.Equal(tc.fl.Files, tc.files) {
			t.Errorf("%s: fleet %q, %d lab desktops of %d, files %v; want %q, %d of %d, %v",
				tc.reason, tc.fl.Name, lab, len(tc.fl.Desktops), tc.fl.Files, tc.name, tc.lab, tc.count, tc.files)
		}
	}
	for _, d := range prod.Desktops {
		if d.Group == "lab" && (!d.Protect || d.Billing.Name != "monthly" || d.Label == nil || *d.Label != "course") {
			t.Errorf("production: %s must be protected, monthly and labelled course (the base's label)", d.Name)
		}
	}
}

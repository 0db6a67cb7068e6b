package spec

import (
	"path/filepath"
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

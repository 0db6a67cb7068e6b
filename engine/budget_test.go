package engine

import (
	"testing"

	"github.com/deskfleet/deskfleet/spec"
)

// TestBudgetLines: each budget is judged against its row of the fleet's cost; a plan blocks only
// when it takes a budget over (or further over).
func TestBudgetLines(t *testing.T) {
	row := func(key string, now, after float64) CostRow {
		return CostRow{Key: key, Now: CostTotal{Month: now}, Projected: CostTotal{Month: after}}
	}
	fc := &FleetCost{Total: row("", 900, 1200), Groups: []CostRow{row("render", 500, 400)},
		Labels: []CostRow{row("team-a", 100, 300)}}
	monthly := 1000.0
	b := &spec.Budget{Monthly: &monthly, Groups: map[string]float64{"render": 450, "gone": 10},
		Labels: map[string]float64{"team-a": 500}}
	cases := []struct {
		scope, name  string
		now, after   float64
		over, blocks bool
		reason       string
	}{
		{"fleet", "", 900, 1200, true, true, "the plan takes the fleet from 900 to 1,200, over its 1,000"},
		{"group", "gone", 0, 0, false, false, "a group with no desktops costs nothing"},
		{"group", "render", 500, 400, false, false, "the plan brings render down to 400, under its 450"},
		{"label", "team-a", 100, 300, false, false, "team-a rises to 300, within its 500"},
	}
	got := budgetLines(b, fc)
	if len(got) != len(cases) {
		t.Fatalf("%d lines, want %d: %+v", len(got), len(cases), got)
	}
	for i, tc := range cases {
		g := got[i]
		if g.Scope != tc.scope || g.Name != tc.name || g.Now != tc.now || g.After != tc.after || g.Over != tc.over || g.Blocks != tc.blocks {
			t.Errorf("%s: got %+v", tc.reason, g)
		}
	}
	over := budgetLines(&spec.Budget{Groups: map[string]float64{"render": 300}}, fc)
	if !over[0].Over || over[0].Blocks {
		t.Errorf("a budget already over that the plan lowers is over but does not block: %+v", over[0])
	}
}

// TestAddsCost: only a change that adds to the bill can be refused for a budget.
func TestAddsCost(t *testing.T) {
	cases := []struct {
		c      Change
		want   bool
		reason string
	}{
		{Change{Action: ActionCreate, Attribute: AttrCreate}, true, "a creation"},
		{Change{Action: ActionReplace, Attribute: AttrReplace}, true, "a replacement"},
		{Change{Action: ActionUpdate, Attribute: AttrBilling}, true, "a change of billing"},
		{Change{Action: ActionUpdate, Attribute: AttrPower, After: "on"}, true, "a desktop the spec wants on"},
		{Change{Action: ActionUpdate, Attribute: AttrPower, After: "on", Reason: "schedule Mon-Fri 08:30-19:00"}, false,
			"the schedule turning it on: the projection already counts its hours"},
		{Change{Action: ActionUpdate, Attribute: AttrPower, After: "off"}, false, "powering off saves"},
		{Change{Action: ActionUpdate, Attribute: AttrLabel, After: "x"}, false, "a label costs nothing"},
	}
	for _, tc := range cases {
		if got := addsCost(&Plan{Changes: []Change{tc.c}}); got != tc.want {
			t.Errorf("%s: addsCost = %v", tc.reason, got)
		}
	}
}

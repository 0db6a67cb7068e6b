package engine

import (
	"slices"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/schedule"
)

// TestPowerOnly: a power-only plan keeps the spec's power on desktops that exist, and nothing else.
func TestPowerOnly(t *testing.T) {
	p := &Plan{
		Changes: []Change{
			{Name: "a", Action: ActionUpdate, Attribute: AttrPower, Steps: []int{3}},
			{Name: "b", Action: ActionUpdate, Attribute: AttrLabel, Steps: []int{2}},
			{Name: "c", Action: ActionUpdate, Attribute: AttrPower, Reason: reasonNeedsStop, Steps: []int{4}},
			{Name: "n", Action: ActionCreate, Attribute: AttrCreate, Steps: []int{1}},
		},
		Steps: []Step{
			{ID: 1, Op: CreateDesktops{Names: []string{"n"}}},
			{ID: 2, Op: LabelDesktops{Label: "x", Targets: []Target{{Name: "b", VmID: "vm-b"}}}},
			{ID: 3, After: []int{1, 2}, Op: PowerDesktops{Power: provider.PowerOff,
				Targets: []Target{{Name: "a", VmID: "vm-a"}, {Name: "n"}}}},
			{ID: 4, Op: PowerDesktops{Power: provider.PowerOff, Targets: []Target{{Name: "c", VmID: "vm-c"}}}},
		},
		Guards: []GuardFinding{{Guard: GuardMassDelete}},
	}
	powerOnly(p)
	if len(p.Changes) != 1 || p.Changes[0].Name != "a" {
		t.Errorf("changes %+v, want only a's power (a label, a stop for other work and a creation are not power the spec wants)", p.Changes)
	}
	if len(p.Steps) != 1 || p.Steps[0].ID != 3 || len(p.Steps[0].After) != 0 {
		t.Fatalf("steps %+v, want step 3 alone, its dependencies on left-out steps dropped", p.Steps)
	}
	if got := p.Steps[0].Op.Desktops(); len(got) != 1 || got[0].Name != "a" {
		t.Errorf("step 3 powers %v, want only a (n does not exist yet)", got)
	}
	if p.Only != OnlyPower || p.Guards != nil || p.Want != nil || len(p.Warnings) != 1 {
		t.Errorf("only %q, guards %v, want %v, warnings %v: want power-only, no guards, no record change, one warning", p.Only, p.Guards, p.Want, p.Warnings)
	}
}

// TestScheduledPower: the wanted power of scheduled desktops is the schedule's at the moment
// planned; others and the input are not changed.
func TestScheduledPower(t *testing.T) {
	office, err := schedule.Parse("Mon-Fri 08:30-19:00", "Asia/Shanghai", nil)
	if err != nil {
		t.Fatal(err)
	}
	on := provider.PowerOn
	d := &Desired{Desktops: []DesiredDesktop{{Name: "cad", Schedule: office}, {Name: "farm", Power: &on}, {Name: "free"}}}
	loc := office.Location()
	cases := []struct {
		at     time.Time
		want   []string
		reason string
	}{
		{time.Date(2027, 1, 4, 10, 0, 0, 0, loc), []string{"on", "on", ""}, "Monday 10:00: inside the hours"},
		{time.Date(2027, 1, 4, 20, 0, 0, 0, loc), []string{"off", "on", ""}, "Monday 20:00: outside"},
		{time.Date(2027, 1, 9, 10, 0, 0, 0, loc), []string{"off", "on", ""}, "Saturday"},
	}
	for _, tc := range cases {
		out := scheduledPower(d, tc.at)
		var got []string
		for _, dd := range out.Desktops {
			w := ""
			if dd.Power != nil {
				w = string(*dd.Power)
			}
			got = append(got, w)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: power %v, want %v", tc.reason, got, tc.want)
		}
	}
	if d.Desktops[0].Power != nil {
		t.Error("scheduledPower changed its input")
	}
}

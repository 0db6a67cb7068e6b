package engine_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/provider"
)

// TestParseBatchLimits: --batch-limit ACTION=N, the actions as the API names them.
func TestParseBatchLimits(t *testing.T) {
	with := func(f func(*engine.BatchLimits)) engine.BatchLimits {
		l := engine.DefaultBatchLimits
		f(&l)
		return l
	}
	cases := []struct {
		reason string
		values []string
		want   engine.BatchLimits
		ok     bool
	}{
		{"nothing given: the defaults (nil: the plan records none)", nil, engine.DefaultBatchLimits, true},
		{"one action: the others keep their defaults", []string{"CreateVm=40"},
			with(func(l *engine.BatchLimits) { l.CreateVm = 40 }), true},
		{"several, case-insensitive, spaces around the number", []string{"operatevm= 20", "CreateSubAccounts=5"},
			with(func(l *engine.BatchLimits) { l.OperateVm, l.CreateSubAccounts = 20, 5 }), true},
		{"the same action twice: the last wins", []string{"BindAccounts=10", "BindAccounts=30"},
			with(func(l *engine.BatchLimits) { l.BindAccounts = 30 }), true},
		{"every action the limits name", []string{"CreateVm=1", "OperateVm=2", "UpdateVmLabels=3", "BindAccounts=4",
			"UnbindAccounts=5", "UpdateOrder=6", "RenewalOrder=7", "CreateSubAccounts=8"},
			engine.BatchLimits{CreateVm: 1, OperateVm: 2, UpdateVmLabels: 3, BindAccounts: 4, UnbindAccounts: 5,
				UpdateOrder: 6, RenewalOrder: 7, CreateSubAccounts: 8}, true},
		{"an action that takes no list (DeleteVm deletes one desktop)", []string{"DeleteVm=10"}, engine.BatchLimits{}, false},
		{"no number", []string{"CreateVm"}, engine.BatchLimits{}, false},
		{"zero: a call must carry at least one item", []string{"CreateVm=0"}, engine.BatchLimits{}, false},
		{"not a whole number", []string{"CreateVm=1.5"}, engine.BatchLimits{}, false},
	}
	for _, tc := range cases {
		got, err := engine.ParseBatchLimits(tc.values)
		if (err == nil) != tc.ok {
			t.Errorf("%s: ParseBatchLimits(%q) error %v, want ok %v", tc.reason, tc.values, err, tc.ok)
			continue
		}
		if tc.ok && len(tc.values) == 0 && got != nil {
			t.Errorf("%s: ParseBatchLimits(%q) = %+v, want nil", tc.reason, tc.values, got)
		}
		if tc.ok && len(tc.values) > 0 && *got != tc.want {
			t.Errorf("%s: ParseBatchLimits(%q) = %+v, want %+v", tc.reason, tc.values, got, tc.want)
		}
	}
}

// TestBatchLimitSetting: a group of 150 with CreateVm=60 is planned as three CreateVm calls of 60,
// 60 and 30 desktops (two at the default, 100); the saved plan records the limits, so applying it
// plans again the same way (not stale); each call is its own step with its own intent in the
// journal; every desktop exists once, named as the API names a group (art, art_001, ... art_149).
func TestBatchLimitSetting(t *testing.T) {
	e := newFleetEnv(t)
	sp := e.writeSpec(t, 150)
	ctx := context.Background()
	creates := func(p *engine.Plan) []int {
		var sizes []int
		for _, s := range p.Steps {
			if c, ok := s.Op.(engine.CreateDesktops); ok {
				sizes = append(sizes, len(c.Names))
			}
		}
		return sizes
	}
	def, err := e.sess.Plan(ctx, sp, engine.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := creates(def); !slices.Equal(got, []int{100, 50}) {
		t.Errorf("default limits: CreateVm steps of %v desktops, want [100 50]", got)
	}
	limits, err := engine.ParseBatchLimits([]string{"CreateVm=60"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.sess.Plan(ctx, sp, engine.PlanOptions{BatchLimits: limits})
	if err != nil {
		t.Fatal(err)
	}
	if got := creates(p); !slices.Equal(got, []int{60, 60, 30}) {
		t.Fatalf("CreateVm=60: CreateVm steps of %v desktops, want [60 60 30]", got)
	}
	saved := e.roundTrip(t, p)
	if saved.BatchLimits == nil || *saved.BatchLimits != *limits {
		t.Fatalf("the saved plan's batch limits are %+v, want %+v", saved.BatchLimits, limits)
	}
	e.sim.ResetCalls()
	out, err := e.apply(t, engine.ApplyRequest{Saved: saved})
	if err != nil {
		t.Fatalf("applying the saved plan: %v", err)
	}
	if out.Result.Outcome != engine.OutcomeDone {
		t.Fatalf("apply %s", out.Result.Outcome)
	}
	if n := e.sim.Calls()[provider.ActionCreateVm]; n != 3 {
		t.Errorf("%d CreateVm calls, want 3", n)
	}
	rec, err := e.sess.Store.Read(ctx, "studio")
	if err != nil {
		t.Fatal(err)
	}
	var journaled []int
	for _, in := range rec.Intents {
		if in.Action == string(provider.ActionCreateVm) {
			journaled = append(journaled, len(in.Targets))
		}
	}
	slices.Sort(journaled)
	if !slices.Equal(journaled, []int{30, 60, 60}) {
		t.Errorf("CreateVm intents of %v desktops, want one each of 30, 60, 60", journaled)
	}
	want := []string{"art"}
	for i := 1; i < 150; i++ {
		want = append(want, fmt.Sprintf("art_%03d", i))
	}
	slices.Sort(want)
	if got := e.liveNames(); !slices.Equal(got, want) {
		t.Errorf("live desktops %d (%v ...), want art, art_001 ... art_149 once each", len(got), got[:min(5, len(got))])
	}
	again, err := e.sess.Plan(ctx, sp, engine.PlanOptions{BatchLimits: limits})
	if err != nil {
		t.Fatal(err)
	}
	if !again.Empty() {
		t.Errorf("plan again: %d steps, want none", len(again.Steps))
	}
}

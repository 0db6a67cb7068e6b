package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/memory"
)

// TestPlanCallsWithSchedulesAndBudgets is issue 17's figure: a plan of a 1,000-desktop fleet with
// schedules and budgets makes no more QueryVmPrice calls, and no more reads, than the same plan
// without them. Compute is priced from the catalog the plan reads anyway; bandwidth has no price in
// any read, so the fleet's cost asks GetEipPrice once per (site, line, Mbps) that the plan's own
// pricing did not ask, and never per desktop.
func TestPlanCallsWithSchedulesAndBudgets(t *testing.T) {
	const n = 1000
	cases := []struct {
		name   string
		extra  string // appended to the spec's desktops: a group the plan creates
		eip    int    // GetEipPrice calls the schedules and budgets add
		reason string
	}{
		{name: "in sync", eip: 1,
			reason: "the fleet's one bandwidth (宿迁A, its line, 5 Mbps) is quoted once for the projected month; nothing else is asked"},
		{name: "with a new group", extra: "  - {name: fresh, count: 20, profile: win, label: lab, power: on}\n", eip: 0,
			reason: "the creation's pricing quotes the same bandwidth: the fleet's cost reuses it"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plain, _ := inSyncSource(n)
			plain += tc.extra
			scheduled := strings.ReplaceAll(plain, "power: on}", "schedule: {hours: always}}") +
				"budget: {monthly: 100000000, groups: {ws0: 10000000}, labels: {lab: 100000000}}\n"
			without, withCalls := planCalls(t, plain), planCalls(t, scheduled)
			for action, got := range withCalls {
				want := without[action]
				if action == provider.ActionGetEipPrice {
					want += tc.eip
				}
				if got != want {
					t.Errorf("%s x%d with schedules and budgets, x%d without: want x%d (%s)", action, got, without[action], want, tc.reason)
				}
			}
			for action, got := range without {
				if _, ok := withCalls[action]; !ok {
					t.Errorf("%s x%d without schedules and budgets, never with them", action, got)
				}
			}
		})
	}
}

// planCalls plans src over benchFleet's 1,000 in-sync desktops and returns the calls made by action;
// the plan must carry the projected month when src has a budget.
func planCalls(t *testing.T, src string) map[provider.Action]int {
	t.Helper()
	_, s, c, rec := benchFleet(t, 1000, 0, 8)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	sp, err := engine.LoadSpec([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	seedRecord(t, st, rec)
	ctx := context.Background()
	s.ResetCalls()
	p, err := (&engine.Session{Client: c, Store: st, Parallelism: 8}).Plan(ctx, sp, engine.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Errors) > 0 || len(p.Warnings) > 0 {
		t.Fatalf("plan errors %v, warnings %v", p.Errors, p.Warnings)
	}
	if strings.Contains(src, "budget:") && (p.Monthly == nil || len(p.Budget) != 3 || p.Monthly.Fleet.Now.Desktops != 1000) {
		t.Fatalf("monthly %+v, budget %+v: want the projected month of 1,000 desktops against 3 budgets", p.Monthly, p.Budget)
	}
	return s.Calls()
}

// seedRecord writes rec's desktops as fleet rec.Fleet's record in st, under the fleet's lock.
func seedRecord(tb testing.TB, st state.Store, rec *state.Record) {
	tb.Helper()
	ctx := context.Background()
	lock, err := st.Lock(ctx, rec.Fleet, state.Holder{User: "test"}, 0)
	if err != nil {
		tb.Fatal(err)
	}
	if err := st.Update(ctx, lock, func(r *state.Record) error { r.Desktops = rec.Desktops; return nil }); err != nil {
		tb.Fatal(err)
	}
	if err := st.Unlock(ctx, lock); err != nil {
		tb.Fatal(err)
	}
}

package engine_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/provider/sim"
	"github.com/deskfleet/deskfleet/schedule"
	"github.com/deskfleet/deskfleet/state"
)

// costWorkHours is a working-hours schedule (Mon-Fri 08:30-19:00 Beijing time) for the cost tests.
func costWorkHours(t testing.TB) *schedule.Schedule {
	t.Helper()
	s, err := schedule.Parse("Mon-Fri 08:30-19:00", "Asia/Shanghai", nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// costDesired is a spec desktop at 宿迁A on its 电信 gateway (priceNetA).
func costDesired(e *priceEnv, name, group, product string, bw int, b engine.Billing) engine.DesiredDesktop {
	return engine.DesiredDesktop{Name: name, Group: group, Site: engine.Site{ID: sim.SiteSuqianA, Name: "宿迁A"},
		Product: costProduct(e, product), Network: priceNetA, Bandwidth: bw, Billing: b}
}

// costProduct is QueryProducts' product at 宿迁A.
func costProduct(e *priceEnv, id string) provider.Product {
	for _, p := range e.in.Products {
		if p.ProductID == id && p.SiteID == sim.SiteSuqianA {
			return p
		}
	}
	return provider.Product{}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func TestCostOf(t *testing.T) {
	e0 := newPriceEnv(t)
	a5000 := e0.product(t, sim.ProductA5000Win, sim.SiteSuqianA)
	t4 := e0.product(t, sim.ProductT4Win, sim.SiteSuqianA)
	mobile5, telecom10, telecom5 := e0.eipPerDay(t, 10298, 5), e0.eipPerDay(t, 10289, 10), e0.eipPerDay(t, 10289, 5)
	work := costWorkHours(t)
	workHours := work.HoursBetween(priceNow, priceNow.Add(730*time.Hour))
	off := provider.PowerOff

	cases := []struct {
		name, reason string
		desired      func(e *priceEnv) []engine.DesiredDesktop
		record       func(e *priceEnv) *state.Record
		// want: per desktop name, the month now and projected (-1: absent on that side)
		now, projected map[string]float64
		vmCalls        int
		eipCalls       int
	}{
		{
			name:   "live fleet as it is",
			reason: "a running per-minute desktop runs 730 h, a stopped one costs only its EIP, a monthly one its month; the spec names them all unchanged",
			desired: func(e *priceEnv) []engine.DesiredDesktop {
				cad := costDesired(e, "cad-01", "cad", sim.ProductA5000Win, 5, pricePerMinute)
				cad.Network = engine.NetworkChoice{Default: true, GatewayConfID: "10298"}
				scratch := costDesired(e, "scratch-9", "scratch", sim.ProductT4Win, 10, pricePerMinute)
				lead := costDesired(e, "lead", "lead", sim.ProductT4Win, 0, priceMonthly(1, false))
				return []engine.DesiredDesktop{cad, scratch, lead}
			},
			now: map[string]float64{
				"cad-01":    priceCents(a5000.RequirePrice*60)*730 + mobile5/24*730,
				"scratch-9": telecom10 / 24 * 730,
				"lead":      priceCents(t4.MonthPrice),
			},
			projected: map[string]float64{
				"cad-01":    priceCents(a5000.RequirePrice*60)*730 + mobile5/24*730,
				"scratch-9": telecom10 / 24 * 730,
				"lead":      priceCents(t4.MonthPrice),
			},
			vmCalls: 0, eipCalls: 2,
		},
		{
			name:   "schedule, power off, delete",
			reason: "a schedule bills its hours only, a desktop wanted off no compute, a managed desktop the spec drops is gone after the plan, a new one is projected only",
			desired: func(e *priceEnv) []engine.DesiredDesktop {
				cad := costDesired(e, "cad-01", "cad", sim.ProductA5000Win, 5, pricePerMinute)
				cad.Network = engine.NetworkChoice{Default: true, GatewayConfID: "10298"}
				cad.Schedule = work
				lead := costDesired(e, "lead", "lead", sim.ProductT4Win, 0, priceMonthly(1, false))
				lead.Power = &off
				fresh := costDesired(e, "fresh", "cad", sim.ProductA5000Win, 5, pricePerMinute)
				fresh.Power = &off
				return []engine.DesiredDesktop{cad, lead, fresh}
			},
			record: func(e *priceEnv) *state.Record {
				return &state.Record{Fleet: "studio", Desktops: map[string]state.Desktop{
					e.vm["scratch-9"]: {VmID: e.vm["scratch-9"], Name: "scratch-9"}}}
			},
			now: map[string]float64{
				"cad-01":    priceCents(a5000.RequirePrice*60)*730 + mobile5/24*730,
				"scratch-9": telecom10 / 24 * 730,
				"lead":      priceCents(t4.MonthPrice),
				"fresh":     -1,
			},
			projected: map[string]float64{
				"cad-01":    priceCents(a5000.RequirePrice*60)*workHours + mobile5/24*730,
				"scratch-9": -1,
				"lead":      priceCents(t4.MonthPrice),
				"fresh":     telecom5 / 24 * 730,
			},
			vmCalls: 0, eipCalls: 3,
		},
		{
			name: "following its schedule",
			reason: "at 00:00 Beijing time scratch-9 is off as its schedule wants: it runs the schedule's hours with or without the plan, now and projected; " +
				"cad-01 runs against its schedule (held on by hand): always-on now, the schedule's hours after",
			desired: func(e *priceEnv) []engine.DesiredDesktop {
				cad := costDesired(e, "cad-01", "cad", sim.ProductA5000Win, 5, pricePerMinute)
				cad.Network = engine.NetworkChoice{Default: true, GatewayConfID: "10298"}
				cad.Schedule = work
				scratch := costDesired(e, "scratch-9", "scratch", sim.ProductT4Win, 10, pricePerMinute)
				scratch.Schedule = work
				return []engine.DesiredDesktop{cad, scratch}
			},
			now: map[string]float64{
				"cad-01":    priceCents(a5000.RequirePrice*60)*730 + mobile5/24*730,
				"scratch-9": priceCents(t4.RequirePrice*60)*workHours + telecom10/24*730,
			},
			projected: map[string]float64{
				"cad-01":    priceCents(a5000.RequirePrice*60)*workHours + mobile5/24*730,
				"scratch-9": priceCents(t4.RequirePrice*60)*workHours + telecom10/24*730,
			},
			vmCalls: 0, eipCalls: 2,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newPriceEnv(t)
			in := engine.CostInput{Desired: &engine.Desired{Fleet: "studio", Desktops: tc.desired(e)},
				Snapshot: e.in.Snapshot, Products: e.in.Products}
			if tc.record != nil {
				in.Record = tc.record(e)
			}
			fc, err := engine.CostOf(context.Background(), e.c, in)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]engine.DesktopCost{}
			for _, d := range fc.Desktops {
				got[d.Name] = d
			}
			var sumNow, sumProj float64
			check := func(side string, want map[string]float64, pick func(engine.DesktopCost) *engine.DesktopPrice, sum *float64) {
				for name, w := range want {
					p := pick(got[name])
					switch {
					case w < 0 && p != nil:
						t.Errorf("%s %s: priced %.2f, want absent (%s)", side, name, p.Month, tc.reason)
					case w >= 0 && p == nil:
						t.Errorf("%s %s: absent, want %.2f (%s)", side, name, w, tc.reason)
					case w >= 0 && !near(p.Month, w):
						t.Errorf("%s %s: month %.4f, want %.4f (%s)", side, name, p.Month, w, tc.reason)
					}
					if w > 0 {
						*sum += w
					}
				}
			}
			check("now", tc.now, func(d engine.DesktopCost) *engine.DesktopPrice { return d.Now }, &sumNow)
			check("projected", tc.projected, func(d engine.DesktopCost) *engine.DesktopPrice { return d.Projected }, &sumProj)
			if !near(fc.Total.Now.Month, sumNow) || !near(fc.Total.Projected.Month, sumProj) {
				t.Errorf("total now %.2f projected %.2f, want %.2f and %.2f", fc.Total.Now.Month, fc.Total.Projected.Month, sumNow, sumProj)
			}
			calls := e.sim.Calls()
			if calls[provider.ActionQueryVmPrice] != tc.vmCalls || calls[provider.ActionGetEipPrice] != tc.eipCalls {
				t.Errorf("QueryVmPrice x%d, GetEipPrice x%d; want x%d and x%d (%s)", calls[provider.ActionQueryVmPrice],
					calls[provider.ActionGetEipPrice], tc.vmCalls, tc.eipCalls, tc.reason)
			}
			if fc.PriceCalls != tc.vmCalls+tc.eipCalls {
				t.Errorf("PriceCalls %d, want %d", fc.PriceCalls, tc.vmCalls+tc.eipCalls)
			}
		})
	}
}

// TestCostOfSchedulesSaving: the saving of a schedule is the rate x the hours it is off, over its
// per-minute desktops; its monthly desktops save nothing and are counted apart.
func TestCostOfSchedulesSaving(t *testing.T) {
	e := newPriceEnv(t)
	a5000 := e.product(t, sim.ProductA5000Win, sim.SiteSuqianA)
	work := costWorkHours(t)
	var ds []engine.DesiredDesktop
	for i := range 4 {
		d := costDesired(e, fmt.Sprintf("n-%d", i), "night", sim.ProductA5000Win, 0, pricePerMinute)
		d.Schedule = work
		ds = append(ds, d)
	}
	m := costDesired(e, "m-0", "night", sim.ProductA5000Win, 0, priceMonthly(1, false))
	m.Schedule = work
	ds = append(ds, m)
	fc, err := engine.CostOf(context.Background(), e.c, engine.CostInput{Desired: &engine.Desired{Fleet: "studio", Desktops: ds},
		Snapshot: e.in.Snapshot, Products: e.in.Products, At: priceNow})
	if err != nil {
		t.Fatal(err)
	}
	if len(fc.Schedules) != 1 {
		t.Fatalf("schedules %+v, want one", fc.Schedules)
	}
	s := fc.Schedules[0]
	hours := work.HoursBetween(priceNow, priceNow.Add(730*time.Hour))
	rate := priceCents(a5000.RequirePrice * 60)
	if s.Desktops != 5 || s.MonthlyDesktops != 1 || !near(s.Hours, hours) || !near(s.Saving, 4*rate*(730-hours)) {
		t.Errorf("saving %+v; want 5 desktops (1 monthly), %.2f h, saving %.2f", s, hours, 4*rate*(730-hours))
	}
	if hours < 200 || hours > 250 {
		t.Errorf("working hours in 730 h: %.1f; a Mon-Fri 10.5 h day gives about 228", hours)
	}
}

// TestCostOfCallsPerProduct: a fleet of 1,000 desktops over two products, two billings and two
// bandwidths is priced with no QueryVmPrice (compute comes from the catalog already read) and one
// GetEipPrice per (site, line, Mbps): 2 calls, not one per desktop.
func TestCostOfCallsPerProduct(t *testing.T) {
	e := newPriceEnv(t)
	fc, err := engine.CostOf(context.Background(), e.c, engine.CostInput{Desired: costBigFleet(t, e, 1000),
		Snapshot: e.in.Snapshot, Products: e.in.Products, At: priceNow})
	if err != nil {
		t.Fatal(err)
	}
	calls := e.sim.Calls()
	// The three live desktops of priceEnv are not in this fleet's spec or record: they are not priced.
	if calls[provider.ActionQueryVmPrice] != 0 || calls[provider.ActionGetEipPrice] != 2 {
		t.Errorf("QueryVmPrice x%d, GetEipPrice x%d for 1,000 desktops; want x0 (the catalog's prices) and x2 (2 bandwidths on one line)",
			calls[provider.ActionQueryVmPrice], calls[provider.ActionGetEipPrice])
	}
	if fc.Total.Projected.Desktops != 1000 || len(fc.Groups) != 7 {
		t.Errorf("projected %d desktops in %d groups, want 1000 in 7", fc.Total.Projected.Desktops, len(fc.Groups))
	}
}

// costBigFleet is n desktops over two products, two billings, two bandwidths on one line, 7 groups,
// a third of them on a working-hours schedule.
func costBigFleet(t testing.TB, e *priceEnv, n int) *engine.Desired {
	work := costWorkHours(t)
	var ds []engine.DesiredDesktop
	products := []string{sim.ProductA5000Win, sim.ProductT4Win}
	billings := []engine.Billing{pricePerMinute, priceMonthly(1, false)}
	for i := range n {
		d := costDesired(e, fmt.Sprintf("d-%04d", i), fmt.Sprintf("g%d", i%7), products[i%2], 5+5*(i/2%2), billings[i/4%2])
		if i%3 == 0 {
			d.Schedule = work
		}
		ds = append(ds, d)
	}
	return &engine.Desired{Fleet: "big", Desktops: ds}
}

// BenchmarkCostOf1000 prices a fleet of 1,000 desktops (costBigFleet). The bound is from the workload:
// compute from the catalog QueryProducts already read (no query), one GetEipPrice per distinct (site,
// line, Mbps): 2, whatever the number of desktops; x_bound is the queries made over it.
func BenchmarkCostOf1000(b *testing.B) {
	e := newPriceEnv(b)
	in := engine.CostInput{Desired: costBigFleet(b, e, 1000), Snapshot: e.in.Snapshot, Products: e.in.Products, At: priceNow}
	const bound = 2
	e.sim.ResetCalls()
	for b.Loop() {
		if _, err := engine.CostOf(context.Background(), e.c, in); err != nil {
			b.Fatal(err)
		}
	}
	calls := e.sim.Calls()
	perOp := float64(calls[provider.ActionQueryVmPrice]+calls[provider.ActionGetEipPrice]) / float64(b.N)
	b.ReportMetric(perOp, "price_calls/op")
	b.ReportMetric(perOp/bound, "x_bound")
	b.ReportMetric(1, "limit_x")
}

package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/provider/gcw"
	"github.com/deskfleet/deskfleet/provider/sim"
	"github.com/deskfleet/deskfleet/schedule"
	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/memory"
)

// The schedule figure of docs/performance.md: a fleet on a working-hours schedule, kept by a
// power-only apply every 15 minutes through a simulated week, is billed what the schedule implies
// (within 2%), with no desktop started or stopped outside its schedule and no other operation.
const (
	weekHours = "Mon-Fri 08:30-19:00"
	weekZone  = "Asia/Shanghai"
	weekEvery = 15 * time.Minute
	weekBound = 0.02 // the bill within 2% of the schedule's
)

// weekOutcome is what a simulated week measured.
type weekOutcome struct {
	desktops, applies     int
	bill, implied         float64
	outside, otherMutates int      // power calls outside the schedule; mutating calls but OperateVm
	priceCalls            int      // QueryVmPrice and GetEipPrice: a power-only apply prices nothing
	notes                 []string // what went wrong, for the log
}

// powerCall is one OperateVm the emulator received, at the emulator's clock.
type powerCall struct {
	at time.Time
	on bool
}

// runWeek creates n desktops on weekHours (a full apply, before the week starts) and then runs a
// power-only apply every weekEvery for days days, on the emulator's clock. The bill and the calls are
// counted from the week's start.
func runWeek(t testing.TB, n, days int) weekOutcome {
	loc, _ := time.LoadLocation(weekZone)
	start := time.Date(2027, 1, 4, 0, 0, 0, 0, loc) // a Monday
	clock := sim.NewManualClock(start.Add(-2 * time.Hour))
	s, err := sim.New(sim.Options{Clock: clock, Seed: 1, TaskDuration: 30 * time.Second, Meter: true})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var calls []powerCall
	week := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if week && r.URL.Query().Get("Action") == string(provider.ActionOperateVm) {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			var req struct {
				Action string `json:"action"`
			}
			_ = json.Unmarshal(body, &req)
			mu.Lock()
			calls = append(calls, powerCall{at: clock.Now(), on: req.Action == string(provider.PowerOn)})
			mu.Unlock()
		}
		s.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c, err := gcw.New(gcw.Config{Endpoint: srv.URL, AccessKeyID: "week", Secret: "week-secret", Rate: -1,
		Sleep: clockSleep(clock)})
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New()
	defer st.Close()
	sess := &engine.Session{Client: c, Store: st, Now: clock.Now, Holder: state.Holder{User: "cron", Host: "week", PID: 1}}
	dir := t.TempDir()
	yaml := fmt.Sprintf(`version: 1
fleet: office
defaults: {site: 宿迁A, profile: a5000-win}
profiles:
  a5000-win: {product: {gpu: NVIDIA A5000, os: windows}, image: Windows10-公共镜像-图像处理型}
desktops:
  - {name: desk, count: %d, schedule: {hours: %q, timezone: %s}}
`, n, weekHours, weekZone)
	if err := os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	sp, err := engine.LoadSpec([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	exec := engine.ExecOptions{PollInterval: 5 * time.Second, Now: clock.Now,
		Sleep: func(ctx context.Context, d time.Duration) error { clock.Advance(d); return ctx.Err() }}
	apply := func(only engine.Only) error {
		_, err := sess.Apply(ctx, engine.ApplyRequest{Spec: sp, Plan: engine.PlanOptions{Only: only},
			Confirm: engine.AutoApprove{}, Exec: exec})
		return err
	}
	var out weekOutcome
	out.desktops = n
	if err := apply(""); err != nil { // create the fleet (off: Sunday night)
		t.Fatalf("creating the fleet: %v", err)
	}
	clock.Advance(start.Sub(clock.Now()))
	s.ResetCalls()
	before := s.Bill().Total
	week = true
	end := start.AddDate(0, 0, days)
	for next := start; next.Before(end); next = next.Add(weekEvery) {
		if now := clock.Now(); now.Before(next) {
			clock.Advance(next.Sub(now))
		}
		if err := apply(engine.OnlyPower); err != nil {
			out.notes = append(out.notes, fmt.Sprintf("apply at %s: %v", clock.Now().In(loc).Format("Mon 15:04"), err))
		}
		out.applies++
	}
	clock.Advance(end.Sub(clock.Now()))
	out.bill = s.Bill().Total - before

	sched, err := schedule.Parse(weekHours, weekZone, nil)
	if err != nil {
		t.Fatal(err)
	}
	price := 0.1868333333 // the emulator's A5000 requirePrice, CNY per minute
	out.implied = float64(n) * sched.HoursBetween(start, end) * 60 * price
	for _, pc := range calls {
		// A call is inside its schedule when the schedule wants what it does at that moment.
		if sched.On(pc.at) != pc.on {
			out.outside++
			out.notes = append(out.notes, fmt.Sprintf("OperateVm %v at %s", pc.on, pc.at.In(loc).Format("Mon 15:04:05")))
		}
	}
	counts := s.Calls()
	out.priceCalls = counts[provider.ActionQueryVmPrice] + counts[provider.ActionGetEipPrice]
	for a, k := range counts {
		if a != provider.ActionOperateVm && sim.IsMutating(a) {
			out.otherMutates += k
		}
	}
	return out
}

// TestScheduleWeek: the schedule figure on a shorter run (docs/performance.md has the week of 200
// desktops: BenchmarkScheduleWeek).
func TestScheduleWeek(t *testing.T) {
	n, days := 40, 2
	if testing.Short() || raceEnabled {
		n, days = 10, 1
	}
	o := runWeek(t, n, days)
	checkWeek(t, o)
}

func checkWeek(t testing.TB, o weekOutcome) {
	t.Helper()
	for _, note := range o.notes {
		t.Log(note)
	}
	off := math.Abs(o.bill-o.implied) / o.implied
	t.Logf("%d desktops, %d power-only applies: billed ¥%.2f, the schedule implies ¥%.2f (%.3f%% off); %d power calls outside the schedule; %d other mutating calls",
		o.desktops, o.applies, o.bill, o.implied, off*100, o.outside, o.otherMutates)
	if off > weekBound {
		t.Errorf("the bill is %.2f%% off the schedule's, more than %.0f%%", off*100, weekBound*100)
	}
	if o.priceCalls > 0 {
		t.Errorf("%d price calls: a power-only apply has nothing to price", o.priceCalls)
	}
	if o.outside > 0 || o.otherMutates > 0 {
		t.Errorf("%d power calls outside the schedule and %d other mutating calls, want none", o.outside, o.otherMutates)
	}
}

// BenchmarkScheduleWeek is the schedule figure: 200 desktops, a simulated week, a power-only apply
// every 15 minutes. x_bound is how far the bill is from the schedule's, as a share of the 2% allowed.
func BenchmarkScheduleWeek(b *testing.B) {
	var o weekOutcome
	for range b.N {
		o = runWeek(b, 200, 7)
	}
	checkWeek(b, o)
	b.ReportMetric(math.Abs(o.bill-o.implied)/o.implied/weekBound, "x_bound")
	b.ReportMetric(1, "limit_x")
	b.ReportMetric(float64(o.outside), "outside_calls")
	b.ReportMetric(float64(o.otherMutates), "other_mutating_calls")
}

package engine_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/provider/gcw"
	"github.com/deskfleet/deskfleet/provider/sim"
	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/memory"
)

// fleetEnv drives the fleet API as a front end with no command line would: a spec folder, the
// emulator behind the real client, an in-memory store, and a Session over them.
type fleetEnv struct {
	sess  *engine.Session
	sim   *sim.Sim
	clock *sim.ManualClock
	dir   string
}

func newFleetEnv(t *testing.T) *fleetEnv {
	t.Helper()
	clock := sim.NewManualClock(scenarioNow)
	s, err := sim.New(sim.Options{Clock: clock, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c, err := gcw.New(gcw.Config{Endpoint: srv.URL, AccessKeyID: "fleet", Secret: "fleet-secret", Rate: -1,
		Sleep: clockSleep(clock)})
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	e := &fleetEnv{sim: s, clock: clock, dir: t.TempDir(),
		sess: &engine.Session{Client: c, Store: st, Holder: state.Holder{User: "test", Host: "fleet-test", PID: 1}}}
	return e
}

// writeSpec makes the spec a group of count desktops named art, art_001, ...
func (e *fleetEnv) writeSpec(t *testing.T, count int) *engine.Spec {
	t.Helper()
	yaml := fmt.Sprintf(`version: 1
fleet: studio
defaults: {site: 宿迁A, profile: a5000-win}
profiles:
  a5000-win: {product: {gpu: NVIDIA A5000, os: windows}, image: Windows10-公共镜像-图像处理型}
desktops:
  - {name: art, count: %d, label: art}
`, count)
	if err := os.WriteFile(filepath.Join(e.dir, "fleet.yaml"), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	sp, err := engine.LoadSpec([]string{e.dir})
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

// exec runs tasks on the emulator's clock: every wait advances it instead of sleeping.
func (e *fleetEnv) exec() engine.ExecOptions {
	return engine.ExecOptions{PollInterval: time.Second, Now: e.clock.Now,
		Sleep: func(ctx context.Context, d time.Duration) error { e.clock.Advance(d); return ctx.Err() }}
}

func (e *fleetEnv) apply(t *testing.T, req engine.ApplyRequest) (*engine.ApplyOutcome, error) {
	t.Helper()
	req.Exec = e.exec()
	if req.Confirm == nil {
		req.Confirm = engine.AutoApprove{}
	}
	return e.sess.Apply(context.Background(), req)
}

// liveNames lists the live desktops' names, sorted.
func (e *fleetEnv) liveNames() []string {
	var names []string
	for _, d := range e.sim.Desktops() {
		names = append(names, d.Name)
	}
	slices.Sort(names)
	return names
}

// roundTrip saves p to a file and loads it back: what a runner applying a reviewed plan gets.
func (e *fleetEnv) roundTrip(t *testing.T, p *engine.Plan) *engine.Plan {
	t.Helper()
	path := filepath.Join(e.dir, "plan.json")
	if err := engine.SavePlan(path, p); err != nil {
		t.Fatal(err)
	}
	loaded, err := engine.LoadPlan(path)
	if err != nil {
		t.Fatal(err)
	}
	return loaded
}

// stripGuards removes every guard a plan states about itself, as a hand-edited file could.
func stripGuards(p *engine.Plan) {
	p.Guards = nil
	for i := range p.Steps {
		p.Steps[i].Guard = engine.GuardNone
	}
}

// TestFleetAPIGuards drives the fleet API with no command line: a plan carrying a guarded change is
// refused unless the approval is given, whatever the plan (or its file) says of itself. A saved plan
// is an approval of exactly its steps: one edited by hand (its guards stripped, a deletion pointed at
// another desktop, a deletion added) is refused as not the plan the spec and the live state give,
// before its guards are even judged (TestCheckGuards judges such plans on their own). Nothing is
// changed by a refused apply.
func TestFleetAPIGuards(t *testing.T) {
	all := engine.Approvals{Delete: true, Replace: true, Rebuild: true, Force: true}
	cases := []struct {
		name, reason string
		// count is the spec's desktops after the first apply made 4; plan makes a saved plan (nil:
		// apply plans afresh from the spec).
		count     int
		approvals engine.Approvals
		plan      func(t *testing.T, e *fleetEnv, sp *engine.Spec) *engine.Plan
		// guards are the guards blocked; stale means refused as not the plan made again; neither:
		// the apply goes ahead.
		guards []engine.Guard
		stale  bool
	}{
		{name: "fresh deletion, no approval", reason: "a deletion planned from the spec needs --allow-delete",
			count: 3, guards: []engine.Guard{engine.GuardDelete}},
		{name: "fresh deletion, approved", reason: "with the approval the desktop is deleted",
			count: 3, approvals: engine.Approvals{Delete: true}},
		{name: "fresh deletion, approval for something else", reason: "--allow-replace and --allow-rebuild do not allow a deletion",
			count: 3, approvals: engine.Approvals{Replace: true, Rebuild: true}, guards: []engine.Guard{engine.GuardDelete}},
		{name: "fresh mass deletion", reason: "3 of 4 managed desktops is over 30%: --force as well",
			count: 1, approvals: engine.Approvals{Delete: true}, guards: []engine.Guard{engine.GuardMassDelete}},
		{name: "saved plan as made, no approval", reason: "the saved plan's deletion needs --allow-delete as a fresh one does",
			count: 3, plan: saved, guards: []engine.Guard{engine.GuardDelete}},
		{name: "saved plan as made, approved", reason: "a saved plan equal to the plan made again is applied",
			count: 3, approvals: engine.Approvals{Delete: true}, plan: saved},
		{name: "saved plan with its guards stripped", reason: "an edited plan is not the reviewed one: refused, guards or not",
			count: 3, approvals: all, plan: savedStripped, stale: true},
		{name: "deletion swapped to an unmanaged desktop", reason: "a plan file can never delete a desktop the fleet does not manage",
			count: 3, approvals: all, plan: swapToUnmanaged, stale: true},
		{name: "deletion of a protected desktop injected", reason: "a protected desktop is never deleted, whatever the approvals",
			count: 4, approvals: all, plan: injectProtectedDelete, stale: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newFleetEnv(t)
			if _, err := e.apply(t, engine.ApplyRequest{Spec: e.writeSpec(t, 4)}); err != nil {
				t.Fatalf("first apply: %v", err)
			}
			sp := e.writeSpec(t, tc.count)
			req := engine.ApplyRequest{Spec: sp, Approvals: tc.approvals}
			if tc.plan != nil {
				req = engine.ApplyRequest{Saved: tc.plan(t, e, sp), Approvals: tc.approvals}
			}
			before := e.liveNames()
			_, err := e.apply(t, req)
			checkRefusal(t, tc.reason, err, tc.guards, tc.stale)
			if len(tc.guards) == 0 && !tc.stale {
				p, err := e.sess.Plan(context.Background(), sp, engine.PlanOptions{})
				if err != nil || !p.Empty() {
					t.Fatalf("plan again: want no changes, got %v (err %v)", p.Steps, err)
				}
				return
			}
			if after := e.liveNames(); !slices.Equal(after, before) {
				t.Errorf("%s: a refused apply changed the cloud: %v -> %v", tc.reason, before, after)
			}
		})
	}
}

// checkRefusal checks err is the refusal wanted: the guards blocked, a stale plan, or none.
func checkRefusal(t *testing.T, reason string, err error, guards []engine.Guard, stale bool) {
	t.Helper()
	var ge *engine.GuardError
	var se *engine.StalePlanError
	switch {
	case stale:
		if !errors.As(err, &se) {
			t.Fatalf("%s: want a *StalePlanError, got %v", reason, err)
		}
	case len(guards) > 0:
		if !errors.As(err, &ge) {
			t.Fatalf("%s: want a *GuardError, got %v", reason, err)
		}
		var got []engine.Guard
		for _, b := range ge.Blocked {
			got = append(got, b.Guard)
		}
		if !slices.Equal(got, guards) {
			t.Errorf("%s: blocked %v, want %v (%v)", reason, got, guards, ge.Blocked)
		}
	case err != nil:
		t.Fatalf("%s: apply: %v", reason, err)
	}
}

// saved plans from the spec and round-trips the plan through a file, as a reviewed plan travels.
func saved(t *testing.T, e *fleetEnv, sp *engine.Spec) *engine.Plan {
	p, err := e.sess.Plan(context.Background(), sp, engine.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return e.roundTrip(t, p)
}

// savedStripped is saved with the guards stripped from the file.
func savedStripped(t *testing.T, e *fleetEnv, sp *engine.Spec) *engine.Plan {
	p := saved(t, e, sp)
	stripGuards(p)
	return e.roundTrip(t, p)
}

// swapToUnmanaged adds a desktop the fleet does not manage and points the plan's deletion at it.
func swapToUnmanaged(t *testing.T, e *fleetEnv, sp *engine.Spec) *engine.Plan {
	net, _ := e.sim.DefaultNet(sim.SiteSuqianA)
	id, err := e.sim.AddDesktop(sim.Desktop{ID: "vm-payroll", Name: "payroll", SiteID: sim.SiteSuqianA,
		ProductID: sim.ProductA5000Win, ImageID: sim.ImageWin10, VPCID: net.ID, SubnetID: net.Subnets[0].ID, Qos: 5,
		Status: sim.StatusRunning})
	if err != nil {
		t.Fatal(err)
	}
	p := savedStripped(t, e, sp)
	for i, s := range p.Steps {
		if _, ok := s.Op.(engine.DeleteDesktop); ok {
			p.Steps[i].Op = engine.DeleteDesktop{Desktop: engine.Target{Name: "payroll", VmID: id}}
		}
	}
	return e.roundTrip(t, p)
}

// injectProtectedDelete protects art_003 in the record, then adds a deletion of it to a plan with
// nothing to do.
func injectProtectedDelete(t *testing.T, e *fleetEnv, sp *engine.Spec) *engine.Plan {
	ctx := context.Background()
	lock, err := e.sess.Store.Lock(ctx, "studio", state.Holder{User: "test"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var id string
	err = e.sess.Store.Update(ctx, lock, func(r *state.Record) error {
		for k, d := range r.Desktops {
			if d.Name == "art_003" {
				d.Protect, id = true, k
				r.PutDesktop(d)
			}
		}
		return nil
	})
	if err != nil || id == "" {
		t.Fatalf("protecting art_003: %v (id %q)", err, id)
	}
	if err := e.sess.Store.Unlock(ctx, lock); err != nil {
		t.Fatal(err)
	}
	p, err := e.sess.Plan(ctx, sp, engine.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Steps = append(p.Steps, engine.Step{ID: len(p.Steps) + 1, Op: engine.DeleteDesktop{Desktop: engine.Target{Name: "art_003", VmID: id}}})
	return e.roundTrip(t, p)
}

// refusingConfirmer says no.
type refusingConfirmer struct{}

var errNo = errors.New("no")

func (refusingConfirmer) Confirm(context.Context, *engine.Plan) error { return errNo }

// TestFleetAPIPolicy covers the rest of the policy a front end gets for free: confirmation, the lock,
// a stale saved plan.
func TestFleetAPIPolicy(t *testing.T) {
	ctx := context.Background()
	t.Run("no confirmer", func(t *testing.T) {
		e := newFleetEnv(t)
		_, err := e.sess.Apply(ctx, engine.ApplyRequest{Spec: e.writeSpec(t, 2)})
		if !errors.Is(err, engine.ErrNoConfirmer) || len(e.liveNames()) != 0 {
			t.Fatalf("an apply nobody confirms must not run: err %v, live %v", err, e.liveNames())
		}
	})
	t.Run("confirmation refused", func(t *testing.T) {
		e := newFleetEnv(t)
		_, err := e.apply(t, engine.ApplyRequest{Spec: e.writeSpec(t, 2), Confirm: refusingConfirmer{}})
		if !errors.Is(err, errNo) || len(e.liveNames()) != 0 {
			t.Fatalf("the confirmer's refusal must stop the apply: err %v, live %v", err, e.liveNames())
		}
	})
	t.Run("lock held", func(t *testing.T) {
		e := newFleetEnv(t)
		other := state.Holder{User: "ana", Host: "elsewhere", PID: 7, Command: "deskfleet apply", Since: time.Now()}
		if _, err := e.sess.Store.Lock(ctx, "studio", other, 0); err != nil {
			t.Fatal(err)
		}
		var le *state.LockedError
		_, err := e.apply(t, engine.ApplyRequest{Spec: e.writeSpec(t, 2)})
		if !errors.As(err, &le) || le.Holder.User != "ana" || len(e.liveNames()) != 0 {
			t.Fatalf("want the holder named and nothing done: err %v, live %v", err, e.liveNames())
		}
	})
	t.Run("stale saved plan", func(t *testing.T) {
		e := newFleetEnv(t)
		sp := e.writeSpec(t, 2)
		p, err := e.sess.Plan(ctx, sp, engine.PlanOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.apply(t, engine.ApplyRequest{Spec: sp}); err != nil {
			t.Fatal(err)
		}
		var se *engine.StalePlanError
		_, err = e.apply(t, engine.ApplyRequest{Saved: e.roundTrip(t, p)})
		if !errors.As(err, &se) || len(e.liveNames()) != 2 {
			t.Fatalf("a plan made before another apply must be refused as stale: err %v, live %v", err, e.liveNames())
		}
	})
}

// remoteClient is a client that does not say it is local (the real API's).
type remoteClient struct{ provider.Client }

// TestApplyPollIntervalFloor: Apply, not the front end, refuses a poll interval below its floor: 1 s
// against the real API, 10 ms against an emulator on this machine; nothing is locked or called.
func TestApplyPollIntervalFloor(t *testing.T) {
	e := newFleetEnv(t)
	sp := e.writeSpec(t, 1)
	cases := []struct {
		local  bool
		poll   time.Duration
		refuse bool
		reason string
	}{
		{true, 5 * time.Millisecond, true, "below the emulator's floor of 10 ms"},
		{false, 500 * time.Millisecond, true, "below the real API's floor of 1 s"},
		{false, time.Second, false, "the real API's floor itself"},
	}
	for _, tc := range cases {
		sess := *e.sess
		if !tc.local {
			sess.Client = remoteClient{e.sess.Client}
		}
		exec := e.exec()
		exec.PollInterval = tc.poll
		_, err := sess.Apply(context.Background(), engine.ApplyRequest{Spec: sp, Confirm: engine.AutoApprove{}, Exec: exec,
			Plan: engine.PlanOptions{Targets: []string{"nomatch"}}})
		refused := err != nil && strings.Contains(err.Error(), "poll interval")
		if refused != tc.refuse {
			t.Errorf("%s: poll %s local %v: %v", tc.reason, tc.poll, tc.local, err)
		}
	}
	if n := e.sim.MutatingCalls(); n != 0 {
		t.Errorf("%d mutating calls", n)
	}
}

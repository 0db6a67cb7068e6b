package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"net/http/httptest"

	"gopkg.in/yaml.v3"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/provider/gcw"
	"github.com/deskfleet/deskfleet/provider/sim"
	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/memory"
)

// crashStore simulates a process killed right after its n-th intent is stored: from then on no
// Update reaches the store. beforeCall makes the n-th intent's own Update report a failure (stored,
// but the process dies before making the call); otherwise the call is made and nothing after it
// is recorded.
type crashStore struct {
	state.Store
	n          int
	beforeCall bool
	intents    atomic.Int32
	dead       atomic.Bool
}

var errCrashed = errors.New("crashed (simulated)")

func (c *crashStore) Update(ctx context.Context, l *state.Lock, fn func(*state.Record) error) error {
	if c.dead.Load() {
		return errCrashed
	}
	added := false
	err := c.Store.Update(ctx, l, func(r *state.Record) error {
		before := len(r.Intents)
		if err := fn(r); err != nil {
			return err
		}
		added = len(r.Intents) > before
		return nil
	})
	if err == nil && added && int(c.intents.Add(1)) == c.n {
		c.dead.Store(true)
		if c.beforeCall {
			return errCrashed
		}
	}
	return err
}

// execEnv is a scenario's emulator and a store seeded with its state record.
type execEnv struct {
	*scnEnv
	sc    scenario
	clock *sim.ManualClock
	st    state.Store
	lock  *state.Lock
}

func loadScenario(t testing.TB, name string) scenario {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "scenarios", name, "scenario.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var sc scenario
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&sc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return sc
}

func newExecEnv(t testing.TB, name string) *execEnv {
	t.Helper()
	sc := loadScenario(t, name)
	e := newScnEnv(t, sc.Live)
	clock, ok := e.sim.Clock().(*sim.ManualClock)
	if !ok {
		t.Fatal("the scenario emulator has no manual clock")
	}
	// The same emulator behind a client without the default rate limit (10/s): the tests read
	// fifty desktops many times over.
	srv := httptest.NewServer(e.sim)
	t.Cleanup(srv.Close)
	c, err := gcw.New(gcw.Config{Endpoint: srv.URL, AccessKeyID: "scenario", Secret: "scenario-secret", Rate: -1})
	if err != nil {
		t.Fatal(err)
	}
	e.client = c
	st := memory.New()
	lock, err := st.Lock(context.Background(), "test", state.Holder{User: "test"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	seed := sc.State.toState()
	if err := st.Update(context.Background(), lock, func(r *state.Record) error {
		r.Desktops, r.Accounts = seed.Desktops, seed.Accounts
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return &execEnv{scnEnv: e, sc: sc, clock: clock, st: st, lock: lock}
}

// opts runs the executor on the emulator's clock: every wait advances it instead of sleeping, so
// 5-second tasks take no real time.
func (e *execEnv) opts() engine.ExecOptions {
	var n atomic.Int64
	return engine.ExecOptions{
		PollInterval: time.Second,
		Now:          e.clock.Now,
		Sleep: func(ctx context.Context, d time.Duration) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			e.clock.Advance(d)
			return nil
		},
		NewRequestID: func() string { return fmt.Sprintf("req-%04d", n.Add(1)) },
		Run:          state.Run{User: "test", Host: "test", Command: "deskfleet apply"},
	}
}

func (e *execEnv) record(t testing.TB) *state.Record {
	t.Helper()
	rec, err := e.st.Read(context.Background(), "test")
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// plan plans the scenario against the store's record, resetting the call counts first.
func (e *execEnv) plan(t testing.TB) *engine.Plan {
	t.Helper()
	e.sim.ResetCalls()
	return planScenario(t, e.scnEnv, e.sc, e.record(t))
}

func (e *execEnv) apply(t testing.TB, p *engine.Plan, opt engine.ExecOptions) (*engine.Result, error) {
	t.Helper()
	e.sim.ResetCalls()
	return engine.Apply(context.Background(), e.client, e.st, e.lock, p, opt)
}

// checkConverged plans again: nothing to do; every wanted desktop exists once, managed.
func (e *execEnv) checkConverged(t *testing.T) {
	t.Helper()
	p := e.plan(t)
	if !p.Empty() || len(p.Errors) > 0 {
		var lines []string
		for _, c := range p.Changes {
			lines = append(lines, fmt.Sprintf("%s %s %s %q -> %q (%s)", c.Action.Name(), c.Name, c.Attribute, c.Before, c.After, c.Reason))
		}
		for _, s := range p.Steps {
			lines = append(lines, fmt.Sprintf("step %d %s %v", s.ID, s.Op.Action(), s.Op.Desktops()))
		}
		t.Fatalf("plan after apply is not empty:\n  %s\nerrors: %+v", strings.Join(lines, "\n  "), p.Errors)
	}
	rec := e.record(t)
	for _, in := range rec.Intents {
		if in.Open() {
			t.Errorf("intent %s (%s) left %s", in.ID, in.Action, in.Status)
		}
	}
	count := map[string]int{}
	for _, d := range e.sim.Desktops() {
		count[d.Name]++
	}
	for _, w := range p.Want {
		if count[w.Name] != 1 {
			t.Errorf("desktop %s exists %d times, want once", w.Name, count[w.Name])
		}
		if w.VmID == "" {
			t.Errorf("desktop %s: no id in the plan after apply", w.Name)
		} else if _, ok := rec.Desktops[w.VmID]; !ok {
			t.Errorf("desktop %s (%s) is not in the record", w.Name, w.VmID)
		}
	}
}

func statuses(res *engine.Result) string {
	var parts []string
	for _, s := range res.Steps {
		x := fmt.Sprintf("%d:%s=%s", s.Step, s.Action, s.Status)
		if s.Err != nil && s.Status != engine.StepDone {
			x += fmt.Sprintf(" (%v)", s.Err)
		}
		parts = append(parts, x)
	}
	return strings.Join(parts, "; ")
}

// TestApplyScenarios applies golden scenarios on the emulator and plans again: the plan must be
// empty (the project's key property), with one mutating call per step and the journal complete.
func TestApplyScenarios(t *testing.T) {
	for _, tc := range []struct {
		name   string
		reason string
	}{
		{"create-with-everything", "label, binding and power off follow the CreateVm on the desktop it returned"},
		{"fifty-identical", "one CreateVm for fifty, then one call per operation; the new account is waited for before the bind"},
		{"rebuild-running", "the rebuild waits until the power-off has left the desktop stopped, then it is started again"},
		{"unbind-running", "unbind needs the desktop stopped: off, unbind, on"},
		{"rebind-stopped-wanted-off", "a stopped desktop is re-bound in place and stays off"},
		{"billing-to-monthly", "UpdateOrder converts both desktops in one call and records the auto-renewal"},
		{"create-group-scale-up", "growing a group creates only the missing desktops, named as the spec wants"},
		{"create-network-missing", "CreateVm reads the default network that CreateDefaultNet made and chooses subnet and gateway"},
		{"replace-product", "the old desktop is deleted (and leaves the record) before its replacement is created"},
		{"delete-removed", "a desktop removed from the spec is deleted and leaves the record"},
		{"accounts-batch-create", "three accounts in one CreateSubAccounts, recorded with their ids"},
		{"rename-outside", "a desktop renamed in the console is renamed back"},
		{"label-batched", "one UpdateVmLabels for every desktop sharing the label"},
		{"create-group-batched", "a group created in one call under the names CreateVm gives"},
		{"adopt-and-fix-label", "an adopted desktop is recorded at the start and its label set"},
		{"power-batched", "one OperateVm for all desktops to power"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newExecEnv(t, tc.name)
			p := e.plan(t)
			if len(p.Steps) == 0 {
				t.Fatal("the scenario plans no step")
			}
			var events []engine.Event
			opt := e.opts()
			opt.Observer = func(ev engine.Event) { events = append(events, ev) } // serialised by Apply
			res, err := e.apply(t, p, opt)
			if err != nil || res.Outcome != engine.OutcomeDone {
				t.Fatalf("%s: apply: %v (%s)", tc.reason, err, statuses(res))
			}
			if got := e.sim.MutatingCalls(); got != len(p.Steps) {
				t.Errorf("%s: %d mutating calls for %d steps: %v", tc.reason, got, len(p.Steps), e.sim.Calls())
			}
			rec := e.record(t)
			run := rec.Runs[len(rec.Runs)-1]
			if run.Outcome != "done" || len(run.Steps) != len(p.Steps) || run.ID != res.RunID {
				t.Errorf("journal: %+v", run)
			}
			if len(rec.Intents) != len(p.Steps) {
				t.Errorf("%d intents for %d steps", len(rec.Intents), len(p.Steps))
			}
			started, ended := map[int]bool{}, map[int]bool{}
			for _, ev := range events {
				switch ev.Kind {
				case engine.EventStepStarted:
					started[ev.Step] = true
				case engine.EventStepDone:
					ended[ev.Step] = true
				}
			}
			if len(started) != len(p.Steps) || len(ended) != len(p.Steps) {
				t.Errorf("events: %d started, %d done, want %d", len(started), len(ended), len(p.Steps))
			}
			e.checkConverged(t)
		})
	}
}

// TestApplyFailures: a failed step skips its dependants and no other step; partial results are
// results; the next apply converges.
func TestApplyFailures(t *testing.T) {
	for _, tc := range []struct {
		name, scenario string
		reason         string
		fault          func(s *sim.Sim)
		want           map[int]engine.StepStatus
		outcome        engine.Outcome
		check          func(t *testing.T, e *execEnv, res *engine.Result)
	}{
		{
			name: "create-task-fails-once", scenario: "fifty-identical",
			reason: "a CreateVm task that fails leaves 50 desktops in error: the run deletes them and creates them again, once, and goes on",
			fault:  func(s *sim.Sim) { s.FailNext(provider.ActionCreateVm, sim.FaultTaskFailed, 1) },
			want: map[int]engine.StepStatus{1: engine.StepDone, 2: engine.StepDone, 3: engine.StepDone,
				4: engine.StepDone, 5: engine.StepDone},
			outcome: engine.OutcomeDone,
			check: func(t *testing.T, e *execEnv, res *engine.Result) {
				calls := e.sim.Calls()
				if calls[provider.ActionCreateVm] != 2 || calls[provider.ActionDeleteVm] != 50 {
					t.Errorf("CreateVm %d, DeleteVm %d: want the creation made twice and its 50 failed desktops deleted once each",
						calls[provider.ActionCreateVm], calls[provider.ActionDeleteVm])
				}
				if n := len(e.sim.Desktops()); n != 50 {
					t.Errorf("%d desktops live, want 50 (none left in error, none twice)", n)
				}
				e.checkConverged(t)
			},
		},
		{
			name: "create-task-fails", scenario: "fifty-identical",
			reason: "a CreateVm that fails again after its desktops were replaced in the run skips the power, bind and label after it; the account, independent, is created",
			fault:  func(s *sim.Sim) { s.FailNext(provider.ActionCreateVm, sim.FaultTaskFailed, 2) },
			want: map[int]engine.StepStatus{1: engine.StepDone, 2: engine.StepFailed, 3: engine.StepSkipped,
				4: engine.StepSkipped, 5: engine.StepSkipped},
			outcome: engine.OutcomePartial,
			check: func(t *testing.T, e *execEnv, res *engine.Result) {
				// A failed CreateVm leaves its desktops in status error (the emulator's worst case):
				// they stay managed, and the next plan replaces them without asking (never ran).
				if n := len(e.record(t).Desktops); n != 50 {
					t.Errorf("%d desktops in the record, want the 50 the failed task left", n)
				}
				replaced := 0
				for _, c := range e.plan(t).Changes {
					if c.Action == engine.ActionReplace && c.Guard == engine.GuardNone {
						replaced++
					}
				}
				if replaced != 50 {
					t.Errorf("the next plan replaces %d of the 50 desktops left in error without a flag, want all", replaced)
				}
				if res.Steps[1].Message == "" || res.Steps[2].SkippedFor[0] != 2 {
					t.Errorf("failed step without the task's reason, or skipped without its cause: %+v", res.Steps[1:3])
				}
			},
		},
		{
			name: "update-order-partial", scenario: "billing-to-monthly",
			reason:  "UpdateOrder's failedVmIds make the step partial: one desktop monthly, the other failed",
			fault:   func(s *sim.Sim) { s.FailNext(provider.ActionUpdateOrder, sim.FaultTaskFailed, 1) },
			want:    map[int]engine.StepStatus{1: engine.StepPartial},
			outcome: engine.OutcomePartial,
			check: func(t *testing.T, e *execEnv, res *engine.Result) {
				if got := res.Steps[0].Failed; len(got) != 1 || got[0] != "d_001" {
					t.Errorf("failed items %v, want [d_001]", got)
				}
			},
		},
		{
			name: "account-batch-partial", scenario: "accounts-batch-create",
			reason: "CreateSubAccounts reports a refused entry: the others are created and recorded",
			fault: func(s *sim.Sim) {
				_, _ = s.AddAccount(sim.Account{ID: "acct-b", Email: "b@example.com", Name: "b", Status: "create"})
			},
			want:    map[int]engine.StepStatus{1: engine.StepPartial},
			outcome: engine.OutcomePartial,
			check: func(t *testing.T, e *execEnv, res *engine.Result) {
				rec := e.record(t)
				if _, ok := rec.Accounts["b@example.com"]; ok || rec.Accounts["a@example.com"].AccountID == "" {
					t.Errorf("accounts recorded: %+v", rec.Accounts)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newExecEnv(t, tc.scenario)
			p := e.plan(t)
			tc.fault(e.sim)
			res, err := e.apply(t, p, e.opts())
			if res == nil {
				t.Fatalf("no result: %v", err)
			}
			if res.Outcome != tc.outcome || (err == nil) != (tc.outcome == engine.OutcomeDone) {
				t.Fatalf("%s: outcome %s, err %v; want %s (%s)", tc.reason, res.Outcome, err, tc.outcome, statuses(res))
			}
			for id, want := range tc.want {
				if got := res.Steps[id-1].Status; got != want {
					t.Errorf("%s: step %d %s, want %s (%s)", tc.reason, id, got, want, statuses(res))
				}
			}
			if tc.check != nil {
				tc.check(t, e, res)
			}
			// The next apply does what is left.
			p2 := e.plan(t)
			res2, err := e.apply(t, p2, e.opts())
			if err != nil {
				t.Fatalf("second apply: %v (%s)", err, statuses(res2))
			}
			e.checkConverged(t)
		})
	}
}

// TestApplyUnknownOutcome: a CreateVm whose answer is lost (the work done, the reply dropped) is
// settled in the same run by reading back: its desktop is adopted by name, the steps after it go on,
// nothing is created twice, and one apply converges. No mutating call is ever resent.
func TestApplyUnknownOutcome(t *testing.T) {
	e := newExecEnv(t, "create-with-everything")
	p := e.plan(t)
	e.sim.FailNext(provider.ActionCreateVm, sim.FaultDropAfter, 1)
	res, err := e.apply(t, p, e.opts())
	if err != nil || res.Outcome != engine.OutcomeDone {
		t.Fatalf("want the lost answer settled in the run and the run done, got %v (%s)", err, statuses(res))
	}
	if n := e.sim.Calls()[provider.ActionCreateVm]; n != 1 {
		t.Errorf("CreateVm called %d times, want once: an answer lost after the work must never be resent", n)
	}
	rec := e.record(t)
	if len(rec.Intents) == 0 || rec.Intents[0].Status != state.IntentDone || !strings.Contains(rec.Intents[0].Error, "adopted") {
		t.Fatalf("the CreateVm intent: %+v, want done, settled by adopting the desktop found by name", rec.Intents[0])
	}
	for _, in := range rec.Intents {
		if in.Open() {
			t.Errorf("intent %s (%s) left open", in.ID, in.Action)
		}
	}
	e.checkConverged(t)
}

// TestApplyUnknownOutcomeNotDone: a CreateVm whose request was lost before the work is read back as
// not done, once at once and again createRecheck (30 s) after the call: none of its desktops was made,
// so the call is made again in the same run (its first intent closed failed, the second one done),
// and the apply converges in one run with each desktop created once.
func TestApplyUnknownOutcomeNotDone(t *testing.T) {
	e := newExecEnv(t, "create-with-everything")
	p := e.plan(t)
	e.sim.FailNext(provider.ActionCreateVm, sim.FaultDropBefore, 1)
	start := e.clock.Now()
	res, err := e.apply(t, p, e.opts())
	if err != nil || res.Steps[0].Status != engine.StepDone {
		t.Fatalf("want the creation done by its second call, got %v (%s)", err, statuses(res))
	}
	if n := e.sim.Calls()[provider.ActionCreateVm]; n != 2 {
		t.Errorf("CreateVm called %d times in the run, want twice (lost before the work, then made again)", n)
	}
	if waited := e.clock.Now().Sub(start); waited < 30*time.Second {
		t.Errorf("the run took %s of clock: the creation was made again before it was looked for 30 s after the call", waited)
	}
	rec := e.record(t)
	if open := openIntentIDs(rec); len(open) != 0 {
		t.Errorf("intents left open: %v (the read-back settled it)", open)
	}
	var creates []string
	for _, in := range rec.Intents {
		if in.Action == string(provider.ActionCreateVm) {
			creates = append(creates, string(in.Status))
		}
	}
	if want := []string{string(state.IntentFailed), string(state.IntentDone)}; !slices.Equal(creates, want) {
		t.Errorf("CreateVm intents %v, want %v", creates, want)
	}
	e.checkConverged(t)
}

// TestApplyUnknownOutcomeNeedsAPerson: a RebuildVm whose answer is lost cannot be settled by reading:
// its intent stays open for Settle and a person, the step is unknown, and the next apply refuses to
// run over it.
func TestApplyUnknownOutcomeNeedsAPerson(t *testing.T) {
	e := newExecEnv(t, "rebuild-running")
	p := e.plan(t)
	e.sim.FailNext(provider.ActionRebuildVm, sim.FaultDropAfter, 1)
	res, err := e.apply(t, p, e.opts())
	if !provider.IsUnknownOutcome(err) || len(res.With(engine.StepUnknown)) != 1 {
		t.Fatalf("want one step unknown, got %v (%s)", err, statuses(res))
	}
	if open := openIntentIDs(e.record(t)); len(open) != 1 {
		t.Fatalf("open intents %v, want the RebuildVm's", open)
	}
	if _, err := e.apply(t, e.plan(t), e.opts()); !errors.Is(err, engine.ErrOpenIntents) {
		t.Fatalf("apply over an open intent: %v", err)
	}
	if err := settleAnswering(t, e); err != nil {
		t.Fatalf("settle: %v", err)
	}
}

// openIntentIDs lists the ids of rec's open intents.
func openIntentIDs(rec *state.Record) []string {
	var ids []string
	for _, in := range rec.Intents {
		if in.Open() {
			ids = append(ids, in.ID)
		}
	}
	return ids
}

// TestApplyInterrupted: a cancelled context starts no new step, lets the call in flight be recorded
// and leaves its task to Settle.
func TestApplyInterrupted(t *testing.T) {
	e := newExecEnv(t, "create-with-everything")
	p := e.plan(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opt := e.opts()
	opt.Observer = func(ev engine.Event) {
		if ev.Kind == engine.EventTaskPolled && ev.Step == 1 {
			cancel()
		}
	}
	res, err := engine.Apply(ctx, e.client, e.st, e.lock, p, opt)
	if !errors.Is(err, context.Canceled) || res.Outcome != engine.OutcomeInterrupted {
		t.Fatalf("got %v, %s", err, statuses(res))
	}
	if res.Steps[0].Status != engine.StepInterrupted || res.Steps[1].Status != engine.StepSkipped {
		t.Errorf("steps: %s", statuses(res))
	}
	rec := e.record(t)
	if rec.Intents[0].Status != state.IntentSent || rec.Intents[0].TaskID == "" || len(rec.Desktops) != 1 {
		t.Fatalf("after the interruption: intents %+v, desktops %+v", rec.Intents, rec.Desktops)
	}
	if rec.Runs[len(rec.Runs)-1].Outcome != "interrupted" {
		t.Errorf("journal outcome %q", rec.Runs[len(rec.Runs)-1].Outcome)
	}
	if _, err := engine.Settle(context.Background(), e.client, e.st, e.lock, e.opts()); err != nil {
		t.Fatal(err)
	}
	if res, err := e.apply(t, e.plan(t), e.opts()); err != nil {
		t.Fatalf("apply after settle: %v (%s)", err, statuses(res))
	}
	e.checkConverged(t)
}

// TestApplyCrash kills the apply (simulated: the store takes no more writes) right after each of its
// intents is stored, before or after the call is made; then Settle, plan and apply again converge
// with no duplicate desktop and no deletion.
func TestApplyCrash(t *testing.T) {
	for _, name := range []string{"create-with-everything", "fifty-identical", "unbind-running", "create-network-missing", "rebuild-running"} {
		steps := len(newExecEnv(t, name).plan(t).Steps)
		for n := 1; n <= steps; n++ {
			for _, before := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s/intent-%d/before-call=%t", name, n, before), func(t *testing.T) {
					t.Parallel()
					e := newExecEnv(t, name)
					p := e.plan(t)
					cs := &crashStore{Store: e.st, n: n, beforeCall: before}
					_, err := engine.Apply(context.Background(), e.client, cs, e.lock, p, e.opts())
					if err == nil {
						t.Fatal("the crashed apply reported success")
					}
					// "Restart": the store holds what was written before the crash.
					if err := settleAnswering(t, e); err != nil {
						t.Fatalf("settle: %v", err)
					}
					// The crashed run is in the journal as abandoned, not as running for ever.
					runs := e.record(t).Runs
					if len(runs) != 1 || runs[0].Outcome != string(engine.OutcomeAbandoned) {
						t.Errorf("journal after the crash and settle: %+v, want the one run abandoned", runs)
					}
					e.sim.ResetCalls()
					p2 := e.plan(t)
					res, err := e.apply(t, p2, e.opts())
					if err != nil {
						t.Fatalf("apply after the crash: %v (%s)", err, statuses(res))
					}
					if n := e.sim.Calls()[provider.ActionDeleteVm]; n != 0 {
						t.Errorf("%d deletions after the crash", n)
					}
					e.checkConverged(t)
				})
			}
		}
	}
}

// TestSettleRebuildNeedsAPerson: a RebuildVm whose answer is lost cannot be settled by reading; the
// error says what to check and ResolveIntent records the answer.
func TestSettleRebuildNeedsAPerson(t *testing.T) {
	e := newExecEnv(t, "rebuild-running")
	p := e.plan(t)
	e.sim.FailNext(provider.ActionRebuildVm, sim.FaultDropAfter, 1)
	if _, err := e.apply(t, p, e.opts()); !provider.IsUnknownOutcome(err) {
		t.Fatalf("want an unknown outcome, got %v", err)
	}
	_, err := engine.Settle(context.Background(), e.client, e.st, e.lock, e.opts())
	var ue *engine.UnsettledError
	if !errors.As(err, &ue) || len(ue.Intents) != 1 {
		t.Fatalf("settle: %v", err)
	}
	msg := ue.Error()
	in := ue.Intents[0].Intent
	for _, want := range []string{"lab", "vm-lab", in.RequestID, in.ID, "console", "deskfleet state settle", "定制模板"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the message does not say %q:\n%s", want, msg)
		}
	}
	if e.sim.MutatingCalls() != 2 {
		t.Errorf("settle repeated a call: %v", e.sim.Calls())
	}
	if err := engine.ResolveIntent(context.Background(), e.st, e.lock, in.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := engine.ResolveIntent(context.Background(), e.st, e.lock, in.ID, true); !errors.Is(err, engine.ErrIntentNotOpen) {
		t.Errorf("resolving twice: %v", err)
	}
	if err := engine.ResolveIntent(context.Background(), e.st, e.lock, "nope", true); err == nil {
		t.Error("resolving an unknown intent succeeded")
	}
	if d := e.record(t).Desktops["vm-lab"]; d.ImageID != sim.ImageCustom {
		t.Errorf("image after ResolveIntent(done): %q", d.ImageID)
	}
	if _, err := engine.Settle(context.Background(), e.client, e.st, e.lock, e.opts()); err != nil {
		t.Fatal(err)
	}
	// The run stopped before the power-on: the next apply starts the desktop again, if planned.
	if res, err := e.apply(t, e.plan(t), e.opts()); err != nil {
		t.Fatalf("apply: %v (%s)", err, statuses(res))
	}
	e.checkConverged(t)
}

// TestSettleIdempotentPending: the pending intents of calls that are safe to repeat (here left by a
// process that died after recording the intent, before the call) are closed as failed, never
// repeated by Settle; the next plan redoes what is needed.
func TestSettleIdempotentPending(t *testing.T) {
	e := newExecEnv(t, "label-batched")
	p := e.plan(t)
	cs := &crashStore{Store: e.st, n: 1, beforeCall: true}
	if _, err := engine.Apply(context.Background(), e.client, cs, e.lock, p, e.opts()); err == nil {
		t.Fatal("the crashed apply reported success")
	}
	e.sim.ResetCalls()
	sr, err := engine.Settle(context.Background(), e.client, e.st, e.lock, e.opts())
	if err != nil || len(sr.Intents) == 0 {
		t.Fatalf("settle: %v %+v", err, sr)
	}
	for _, si := range sr.Intents {
		if si.Status != state.IntentFailed || !si.Repeatable {
			t.Errorf("settled %s %s as %s (repeatable %t), want failed and safe to repeat", si.ID, si.Action, si.Status, si.Repeatable)
		}
	}
	if e.sim.MutatingCalls() != 0 {
		t.Errorf("settle made a mutating call: %v", e.sim.Calls())
	}
	if res, err := e.apply(t, e.plan(t), e.opts()); err != nil {
		t.Fatalf("apply: %v (%s)", err, statuses(res))
	}
	e.checkConverged(t)
}

// TestApplyRepeatsSafeCalls: an UpdateVmLabels whose request was lost is read back as not done and,
// being safe to repeat, made again in the same run (each attempt with an intent of its own), up to
// three times: one apply converges.
func TestApplyRepeatsSafeCalls(t *testing.T) {
	e := newExecEnv(t, "label-batched")
	p := e.plan(t)
	e.sim.FailNext(provider.ActionUpdateVmLabels, sim.FaultDropBefore, 2)
	res, err := e.apply(t, p, e.opts())
	if err != nil || res.Outcome != engine.OutcomeDone {
		t.Fatalf("want the label call repeated and the run done, got %v (%s)", err, statuses(res))
	}
	labelSteps := 0
	for _, s := range p.Steps {
		if s.Op.Action() == provider.ActionUpdateVmLabels {
			labelSteps++
		}
	}
	if n, want := e.sim.Calls()[provider.ActionUpdateVmLabels], labelSteps+2; labelSteps == 0 || n != want {
		t.Errorf("UpdateVmLabels called %d times for %d label steps, want %d (one answered per step, two lost)", n, labelSteps, want)
	}
	ids := map[string]bool{}
	for _, in := range e.record(t).Intents {
		if ids[in.ID] {
			t.Errorf("intent id %s used twice", in.ID)
		}
		ids[in.ID] = true
	}
	e.checkConverged(t)
}

// TestApplyRefusesStalePlan: a plan made from another serial of the state is refused before any call.
func TestApplyRefusesStalePlan(t *testing.T) {
	e := newExecEnv(t, "label-batched")
	p := e.plan(t)
	p.StateSerial--
	if _, err := e.apply(t, p, e.opts()); !errors.Is(err, engine.ErrStalePlan) {
		t.Fatalf("got %v", err)
	}
	if e.sim.MutatingCalls() != 0 {
		t.Error("a stale plan made calls")
	}
}

// answerRebuild plays the person who checks a RebuildVm in the console: wait until the desktop is no
// longer being reinstalled, then say whether its image is the new one.
// settleAnswering settles what an interrupted apply left, as the next apply does; the intents only a
// person can settle (a rebuild whose answer was lost) are answered as that person would, after
// looking in the console.
func settleAnswering(t *testing.T, e *execEnv) error {
	t.Helper()
	_, err := engine.Settle(context.Background(), e.client, e.st, e.lock, e.opts())
	var ue *engine.UnsettledError
	if errors.As(err, &ue) {
		for _, u := range ue.Intents {
			answerRebuild(t, e, u.Intent)
		}
		_, err = engine.Settle(context.Background(), e.client, e.st, e.lock, e.opts())
	}
	return err
}

func answerRebuild(t *testing.T, e *execEnv, in state.Intent) {
	t.Helper()
	if in.Action != string(provider.ActionRebuildVm) || len(in.VmIDs) != 1 {
		t.Fatalf("unexpected unsettled intent %+v", in)
	}
	d, ok := e.sim.Desktop(in.VmIDs[0])
	for i := 0; ok && d.TaskID != "" && i < 100; i++ {
		e.clock.Advance(time.Second)
		d, ok = e.sim.Desktop(in.VmIDs[0])
	}
	if err := engine.ResolveIntent(context.Background(), e.st, e.lock, in.ID, ok && d.ImageID == sim.ImageCustom); err != nil {
		t.Fatal(err)
	}
}

// panickyClient is the API with one call that panics, as a bug in a response's handling would.
type panickyClient struct {
	provider.Client
}

func (panickyClient) UpdateVmLabels(context.Context, provider.UpdateVmLabelsRequest) (*provider.SyncResponse, error) {
	panic("a bug")
}

// TestApplyRecoversAPanic: a panic in a step's goroutine (a bug) fails that step and stops the run
// from starting more, with the run recorded, instead of killing the process.
func TestApplyRecoversAPanic(t *testing.T) {
	e := newExecEnv(t, "label-batched")
	p := e.plan(t)
	res, err := engine.Apply(context.Background(), panickyClient{e.client}, e.st, e.lock, p, e.opts())
	if err == nil || !strings.Contains(err.Error(), "internal error") || res == nil || res.Outcome == engine.OutcomeDone {
		t.Fatalf("want the run ended with an internal error, got %v (%v)", err, res)
	}
	if runs := e.record(t).Runs; len(runs) != 1 || runs[0].Outcome == string(engine.OutcomeRunning) {
		t.Errorf("the run's journal entry: %+v, want it ended", runs)
	}
}

// TestApplyCreatesAnswered5xxAfterWork: every CreateVm, CreateSubAccounts and CreateDefaultNet is
// done by the cloud and then answered with a 5xx, as a real cloud may do: the client never sends one
// again blindly and the engine reads each back in the same run: zero duplicates, converged in one
// apply.
func TestApplyCreatesAnswered5xxAfterWork(t *testing.T) {
	for _, tc := range []struct {
		name, scenario, reason string
		kind                   sim.FaultKind
	}{
		{"503", "create-with-everything", "a 503 after the work: adopted by name, the bindings and power after it go on", sim.Fault503After},
		{"500", "fifty-identical", "a 500 after a CreateVm of fifty: all fifty adopted, none twice", sim.Fault500After},
		{"502", "create-network-missing", "a gateway's 502 after CreateDefaultNet and CreateVm: the network and the desktops read back", sim.Fault502After},
		{"504", "accounts-batch-create", "a 504 after CreateSubAccounts: the accounts found by email", sim.Fault504After},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newExecEnv(t, tc.scenario)
			p := e.plan(t)
			// CreateDefaultNet is the one creation made again on purpose: a site has one default
			// network, and a second call answers 13500 while one exists or is being made.
			creates := map[provider.Action]int{}
			for _, s := range p.Steps {
				switch a := s.Op.Action(); a {
				case provider.ActionCreateVm, provider.ActionCreateSubAccounts, provider.ActionCreateSubAccount:
					creates[a]++
					e.sim.FailNext(a, tc.kind, 1)
				case provider.ActionCreateDefaultNet:
					e.sim.FailNext(a, tc.kind, 1)
				}
			}
			if len(creates) == 0 {
				t.Fatalf("scenario %s creates nothing", tc.scenario)
			}
			res, err := e.apply(t, p, e.opts())
			if err != nil || res.Outcome != engine.OutcomeDone {
				t.Fatalf("%s: %v (%s)", tc.reason, err, statuses(res))
			}
			for a, n := range creates {
				if got := e.sim.Calls()[a]; got != n {
					t.Errorf("%s: %s called %d times for %d steps: an answer lost after the work was resent", tc.reason, a, got, n)
				}
			}
			if d := duplicates(e.sim); len(d) > 0 {
				t.Errorf("%s: desktops live twice: %v", tc.reason, d)
			}
			e.checkConverged(t)
		})
	}
}

// TestApplyRepeatsFailedPowerTask: an OperateVm task that fails after doing half its desktops is made
// again in the same run for the other half only, and the apply converges in one run.
func TestApplyRepeatsFailedPowerTask(t *testing.T) {
	e := newExecEnv(t, "power-batched")
	p := e.plan(t)
	e.sim.FailNext(provider.ActionOperateVm, sim.FaultTaskFailed, 1)
	res, err := e.apply(t, p, e.opts())
	if err != nil {
		t.Fatalf("apply: %v (%s)", err, statuses(res))
	}
	if n := e.sim.Calls()[provider.ActionOperateVm]; n < 2 {
		t.Errorf("OperateVm called %d times, want its failed task's call made again", n)
	}
	e.checkConverged(t)
}

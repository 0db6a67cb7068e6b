package fleets

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/state"
)

func TestWorst(t *testing.T) {
	tests := []struct {
		reason string
		a, b   Exit
		want   Exit
	}{
		{"changes are worse than nothing to do", ExitOK, ExitChanges, ExitChanges},
		{"drift is worse than changes to review", ExitChanges, ExitDrift, ExitDrift},
		{"a held lock (rerun later) is worse than drift", ExitDrift, ExitLockHeld, ExitLockHeld},
		{"a stale plan is worse than a held lock", ExitStalePlan, ExitLockHeld, ExitStalePlan},
		{"a guard (a person must allow) is worse than a stale plan", ExitStalePlan, ExitGuard, ExitGuard},
		{"a cloud left half changed is worse than a guard that changed nothing", ExitGuard, ExitPartial, ExitPartial},
		{"an error is worst, though its number is lowest", ExitPartial, ExitError, ExitError},
		{"an error is worse than drift, whose number is higher", ExitError, ExitDrift, ExitError},
		{"ok with ok is ok", ExitOK, ExitOK, ExitOK},
		{"an unknown code is worst of all", ExitError, Exit(42), Exit(42)},
	}
	for _, tt := range tests {
		if got := Worst(tt.a, tt.b); got != tt.want {
			t.Errorf("%s: Worst(%d, %d) = %d, want %d", tt.reason, tt.a, tt.b, got, tt.want)
		}
		if got := Worst(tt.b, tt.a); got != tt.want {
			t.Errorf("%s: Worst(%d, %d) = %d, want %d (the order of the fleets must not matter)", tt.reason, tt.b, tt.a, got, tt.want)
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		reason string
		err    error
		exit   Exit
		hint   string
	}{
		{"a held lock is 4, and says how to wait", &state.LockedError{Fleet: "lab"}, ExitLockHeld, "--lock-timeout"},
		{"a stale lock names the unlock command", &state.LockedError{Fleet: "lab", Stale: true}, ExitLockHeld, "state unlock lab"},
		{"a blocked guard is 5 and names the flag", &engine.GuardError{Blocked: []engine.Blocked{{Guard: engine.GuardDelete}}}, ExitGuard, "--allow-delete"},
		{"a stale saved plan is 7", &engine.StalePlanError{Moved: []string{"x"}}, ExitStalePlan, "new plan"},
		{"a wrapped error is classified by what it wraps", errors.Join(errors.New("ctx"), &engine.StalePlanError{}), ExitStalePlan, ""},
		{"an unsettled earlier run is 1 with the settle command", &engine.SettleError{Err: errors.New("x")}, ExitError, "state settle"},
		{"a Git error is 1 with its hint", &GitError{Msg: "x", Fix: "fetch it"}, ExitError, "fetch it"},
		{"anything else is 1, with no hint here", context.Canceled, ExitError, ""},
	}
	for _, tt := range tests {
		exit, hint := Classify(tt.err)
		if exit != tt.exit || !strings.Contains(hint, tt.hint) || (tt.hint == "" && tt.exit == ExitError && hint != "") {
			t.Errorf("%s: Classify = %d %q, want %d and a hint with %q", tt.reason, exit, hint, tt.exit, tt.hint)
		}
	}
}

func TestApplyExit(t *testing.T) {
	step := func(s engine.StepStatus) engine.StepResult { return engine.StepResult{Status: s} }
	outcome := func(o engine.Outcome, errs int, steps ...engine.StepResult) *engine.ApplyOutcome {
		p := &engine.Plan{}
		for range errs {
			p.Errors = append(p.Errors, engine.Problem{Name: "x"})
		}
		return &engine.ApplyOutcome{Plan: p, Result: &engine.Result{Outcome: o, Steps: steps}}
	}
	tests := []struct {
		reason string
		out    *engine.ApplyOutcome
		err    error
		exit   Exit
		msg    string
	}{
		{"nothing to do is 0", &engine.ApplyOutcome{Plan: &engine.Plan{}}, nil, ExitOK, ""},
		{"every step done is 0", outcome(engine.OutcomeDone, 0, step(engine.StepDone)), nil, ExitOK, ""},
		{"done, but some changes could not be planned, is partial", outcome(engine.OutcomeDone, 1, step(engine.StepDone)), nil, ExitPartial, "could not be planned"},
		{"nothing done and only errors to plan is 1", &engine.ApplyOutcome{Plan: &engine.Plan{Errors: []engine.Problem{{}}}}, nil, ExitError, "cannot be planned"},
		{"interrupted is partial: the next apply finishes it", outcome(engine.OutcomeInterrupted, 0, step(engine.StepInterrupted)), nil, ExitPartial, "interrupted"},
		{"no step succeeded is 1", outcome(engine.OutcomeFailed, 0, step(engine.StepFailed)), errors.New("boom"), ExitError, "boom"},
		{"some done, some failed is partial", outcome(engine.OutcomePartial, 0, step(engine.StepDone), step(engine.StepFailed)), nil, ExitPartial, "partly applied"},
		{"an error before the first call is classified", nil, &engine.GuardError{Blocked: []engine.Blocked{{Guard: engine.GuardDelete}}}, ExitGuard, "flag"},
	}
	for _, tt := range tests {
		exit, _, msg := ApplyExit(tt.out, tt.err)
		got := ""
		if msg != nil {
			got = msg.Error()
		}
		if exit != tt.exit || !strings.Contains(got, tt.msg) || (tt.msg == "" && msg != nil) {
			t.Errorf("%s: ApplyExit = %d %q, want %d with %q", tt.reason, exit, got, tt.exit, tt.msg)
		}
	}
}

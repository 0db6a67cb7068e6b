package fleets

import (
	"errors"
	"fmt"
	"strings"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/state"
)

// Exit is how a command ended for one fleet, or for a run over many: the process exit code CI
// branches on (README.md's table; `deskfleet --help`).
type Exit int

// The exit codes.
const (
	ExitOK        Exit = 0 // done; no changes (plan --detailed-exitcode); no drift
	ExitError     Exit = 1 // an error: an invalid spec, an API failure, no step applied
	ExitChanges   Exit = 2 // plan --detailed-exitcode: there are changes
	ExitPartial   Exit = 3 // apply: partly applied
	ExitLockHeld  Exit = 4 // the fleet's lock is held by another process
	ExitGuard     Exit = 5 // apply: blocked by a guard
	ExitDrift     Exit = 6 // drift found
	ExitStalePlan Exit = 7 // apply PLANFILE: the saved plan is stale
)

// severity orders the exits from best to worst, for Worst: what needs nobody (ok, changes to review,
// drift to set back), then what a rerun or a person settles with nothing changed (a held lock, a stale
// plan, a guard), then a cloud left half changed (partial), and last an error.
var severity = []Exit{ExitOK, ExitChanges, ExitDrift, ExitLockHeld, ExitStalePlan, ExitGuard, ExitPartial, ExitError}

// Worst is the worse of two exits by the order 0 < 2 < 6 < 4 < 7 < 5 < 3 < 1; a run over many fleets
// exits with the worst of its fleets'. An exit outside the table is worst of all.
func Worst(a, b Exit) Exit {
	if rank(b) > rank(a) {
		return b
	}
	return a
}

func rank(e Exit) int {
	for i, s := range severity {
		if s == e {
			return i
		}
	}
	return len(severity)
}

// String is the exit's name in reports: ok, error, changes, partial, locked, blocked, drift, stale.
func (e Exit) String() string {
	switch e {
	case ExitOK:
		return "ok"
	case ExitError:
		return "error"
	case ExitChanges:
		return "changes"
	case ExitPartial:
		return "partial"
	case ExitLockHeld:
		return "locked"
	case ExitGuard:
		return "blocked"
	case ExitDrift:
		return "drift"
	case ExitStalePlan:
		return "stale"
	}
	return fmt.Sprintf("exit-%d", int(e))
}

// Classify is the exit of a fleet API error and a hint of what to do next: a held lock (or a fleet
// another pull request claims) 4, a guard 5,
// a stale saved plan 7, anything else 1, with the hint of the first error in the chain that has a
// Hint method (a *engine.TargetError, *engine.OwnedError, *DuplicateError, *GitError, ...), else ""
// (the front end may know one from the API error's kind).
func Classify(err error) (Exit, string) {
	var (
		locked  *state.LockedError
		guard   *engine.GuardError
		stale   *engine.StalePlanError
		settle  *engine.SettleError
		claimed *engine.ClaimedError
		hinted  interface{ Hint() string }
	)
	switch {
	case errors.As(err, &claimed):
		return ExitLockHeld, claimed.Hint()
	case errors.As(err, &locked):
		if locked.Stale {
			return ExitLockHeld, "the holder is gone: `deskfleet state unlock " + locked.Fleet + "` clears its lock"
		}
		return ExitLockHeld, "wait for it to finish, or pass --lock-timeout to wait"
	case errors.As(err, &guard):
		if flags := guard.Flags(); len(flags) > 0 {
			return ExitGuard, "review the plan above; to go ahead, run again with " + strings.Join(flags, " ") + " (each allows only what it names)"
		}
		return ExitGuard, "the plan file was changed, or made for another state: make a new plan"
	case errors.As(err, &stale):
		return ExitStalePlan, "make a new plan: deskfleet plan --out FILE"
	case errors.As(err, &settle):
		return ExitError, "once you know the outcome, `deskfleet state settle` records it; then apply again"
	case errors.As(err, &hinted):
		return ExitError, hinted.Hint()
	}
	return ExitError, ""
}

// PlanExit is plan's exit: 1 when some changes cannot be planned, 2 when detailed
// (--detailed-exitcode) and the fleet is not in sync (changes, or objects that need attention),
// else 0.
func PlanExit(p *engine.Plan, detailed bool) Exit {
	switch {
	case len(p.Errors) > 0:
		return ExitError
	case detailed && !p.InSync():
		return ExitChanges
	}
	return ExitOK
}

// DriftExit is drift's exit: 6 when the report finds drift, else 0.
func DriftExit(r *engine.DriftReport) Exit {
	if r.Drifted() {
		return ExitDrift
	}
	return ExitOK
}

// ApplyExit is apply's exit from its outcome and error, with the message and hint that explain it
// (an empty message: nothing to say): 0 done; 3 partly applied, applied with changes that could not
// be planned, or interrupted; 1 when no step succeeded or nothing could run; an error before the
// first call is classified (Classify).
func ApplyExit(out *engine.ApplyOutcome, err error) (exit Exit, hint string, msg error) {
	if out == nil || out.Result == nil {
		if err == nil && out != nil && out.Plan != nil && len(out.Plan.Errors) > 0 {
			return ExitError, "", fmt.Errorf("%s cannot be planned and nothing else is to do", count(len(out.Plan.Errors), "change"))
		}
		if err == nil && out != nil && out.Plan != nil && len(out.Plan.Unhealthy) > 0 {
			return ExitPartial, "", fmt.Errorf("nothing to apply, but the fleet is not in sync: attention needed for %s (see above)",
				count(len(out.Plan.Unhealthy), "object"))
		}
		if err == nil {
			return ExitOK, "", nil
		}
		exit, hint = Classify(err)
		return exit, hint, err
	}
	res, p := out.Result, out.Plan
	done := len(res.With(engine.StepDone, engine.StepPartial))
	switch {
	case res.Outcome == engine.OutcomeDone && len(p.Errors) == 0 && len(p.Unhealthy) == 0:
		return ExitOK, "", nil
	case res.Outcome == engine.OutcomeDone && len(p.Errors) == 0:
		return ExitPartial, "", fmt.Errorf("applied, but the fleet is not in sync: attention needed for %s (see above)",
			count(len(p.Unhealthy), "object"))
	case res.Outcome == engine.OutcomeDone:
		return ExitPartial, "", fmt.Errorf("applied, but %s could not be planned (see Errors above)", count(len(p.Errors), "change"))
	case res.Outcome == engine.OutcomeInterrupted:
		return ExitPartial, "run `deskfleet apply` again: it finishes what was in flight and applies the rest",
			errors.New("interrupted: the steps in flight were recorded")
	case done == 0:
		if err == nil {
			err = errors.New("no step succeeded")
		}
		return ExitError, "", err
	}
	if err == nil {
		err = errors.New("partly applied")
	}
	return ExitPartial, "fix what failed (see above) and run `deskfleet apply` again: it plans only what is left", err
}

// count is "1 change", "2 changes".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

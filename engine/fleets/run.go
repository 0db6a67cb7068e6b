package fleets

import (
	"context"
	"errors"
	"path/filepath"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/spec"
)

// ReportFormatVersion is the version of a run's JSON form (docs/fleets-json.md). It changes when a
// key changes meaning or goes away; a new key leaves it as it is.
const ReportFormatVersion = 1

// Command is what a run does to each fleet.
type Command string

// The commands a run can make.
const (
	CommandPlan  Command = "plan"
	CommandApply Command = "apply"
	CommandDrift Command = "drift"
	CommandCost  Command = "cost"
)

// Report is what a run over a repository's fleets did, fleet by fleet, in folder order.
type Report struct {
	Command Command
	Root    string
	// ChangedSince is the Git ref the run was limited by ("" for every fleet).
	ChangedSince string
	Fleets       []*Result
	// Bases are the fleet folders other fleets extend, which are not run (Repo.Bases).
	Bases []string
	// Exit is the worst of the fleets' exits (Worst).
	Exit Exit
	// Err, when set, is why no fleet was run (a *TargetsError): Exit is ExitError.
	Err error
}

// TargetsError is a run's error when it is given --target: globs of one fleet's desktops, which a
// repository of fleets does not run (--exclude, which leaves out, applies to every fleet).
type TargetsError struct{ Root string }

func (e *TargetsError) Error() string {
	return "--target is one fleet's, and -f names a fleet repository"
}

// Hint says how to target one fleet.
func (e *TargetsError) Hint() string {
	return "give one fleet's folder: -f " + filepath.Join(e.Root, "FLEET") + " --target ..."
}

// refuseTargets is the report of a run given targets: none of the fleets runs.
func refuseTargets(cmd Command, repo *Repo, targets []string) *Report {
	if len(targets) == 0 {
		return nil
	}
	return &Report{Command: cmd, Root: repo.Root, Exit: ExitError, Err: &TargetsError{Root: repo.Root}}
}

// Result is one fleet's part of a run. Exactly one of Plan, Drift, Applied and Cost is set when the
// command ran to its end; Err is set when it failed (Applied may then say how far it got).
type Result struct {
	Dir   string
	Fleet string
	// Unchanged: skipped, as no file of the fleet differs from the run's ChangedSince ref (Exit 0).
	Unchanged bool
	Plan      *engine.Plan
	Drift     *engine.DriftReport
	Applied   *engine.ApplyOutcome
	Cost      *engine.FleetCost
	// Exit is the fleet's own exit; Err, when set, why it is not 0 (nil for changes or drift found),
	// and Hint what to do about it.
	Exit Exit
	Err  error
	Hint string
	// Diagnostics are the spec's problems when Err is a *engine.SpecError; Warnings its warnings when
	// it is valid and the fleet ran.
	Diagnostics spec.Diagnostics
	Warnings    spec.Diagnostics
}

// Runner runs one command over a repository's fleets, one fleet after another, on one Session (each
// fleet takes its own lock in the Session's store where the command locks).
type Runner struct {
	Session *engine.Session
	// Changes, when set, limits the run to the fleets it Touches; the others are reported Unchanged.
	Changes *Changes
	// Before, when set, is called before each fleet that runs (a front end prints a heading); After
	// with its result.
	Before func(f *Fleet)
	After  func(r *Result)
}

// Plan plans every fleet; detailed is plan's --detailed-exitcode (changes exit 2). Targets are one
// fleet's: given any, no fleet runs (Report.Err).
func (rn *Runner) Plan(ctx context.Context, repo *Repo, opt engine.PlanOptions, detailed bool) *Report {
	if rep := refuseTargets(CommandPlan, repo, opt.Targets); rep != nil {
		return rep
	}
	return rn.run(ctx, repo, CommandPlan, func(f *Fleet, r *Result) {
		p, err := rn.Session.Plan(ctx, f.Spec, opt)
		if err != nil {
			r.fail(err)
			return
		}
		r.Plan, r.Exit = p, PlanExit(p, detailed)
		if len(p.Errors) > 0 {
			r.Err = errors.New(count(len(p.Errors), "change") + " cannot be planned (see Errors)")
		}
	})
}

// Drift checks every fleet for drift.
func (rn *Runner) Drift(ctx context.Context, repo *Repo, opt engine.DriftOptions) *Report {
	if rep := refuseTargets(CommandDrift, repo, opt.Targets); rep != nil {
		return rep
	}
	return rn.run(ctx, repo, CommandDrift, func(f *Fleet, r *Result) {
		d, err := rn.Session.Drift(ctx, f.Spec, opt)
		if err != nil {
			r.fail(err)
			return
		}
		r.Drift, r.Exit = d, DriftExit(d)
	})
}

// Cost prices every fleet, now and projected (engine.Session.Cost): reads only, exit 0 unless a
// fleet fails.
func (rn *Runner) Cost(ctx context.Context, repo *Repo, opt engine.CostOptions) *Report {
	return rn.run(ctx, repo, CommandCost, func(f *Fleet, r *Result) {
		fc, err := rn.Session.Cost(ctx, f.Spec, opt)
		if err != nil {
			r.fail(err)
			return
		}
		r.Cost = fc
	})
}

// Apply applies every fleet's spec, with the request req makes for it (its Spec is set here, and a
// Saved plan dropped: a saved plan is one fleet's, and a front end refuses one with a repository).
func (rn *Runner) Apply(ctx context.Context, repo *Repo, req func(f *Fleet) engine.ApplyRequest) *Report {
	for _, f := range repo.Fleets {
		if rep := refuseTargets(CommandApply, repo, req(f).Plan.Targets); rep != nil {
			return rep
		}
	}
	return rn.run(ctx, repo, CommandApply, func(f *Fleet, r *Result) {
		rq := req(f)
		rq.Spec, rq.Saved = f.Spec, nil
		out, err := rn.Session.Apply(ctx, rq)
		r.Applied = out
		r.Exit, r.Hint, r.Err = ApplyExit(out, err)
		var se *engine.SpecError
		if errors.As(err, &se) {
			r.Diagnostics = se.Diags
		}
	})
}

// run calls do for every fleet to run (those with a usable spec, within Changes), after an
// interruption (ctx done) only reporting the fleets left; it fills in the exits.
func (rn *Runner) run(ctx context.Context, repo *Repo, cmd Command, do func(f *Fleet, r *Result)) *Report {
	rep := &Report{Command: cmd, Root: repo.Root, Bases: repo.Bases}
	if rn.Changes != nil {
		rep.ChangedSince = rn.Changes.Ref
	}
	for _, f := range repo.Fleets {
		r := &Result{Dir: f.Dir, Fleet: f.Name()}
		switch {
		case rn.Changes != nil && !rn.Changes.Touches(f):
			r.Unchanged = true
		case f.Err != nil:
			rn.before(f)
			r.fail(f.Err)
		case ctx.Err() != nil:
			r.fail(errors.New("not run: interrupted before this fleet"))
		default:
			rn.before(f)
			r.Warnings = f.Spec.Warnings
			do(f, r)
		}
		if !r.Unchanged && rn.After != nil {
			rn.After(r)
		}
		rep.Fleets = append(rep.Fleets, r)
		rep.Exit = Worst(rep.Exit, r.Exit)
	}
	return rep
}

func (rn *Runner) before(f *Fleet) {
	if rn.Before != nil {
		rn.Before(f)
	}
}

// fail records err as the fleet's error, with its exit, hint and, for a spec error, diagnostics.
func (r *Result) fail(err error) {
	r.Err = err
	r.Exit, r.Hint = Classify(err)
	var se *engine.SpecError
	if errors.As(err, &se) {
		r.Diagnostics = se.Diags
	}
}

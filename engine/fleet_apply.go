package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/deskfleet/deskfleet/state"
)

// Confirmer is asked, once a plan has passed its guards and before the first call, whether to go
// ahead: a nil error goes ahead, any error stops the apply with nothing changed (and is returned as
// it is). A terminal front end asks a person; a pipeline passes AutoApprove.
type Confirmer interface {
	Confirm(ctx context.Context, p *Plan) error
}

// AutoApprove is the Confirmer that always goes ahead (`apply --auto-approve`).
type AutoApprove struct{}

// Confirm goes ahead.
func (AutoApprove) Confirm(context.Context, *Plan) error { return nil }

// ErrNoConfirmer is Apply's error when the request has no Confirmer: the engine never applies a plan
// nobody approved.
var ErrNoConfirmer = errors.New("apply: no confirmer: pass one (AutoApprove to apply without asking)")

// ApplyRequest is one apply: of a fresh plan of Spec, or of the saved plan Saved.
type ApplyRequest struct {
	// Spec is the spec to plan from when Saved is nil.
	Spec *Spec
	// Saved is a plan made earlier (LoadPlan); Apply refuses it when anything it read has moved since
	// (*StalePlanError).
	Saved *Plan
	// Plan narrows a fresh plan; its MaxDeletePercent also judges a saved plan's deletions.
	Plan PlanOptions
	// Approvals are what the caller allows; Confirm is asked before the first call.
	Approvals Approvals
	Confirm   Confirmer
	// OnPlan, when set, is called once with the plan about to be judged (guards) and applied, e.g. to
	// show it to the person who confirms.
	OnPlan func(*Plan)
	// LockTimeout is how long to wait for another holder's lock (0: fail at once, naming it).
	LockTimeout time.Duration
	// PullRequest is the number of the pull request whose merge this apply is (0: none). A fleet
	// claimed by a pull request is applied only by that request's apply, which ends the claim.
	PullRequest int
	// Exec tunes the executor and receives its events (Observer); Exec.Run's User, Host and Command
	// are filled from the Session's Holder when empty.
	Exec ExecOptions
}

// ApplyOutcome is what Apply did: the settling of an earlier run, the plan, and the executor's
// result (nil when nothing was executed: an empty plan, or an error before the first call).
type ApplyOutcome struct {
	Settled *SettleResult
	Plan    *Plan
	Result  *Result
}

// StalePlanError is Apply's error for a saved plan when something it read has moved since it was
// made: Moved says what. Nothing was changed.
type StalePlanError struct {
	Moved []string
}

func (e *StalePlanError) Error() string {
	return "the saved plan is stale: " + strings.Join(e.Moved, "; ")
}

// SettleError is Apply's error when what an earlier apply left in flight could not be settled (an
// *UnsettledError names what a person must check). Nothing new was started.
type SettleError struct {
	Err error
}

func (e *SettleError) Error() string { return e.Err.Error() }
func (e *SettleError) Unwrap() error { return e.Err }

// Apply makes the live fleet match the plan, under the fleet's lock. It first refuses a request it
// must not run: Exec.PollInterval below its floor (CheckPollInterval: MinPollInterval, or
// MinLocalPollInterval against an emulator on this machine), a power-only request with a saved plan
// that does more. Then it
//
//  1. takes the fleet's lock (a *state.LockedError names the holder; a holder whose process is known
//     to be gone is taken over, with a Notify), and checks the fleet's pull-request claim: claimed by
//     another request than req.PullRequest is a *ClaimedError (the apply of the claiming request
//     ends its claim when it succeeds);
//  2. settles what an earlier apply left in flight (*SettleError when it cannot);
//  3. plans afresh from Spec, or checks that the saved plan's state serial and everything it read
//     are unchanged (*StalePlanError);
//  4. calls OnPlan; an empty plan ends here (Result nil);
//  5. checks the guards from the plan's steps and the record, whatever the plan says of itself
//     (*GuardError lists what is blocked; nothing is changed);
//  6. asks Confirm (ErrNoConfirmer without one);
//  7. executes the plan (Apply's contract), recording every call.
//
// The outcome carries what was done up to the error, if any.
func (s *Session) Apply(ctx context.Context, req ApplyRequest) (*ApplyOutcome, error) {
	if req.Saved == nil && req.Spec == nil {
		return nil, errors.New("apply: neither a spec nor a saved plan")
	}
	if req.Confirm == nil {
		return nil, ErrNoConfirmer
	}
	if req.Saved != nil && req.Plan.Only != "" && req.Saved.Only != req.Plan.Only {
		// A scheduled power-only job must never run a saved plan that does more.
		return nil, fmt.Errorf("apply --only %s: the saved plan is not a --only %s plan; make one with `deskfleet plan --only %s --out FILE`",
			req.Plan.Only, req.Plan.Only, req.Plan.Only)
	}
	if req.Exec.PollInterval != 0 { // zero: the default, above every floor
		if err := CheckPollInterval(req.Exec.PollInterval, s.localAPI()); err != nil {
			return nil, err
		}
	}
	fleet := req.fleet()
	lock, err := s.lock(ctx, fleet, "deskfleet apply", req.LockTimeout)
	if err != nil {
		return nil, err
	}
	defer s.Store.Unlock(context.WithoutCancel(ctx), lock) //nolint:errcheck // best effort; a stale lock is reported next time
	if err := s.checkClaim(ctx, fleet, req.PullRequest); err != nil {
		return nil, err
	}
	out, err := s.applyLocked(ctx, req, fleet, lock)
	if err == nil && req.PullRequest > 0 {
		err = s.claimApplied(ctx, fleet, req.PullRequest)
	}
	return out, err
}

// applyLocked is Apply from step 2, under the fleet's lock.
func (s *Session) applyLocked(ctx context.Context, req ApplyRequest, fleet string, lock *state.Lock) (*ApplyOutcome, error) {
	opt := req.Exec
	if opt.Parallelism < 1 {
		opt.Parallelism = s.Parallelism
	}
	out := &ApplyOutcome{}
	var err error
	if out.Settled, err = Settle(ctx, s.Client, s.Store, lock, opt); err != nil {
		return out, &SettleError{Err: err}
	}
	rec, err := s.Store.Read(ctx, fleet)
	if err != nil {
		return out, err
	}
	if out.Plan, err = s.planToApply(ctx, req, rec); err != nil {
		return out, err
	}
	p := out.Plan
	if req.OnPlan != nil {
		req.OnPlan(p)
	}
	if p.Empty() {
		return out, nil
	}
	if blocked := CheckGuards(p, rec, req.Approvals, req.Plan.MaxDeletePercent); len(blocked) > 0 {
		return out, &GuardError{Blocked: blocked}
	}
	if err := req.Confirm.Confirm(ctx, p); err != nil {
		return out, err
	}
	opt.Run = s.runInfo(opt.Run, req, p)
	out.Result, err = Apply(ctx, s.Client, s.Store, lock, p, opt)
	return out, err
}

// fleet is the fleet the request applies to: the saved plan's, else the spec's.
func (r ApplyRequest) fleet() string {
	if r.Saved != nil {
		return r.Saved.Fleet
	}
	return r.Spec.Fleet.Name
}

// planToApply plans afresh from the request's spec, or, for a saved plan, plans again from the spec
// it names and returns the new plan only when it is the saved one: a saved plan is an approval of
// exactly these steps, not a program to run as written.
func (s *Session) planToApply(ctx context.Context, req ApplyRequest, rec *state.Record) (*Plan, error) {
	if req.Saved == nil {
		l, err := s.read(ctx, req.Spec)
		if err != nil {
			return nil, err
		}
		return s.planFrom(ctx, l, rec, req.Plan, req.Spec), nil
	}
	saved := req.Saved
	sp, err := savedSpec(req)
	if err != nil {
		return nil, err
	}
	l, err := s.read(ctx, sp)
	if err != nil {
		return nil, err
	}
	if moved := staleness(saved, sp, rec, l); len(moved) > 0 {
		return nil, &StalePlanError{Moved: moved}
	}
	// Planned again as the saved plan was (plan has no --max-delete-percent): the caller's limit
	// judges the result in CheckGuards; other fleets' owners are read afresh.
	again := s.diff(ctx, l, rec, PlanOptions{Targets: saved.Targets, Excludes: saved.Excludes, Only: saved.Only,
		BatchLimits: saved.BatchLimits}, sp)
	var moved []string
	if diff := planDifference(saved, again); diff != "" {
		moved = append(moved, diff)
	}
	if saved.Damaged() {
		moved = append(moved, "the plan file does not match its checksum: it was damaged or edited after it was saved")
	}
	if len(moved) > 0 {
		return nil, &StalePlanError{Moved: moved}
	}
	again.SpecFiles, again.Targets, again.Excludes = saved.SpecFiles, saved.Targets, saved.Excludes
	again.Cost, again.Reads = saved.Cost, s.reads(l)
	return again, nil
}

// savedSpec is the spec a saved plan is checked against: the one the request names (which must be
// the plan's), else the files the plan names.
func savedSpec(req ApplyRequest) (*Spec, error) {
	saved := req.Saved
	if req.Spec != nil {
		if req.Spec.Fleet.Digest != saved.SpecDigest {
			return nil, &StalePlanError{Moved: []string{fmt.Sprintf(
				"the spec given (%s) is not the one the plan was made from (%s), or it changed since",
				strings.Join(req.Spec.Fleet.Files, ", "), strings.Join(saved.SpecFiles, ", "))}}
		}
		return req.Spec, nil
	}
	if len(saved.SpecFiles) == 0 {
		return nil, &StalePlanError{Moved: []string{"the plan does not name its spec files (made by an older deskfleet)"}}
	}
	sp, err := LoadSpec(saved.SpecFiles)
	if err != nil {
		return nil, fmt.Errorf("loading the spec the plan was made from (%s): %w", strings.Join(saved.SpecFiles, ", "), err)
	}
	return sp, nil
}

// staleness lists what moved since a saved plan was made: the spec, the state record (another apply
// ran) and every live object the plan read, as l read them again.
func staleness(p *Plan, sp *Spec, rec *state.Record, l *live) []string {
	var moved []string
	if sp.Fleet.Digest != p.SpecDigest {
		moved = append(moved, fmt.Sprintf("the spec changed since the plan was made (%s)", strings.Join(sp.Fleet.Files, ", ")))
	}
	if rec.Serial != p.StateSerial {
		moved = append(moved, fmt.Sprintf("the state changed (serial %d, the plan was made at %d)", rec.Serial, p.StateSerial))
	}
	return append(moved, Stale(p, Fingerprints(l.snapshot))...)
}

// planDifference names the first difference between a saved plan and the same plan made again ("" when
// they agree): a step, the changes, the plan-wide guards or the plan's errors, compared in their JSON
// form, which is what the reviewer saw.
func planDifference(saved, again *Plan) string {
	for i := range max(len(saved.Steps), len(again.Steps)) {
		var was, is any
		if i < len(saved.Steps) {
			was = saved.Steps[i]
		}
		if i < len(again.Steps) {
			is = again.Steps[i]
		}
		if d := jsonDifference(fmt.Sprintf("step %d", i+1), was, is); d != "" {
			return d
		}
	}
	parts := []struct {
		name    string
		was, is any
	}{
		{"the changes", saved.Changes, again.Changes},
		{"the plan-wide guards", saved.Guards, again.Guards},
		{"the changes that cannot be planned", saved.Errors, again.Errors},
		{"the objects that need attention", saved.Unhealthy, again.Unhealthy},
	}
	for _, part := range parts {
		if d := jsonDifference(part.name, part.was, part.is); d != "" {
			return d
		}
	}
	return ""
}

// jsonDifference says how was and is differ in their JSON forms ("" when they are equal).
func jsonDifference(what string, was, is any) string {
	a, errA := json.Marshal(was)
	b, errB := json.Marshal(is)
	if errA == nil && errB == nil && bytes.Equal(a, b) {
		return ""
	}
	return fmt.Sprintf("%s differs from the plan made again now: the saved plan has %s, now %s", what, clip(a), clip(b))
}

// clip shortens a JSON text for a message.
func clip(b []byte) string {
	const limit = 300
	if len(b) > limit {
		return string(b[:limit]) + "…"
	}
	return string(b)
}

// runInfo completes the journal entry of an apply: who runs it (from the Session's Holder), the spec's
// digest and, for a fresh plan, the Git commit of the spec's folder.
func (s *Session) runInfo(run state.Run, req ApplyRequest, p *Plan) state.Run {
	if run.User == "" {
		run.User = s.Holder.User
	}
	if run.Host == "" {
		run.Host = s.Holder.Host
	}
	if run.Command == "" {
		run.Command = "deskfleet apply"
	}
	run.SpecDigest = p.SpecDigest
	if req.Saved == nil && run.GitCommit == "" {
		run.GitCommit = gitCommit(req.Spec.Fleet.Files)
	}
	return run
}

// gitCommit returns the commit of the Git work tree holding the spec's last file (the fleet's own:
// Fleet.Files lists the bases it extends first, and a base may live in another repository), ""
// outside one (or without git).
func gitCommit(files []string) string {
	if len(files) == 0 {
		return ""
	}
	out, err := exec.Command("git", "-C", filepath.Dir(files[len(files)-1]), "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// localAPI reports whether the Session's API is an emulator on this machine (a client that says so:
// gcw.Client.Local), where a poll interval below MinPollInterval is allowed.
func (s *Session) localAPI() bool {
	l, ok := s.Client.(interface{ Local() bool })
	return ok && l.Local()
}

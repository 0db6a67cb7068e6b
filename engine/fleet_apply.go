package engine

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
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

// Apply makes the live fleet match the plan, under the fleet's lock:
//
//  1. takes the fleet's lock (a *state.LockedError names the holder; a holder whose process is known
//     to be gone is taken over, with a Notify);
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
	fleet := req.fleet()
	lock, err := s.lock(ctx, fleet, "deskfleet apply", req.LockTimeout)
	if err != nil {
		return nil, err
	}
	defer s.Store.Unlock(context.WithoutCancel(ctx), lock) //nolint:errcheck // best effort; a stale lock is reported next time

	opt := req.Exec
	if opt.Parallelism < 1 {
		opt.Parallelism = s.Parallelism
	}
	out := &ApplyOutcome{}
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

// planToApply plans afresh from the request's spec, or returns its saved plan once checked fresh
// against rec and the live account.
func (s *Session) planToApply(ctx context.Context, req ApplyRequest, rec *state.Record) (*Plan, error) {
	if req.Saved == nil {
		l, err := s.read(ctx, req.Spec)
		if err != nil {
			return nil, err
		}
		return s.planFrom(ctx, l, rec, req.Plan), nil
	}
	moved, err := s.staleness(ctx, req.Saved, rec)
	if err != nil {
		return nil, err
	}
	if len(moved) > 0 {
		return nil, &StalePlanError{Moved: moved}
	}
	return req.Saved, nil
}

// staleness re-reads what a saved plan read and lists what moved since; a state serial that moved
// is stale too (another apply ran).
func (s *Session) staleness(ctx context.Context, p *Plan, rec *state.Record) ([]string, error) {
	var moved []string
	if rec.Serial != p.StateSerial {
		moved = append(moved, fmt.Sprintf("the state changed (serial %d, the plan was made at %d)", rec.Serial, p.StateSerial))
	}
	snap, err := Observe(ctx, s.Client, ObserveOptions{SiteIDs: observedSites(p), Parallelism: s.Parallelism})
	if err != nil {
		return nil, err
	}
	return append(moved, Stale(p, Fingerprints(snap))...), nil
}

// observedSites lists the sites whose networks p read, sorted.
func observedSites(p *Plan) []string {
	var sites []string
	for k := range p.Observed {
		if site, ok := strings.CutPrefix(k, "net:"); ok {
			sites = append(sites, site)
		}
	}
	sort.Strings(sites)
	return sites
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

// gitCommit returns the commit of the Git work tree holding the spec's first file, "" outside one
// (or without git).
func gitCommit(files []string) string {
	if len(files) == 0 {
		return ""
	}
	out, err := exec.Command("git", "-C", filepath.Dir(files[0]), "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// lock takes the fleet's lock for command, waiting up to timeout. A holder whose process is known to
// be gone (same host, pid not running) cannot be using the lock: it is taken over, with a Notify; what
// that run left in flight is for Settle. Unlock removes exactly the stale lock read here: if another
// process took the fleet meanwhile, its lock stays and the second Lock names it.
func (s *Session) lock(ctx context.Context, fleet, command string, timeout time.Duration) (*state.Lock, error) {
	holder := s.Holder
	holder.Command, holder.Since = command, time.Now()
	lock, err := s.Store.Lock(ctx, fleet, holder, timeout)
	var stale *state.LockedError
	if !errors.As(err, &stale) || !stale.Stale {
		return lock, err
	}
	s.notify(fmt.Sprintf("taking over the stale lock of %s: that process is gone", stale.Holder))
	cur, err := s.Store.CurrentLock(ctx, fleet)
	if err != nil {
		return nil, err
	}
	if cur != nil && cur.Holder.ProcessGone() {
		if err := s.Store.Unlock(ctx, cur); err != nil {
			return nil, err
		}
	}
	return s.Store.Lock(ctx, fleet, holder, timeout)
}

func (s *Session) notify(msg string) {
	if s.Notify != nil {
		s.Notify(msg)
	}
}

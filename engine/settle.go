package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/state"
)

// SettledIntent is what Settle made of one open intent.
type SettledIntent struct {
	ID      string
	Step    int
	Action  string
	Targets []string
	// Was is the status found (pending or sent); Status the one recorded (done or failed), or Was
	// when the intent stays open.
	Was    state.IntentStatus
	Status state.IntentStatus
	// Note says how the outcome was found ("task completed", "found 3 desktops by name", ...).
	Note string
	// Adopted are the names of desktops found and recorded as managed (a CreateVm whose answer was
	// lost).
	Adopted []string
	// Repeatable is true when the call was found not done and is safe to make again (a setter).
	Repeatable bool
}

// SettleResult lists the intents Settle looked at, oldest first.
type SettleResult struct {
	Intents []SettledIntent
}

// UnsettledError is Settle's error when some intents' outcomes cannot be found out by reading the
// API (a RebuildVm or RenewalOrder whose answer was lost): a person must look in the console and
// tell deskfleet with ResolveIntent (`deskfleet state settle`). Until then Apply refuses to run.
type UnsettledError struct {
	Intents []UnsettledIntent
}

// UnsettledIntent is one intent a person must settle, with what to check.
type UnsettledIntent struct {
	Intent state.Intent
	// Check says what to look at and how to answer.
	Check string
}

func (e *UnsettledError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d call(s) of an earlier apply have an outcome deskfleet cannot find out by itself:", len(e.Intents))
	for _, u := range e.Intents {
		b.WriteString("\n  - ")
		b.WriteString(u.Check)
	}
	return b.String()
}

// ErrIntentNotOpen is ResolveIntent's error for an intent that is already settled.
var ErrIntentNotOpen = errors.New("the intent is not open")

// Settle finds out how the calls that an earlier apply left open ended, and records it: run it before
// planning, with the fleet's lock held. It never repeats a mutating call: it reads only.
//
//   - sent with a task id: the task is polled to its end (TaskTimeout), and its outcome recorded (a
//     finished CreateVm's desktops are read back and named; a DeleteVm's desktop leaves the record).
//   - pending (no answer recorded): CreateVm: live desktops with the intent's names (as the spec or
//     as CreateVm names them) that the record does not manage are adopted, none means it was not
//     created; CreateSubAccount(s): by email; UpdateOrder: the desktops' billing tells; DeleteVm:
//     whether the desktop still exists; CreateDefaultNet: whether the default network exists; the
//     idempotent calls are closed as failed (unknown) so that the next plan redoes what is still
//     needed; RebuildVm and RenewalOrder cannot be told apart by reading: they stay open and Settle
//     returns an *UnsettledError saying what to check and how to answer (ResolveIntent).
//
// Runs the journal still calls running are marked abandoned (OutcomeAbandoned): under the lock, none
// can still be going.
//
// Each settled intent is recorded at once (one Update each). Errors: the store's; ctx's; an
// *UnsettledError (the others are settled all the same); an error when a task still runs after
// TaskTimeout (it stays open: settle again later). Observer receives intent_settled events.
func Settle(ctx context.Context, c provider.Client, st state.Store, lock *state.Lock, opt ExecOptions) (*SettleResult, error) {
	opt = opt.withDefaults()
	rec, err := st.Read(ctx, lock.Fleet)
	if err != nil {
		return nil, fmt.Errorf("settle: reading the state: %w", err)
	}
	s := &settler{c: c, st: st, lock: lock, opt: opt, recCtx: context.WithoutCancel(ctx)}
	res := &SettleResult{}
	var unsettled []UnsettledIntent
	var errs []error
	open := openIntents(rec)
	if len(open) > 0 && opt.Observer != nil {
		opt.Observer(Event{Kind: EventSettleStarted, At: opt.Now(), OpenCalls: len(open)})
	}
	for _, in := range open {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("settle: %w", err)
		}
		si, check, err := s.settle(ctx, in)
		if err != nil {
			errs = append(errs, fmt.Errorf("settle %s (%s): %w", in.ID, in.Action, err))
		}
		if check != "" {
			unsettled = append(unsettled, UnsettledIntent{Intent: in, Check: check})
		}
		res.Intents = append(res.Intents, si)
		if opt.Observer != nil {
			opt.Observer(Event{Kind: EventIntentSettled, At: opt.Now(), Step: in.Step, Action: provider.Action(in.Action),
				Targets: describeList(in.Targets), TaskID: in.TaskID, Intent: in.ID, Status: si.Status, Err: err})
		}
	}
	if len(unsettled) > 0 {
		errs = append(errs, &UnsettledError{Intents: unsettled})
	}
	if err := s.closeAbandonedRuns(rec); err != nil {
		errs = append(errs, err)
	}
	return res, errors.Join(errs...)
}

// closeAbandonedRuns marks the journal's runs still "running" as abandoned.
func (s *settler) closeAbandonedRuns(rec *state.Record) error {
	if !slices.ContainsFunc(rec.Runs, func(r state.Run) bool { return r.Outcome == string(OutcomeRunning) }) {
		return nil
	}
	err := s.st.Update(s.recCtx, s.lock, func(rec *state.Record) error {
		for _, run := range rec.Runs {
			if run.Outcome == string(OutcomeRunning) {
				run.Outcome = string(OutcomeAbandoned)
				rec.SetRun(run)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("settle: closing the journal's abandoned runs: %w", err)
	}
	return nil
}

type settler struct {
	c      provider.Client
	st     state.Store
	lock   *state.Lock
	opt    ExecOptions
	recCtx context.Context
}

// settle finds out one intent's outcome and records it. check is set when a person must.
func (s *settler) settle(ctx context.Context, in state.Intent) (SettledIntent, string, error) {
	si := SettledIntent{ID: in.ID, Step: in.Step, Action: in.Action, Targets: in.Targets, Was: in.Status, Status: in.Status}
	pj, perr := decodeParams(in.Params)
	switch {
	case in.Status == state.IntentSent && in.TaskID == "":
		return s.close(si, state.IntentDone, "answered; nothing to wait for", nil)
	case in.Status == state.IntentSent:
		return s.settleTask(ctx, in, pj, si)
	case perr != nil:
		return si, s.humanCheck(in), nil
	}
	st, err := pj.Step.Op.settlePending(ctx, s, in, pj)
	switch {
	case err != nil:
		return si, "", err
	case st.ask != "":
		return si, st.ask, nil
	}
	si.Adopted, si.Repeatable = st.adopted, st.repeat
	return s.close(si, st.status, st.note, func(rec *state.Record) {
		if st.record {
			s.recordDone(rec, pj, st.failed, st.accountIDs)
		}
		if st.also != nil {
			st.also(rec)
		}
	})
}

// settlement is what an op's settlePending found out about a call whose answer was lost.
type settlement struct {
	// status is the intent's outcome (done or failed) and note how it was found.
	status state.IntentStatus
	note   string
	// ask, when set, says what a person must check: the intent stays open (status and note unset).
	ask string
	// record: the op's effect is recorded (Op.record), for its items but those in failed;
	// accountIDs are the ids read of the accounts it made.
	record     bool
	failed     []string
	accountIDs map[string]string
	// also changes the record further; adopted names the desktops it adopts.
	also    func(*state.Record)
	adopted []string
	// repeat: the call was not found done and is safe to make again.
	repeat bool
}

func settled(status state.IntentStatus, note string) settlement {
	return settlement{status: status, note: note}
}

// settleRepeatable settles a call that is safe to repeat as failed, so that the next plan redoes
// what is still needed. A call on desktops may have set them moving (a power call): they are let
// settle first, so that the next plan sees where they stand.
func settleRepeatable(ctx context.Context, s *settler, in state.Intent) settlement {
	if len(in.VmIDs) > 0 {
		waitDesktops(ctx, s.c, s.opt, in.VmIDs)
	}
	st := settled(state.IntentFailed, "outcome unknown; the call is safe to repeat: the next plan redoes it if still needed")
	st.repeat = true
	return st
}

// paramsEffect is the effect an intent's op records, with the Want its params keep.
func paramsEffect(pj paramsJSON, now time.Time, failed []string, accountIDs map[string]string) effect {
	return newEffect(now, failed, pj.Want, pj.WantAccounts, accountIDs)
}

// recordDone records the effect of an intent's op that Settle found done (but for the failed items),
// as Apply records it (run.effects): the op's record, with the Want the intent's params keep.
func (s *settler) recordDone(rec *state.Record, pj paramsJSON, failed []string, accountIDs map[string]string) {
	pj.Step.Op.record(rec, paramsEffect(pj, s.opt.Now(), failed, accountIDs))
}

// settleTask polls a recorded task to its end and records its outcome as Apply does: a creation's
// desktops are read back and named, and a done op's effect is recorded (Op.record).
func (s *settler) settleTask(ctx context.Context, in state.Intent, pj paramsJSON, si SettledIntent) (SettledIntent, string, error) {
	_, err := pollTask(ctx, s.c, s.opt, in.TaskID, in.RequestID, nil)
	var tf *provider.TaskFailedError
	if err != nil && !errors.As(err, &tf) {
		return si, "", err // still running (or unreadable): stays open
	}
	status, note := state.IntentDone, "task completed"
	if tf != nil {
		status, note = state.IntentFailed, "task failed: "+tf.Task.FailReason
	}
	op := pj.Step.Op
	var live map[string]*provider.Desktop
	if op != nil && changesDesktops(op) {
		live = waitDesktops(ctx, s.c, s.opt, in.VmIDs)
	}
	return s.close(si, status, note, func(rec *state.Record) {
		if create, ok := op.(CreateDesktops); ok {
			nameCreated(rec, create, in.VmIDs, live)
		}
		if op != nil && status == state.IntentDone {
			s.recordDone(rec, pj, nil, nil)
		}
	})
}

// unmanagedNamed lists, sorted, the live desktops of a creation's site and product that the record
// does not manage and that have one of its names (the spec's, or CreateVm's), with their readings.
func (s *settler) unmanagedNamed(ctx context.Context, op CreateDesktops) ([]string, map[string]*provider.Desktop, error) {
	rec, err := s.st.Read(ctx, s.lock.Fleet)
	if err != nil {
		return nil, nil, err
	}
	names := map[string]bool{}
	for _, n := range op.Names {
		names[n] = true
	}
	for _, n := range op.APINames() {
		names[n] = true
	}
	list, err := s.c.QueryVms(ctx, provider.QueryVmsRequest{SiteID: op.Site.ID, ProductID: op.ProductID})
	if err != nil {
		return nil, nil, err
	}
	var ids []string
	for _, id := range list.VmIDs {
		if _, managed := rec.Desktops[id]; !managed {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	live := map[string]*provider.Desktop{}
	var cands []string
	for _, id := range ids {
		d, err := s.c.QueryVm(ctx, provider.QueryVmRequest{VmID: id})
		if provider.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		d.ID = id
		if names[d.Name] && d.Status != provider.StatusGone {
			live[id] = d
			cands = append(cands, id)
		}
	}
	return cands, live, nil
}

// close records the intent's outcome (and fn's changes to the record) in one Update.
func (s *settler) close(si SettledIntent, status state.IntentStatus, note string, fn func(*state.Record)) (SettledIntent, string, error) {
	now := s.opt.Now()
	err := s.st.Update(s.recCtx, s.lock, func(rec *state.Record) error {
		if in, ok := rec.Intent(si.ID); !ok || !in.Open() {
			return fmt.Errorf("intent %s: %w", si.ID, ErrIntentNotOpen)
		}
		if fn != nil {
			fn(rec)
		}
		in, _ := rec.Intent(si.ID) // fn may have changed it
		in.Status, in.EndedAt, in.Error = status, now, "settled: "+note
		rec.SetIntent(in)
		return nil
	})
	if err != nil {
		return si, "", err
	}
	si.Status, si.Note = status, note
	return si, "", nil
}

// humanCheck says what a person must look at to settle an intent whose parameters cannot be read,
// and how to answer. (An op that cannot be settled by reading says so itself: settlePending.)
func (s *settler) humanCheck(in state.Intent) string {
	return fmt.Sprintf("%s of %s, requestId %s, sent %s (intent %s): its parameters cannot be read, so its outcome cannot be checked automatically. "+
		"Check in the Capital Online console whether it took effect; %s.", in.Action, intentDesktops(in), in.RequestID, sentAt(in), in.ID, howToAnswer(in))
}

// sentAt is when the intent's call was sent, for a person.
func sentAt(in state.Intent) string { return in.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC") }

// howToAnswer says how a person tells deskfleet what became of an intent.
func howToAnswer(in state.Intent) string {
	return fmt.Sprintf("then run `deskfleet state settle %s --done` if it took effect, or `deskfleet state settle %s --not-done` if it did not", in.ID, in.ID)
}

// ResolveIntent records a person's answer about an open intent that Settle could not settle (what
// `deskfleet state settle` exposes): done true means the call took effect, false that it did not.
// A done call's effect is recorded as Apply records it (Op.record): for a RebuildVm the desktop's image
// becomes the new one; for a RenewalOrder the auto-renewal it set; a DeleteVm's desktop leaves the
// record. The caller holds
// lock. Idempotent in effect: an intent already settled is refused with ErrIntentNotOpen; an unknown
// id is an error naming it.
func ResolveIntent(ctx context.Context, st state.Store, lock *state.Lock, intentID string, done bool) error {
	return st.Update(ctx, lock, func(rec *state.Record) error {
		in, ok := rec.Intent(intentID)
		if !ok {
			return fmt.Errorf("no intent %s in the state of fleet %s", intentID, lock.Fleet)
		}
		if !in.Open() {
			return fmt.Errorf("intent %s is %s: %w", intentID, in.Status, ErrIntentNotOpen)
		}
		now := time.Now()
		status, note := state.IntentFailed, "settled by hand: did not take effect"
		if done {
			status, note = state.IntentDone, "settled by hand: took effect"
			if pj, err := decodeParams(in.Params); err == nil {
				pj.Step.Op.record(rec, paramsEffect(pj, now, nil, nil))
			}
		}
		in.Status, in.Error, in.EndedAt = status, note, now
		rec.SetIntent(in)
		return nil
	})
}

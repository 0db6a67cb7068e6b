package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/state"
)

// prepared is a step ready to call: its op with every id resolved, and what its intent records.
type prepared struct {
	op      Op       // the step's op with the ids of desktops and accounts filled in
	targets []string // names (or emails, or the site) for the intent
	vmIDs   []string // the desktops' ids, in op.Desktops order (none for a creation)
	// want and wantAccounts are the plan's Want for the op's desktops and accounts: the intent keeps
	// them, so that Settle records the op's effect as Apply does.
	want         []state.Desktop
	wantAccounts []state.Account
}

// callResult is what a call answered.
type callResult struct {
	taskID  string
	vmIDs   []string // CreateVm: the new desktops; others: the desktops the task works on
	failed  []string // items (desktop names, emails) that failed in a partial answer
	failMsg string
	okVmIDs []string // UpdateOrder/RenewalOrder: the desktops that succeeded
	// accountIDs are the ids of the sub-accounts a creation made, by email, as read back.
	accountIDs map[string]string
}

// stepRun is one step of a run under way: its result so far and the clock it started at.
type stepRun struct {
	r     *run
	s     Step
	res   *StepResult
	start time.Time
	// intent is the intent recorded for the step's current call (recordIntent).
	intent state.Intent
	// attempts counts the calls made (each with an intent of its own); orig is the op as first
	// prepared when a failed task made it call again for less (its effect is recorded whole).
	attempts int
	orig     *prepared
	// recreated is set once a failed creation was replaced in the run (recreateFailed); tag marks
	// the intents of a call the step makes for another op (RUN/STEP.TAG: a deletion it needs).
	recreated bool
	tag       string
}

// exec runs one step to its end and records it: (1) resolve its ids, (2) record its intent, (3) make
// the call, (4) record the answer, (5) wait for its task, (6) let its desktops settle and record
// the outcome. It never panics on an API answer and always returns a result. release (nil: none)
// is called once the call is answered and recorded, before the wait for its task: the step then
// gives its request slot back to the scheduler.
func (r *run) exec(ctx context.Context, s Step, release func()) *StepResult {
	x := &stepRun{r: r, s: s, res: newStepResult(s), start: r.opt.Now()}
	r.emit(x.event(EventStepStarted))

	pr, err := r.prepare(ctx, s)
	if err != nil {
		return x.unresolved(ctx, err)
	}
	if why := x.mustNotStart(ctx); why != nil {
		return x.finish(StepSkipped, fmt.Errorf("not started: %w", why))
	}
	for {
		res, next := x.callAndAwait(ctx, pr, release)
		if next == nil {
			return res
		}
		// A failed task that is safe to repeat: the call again, for what it left undone.
		x.orig, pr, release = cmp.Or(x.orig, pr), next, nil
	}
}

// callAndAwait makes the step's call for pr (again while its answers are lost and it is safe to
// repeat) and waits for its task; next is what to call again when the task failed and the op is safe
// to repeat for what it left undone (taskRepeater).
func (x *stepRun) callAndAwait(ctx context.Context, pr *prepared, release func()) (res *StepResult, next *prepared) {
	r, s := x.r, x.s
	var reqID string
	var cr *callResult
	for cr == nil {
		x.attempts++
		if reqID, res = x.recordIntent(pr, x.attempts); res != nil {
			return res, nil
		}
		// The call is not cancelled by Ctrl-C, so that its answer is recorded.
		var err error
		if cr, err = pr.op.call(r.recCtx, r.env(), reqID); err == nil {
			break
		}
		if !provider.IsUnknownOutcome(err) || ctx.Err() != nil {
			return x.callFailed(err), nil
		}
		if res, again := x.unknownOutcome(ctx, err, x.attempts); !again {
			return res, nil
		}
	}
	x.answered(cr)
	if !s.Async() || cr.taskID == "" {
		return x.finishSync(pr, cr), nil
	}
	if err := x.recordAnswer(pr, cr); err != nil {
		return x.finish(StepFailed, err), nil
	}
	if release != nil {
		release()
	}
	return x.awaitTask(ctx, pr, cr, reqID)
}

// event is an event about the step, as it stands.
func (x *stepRun) event(k EventKind) Event {
	return Event{Kind: k, Step: x.s.ID, Op: x.s.Op.Kind(), Action: x.s.Op.Action(), Targets: x.res.Targets,
		TaskID: x.res.TaskID, Elapsed: x.r.opt.Now().Sub(x.start), Err: x.res.Err}
}

// stepEvents are the events that end a step, by its status.
var stepEvents = map[StepStatus]EventKind{StepSkipped: EventStepSkipped, StepDone: EventStepDone,
	StepPartial: EventStepPartial, StepFailed: EventStepFailed, StepUnknown: EventStepUnknown,
	StepInterrupted: EventStepInterrupted}

// finish ends the step with status and err: the API's code and message, the objects that did not
// succeed, the event.
func (x *stepRun) finish(status StepStatus, err error) *StepResult {
	res := x.res
	res.Status, res.Err, res.Elapsed = status, err, x.r.opt.Now().Sub(x.start)
	if ae, ok := provider.AsAPIError(err); ok {
		res.Code, res.Message = ae.Code, ae.Message
	}
	var tf *provider.TaskFailedError
	if errors.As(err, &tf) {
		res.Message = tf.Task.FailReason
	}
	switch status {
	case StepDone:
	case StepPartial:
		x.r.markFailed(x.s, res.Failed)
	default:
		x.r.markFailed(x.s, nil)
	}
	x.r.emit(x.event(stepEvents[status]))
	return res
}

// journalled ends the step with status and err after recording it in the run's journal (a failure
// to record is not the step's: the end of the run records it again).
func (x *stepRun) journalled(status StepStatus, err error) *StepResult {
	x.res.Err = err
	_ = x.r.update(func(rec *state.Record) error { x.r.journal(rec, x.res, status); return nil })
	return x.finish(status, err)
}

// unresolved ends a step whose ids could not be resolved.
func (x *stepRun) unresolved(ctx context.Context, err error) *StepResult {
	if ctx.Err() != nil {
		return x.finish(StepSkipped, fmt.Errorf("not started: %w", ctx.Err()))
	}
	x.res.Err = err
	_ = x.r.update(func(rec *state.Record) error { x.r.journal(rec, x.res, StepFailed); return nil })
	return x.finish(StepFailed, fmt.Errorf("resolving the step's targets: %w", err))
}

// mustNotStart says why the step must not start now: the run stopped, or ctx ended.
func (x *stepRun) mustNotStart(ctx context.Context) error {
	if stop := x.r.stopped(); stop != nil {
		return stop
	}
	return ctx.Err()
}

// recordIntent records the step's intent before its call (the intent before the side effect) and
// returns the call's request id; a result when the step ends here. A call made again (attempt > 1)
// has an intent of its own: RUN/STEP, then RUN/STEP.2, RUN/STEP.3.
func (x *stepRun) recordIntent(pr *prepared, attempt int) (string, *StepResult) {
	r, s := x.r, x.s
	reqID := r.opt.NewRequestID()
	id := fmt.Sprintf("%s/%d", r.id, s.ID)
	if x.tag != "" {
		id += "." + x.tag
	}
	if attempt > 1 {
		id = fmt.Sprintf("%s.%d", id, attempt)
	}
	x.res.RequestID, x.res.IntentID, x.res.VmIDs = reqID, id, pr.vmIDs
	resolved := s
	resolved.Op = pr.op
	params, err := encodeParams(resolved, pr.want, pr.wantAccounts)
	if err != nil {
		return "", x.journalled(StepFailed, fmt.Errorf("encoding the intent of step %d: %w", s.ID, err))
	}
	intent := state.Intent{ID: x.res.IntentID, RunID: r.id, Step: s.ID, Op: string(s.Op.Kind()),
		Action: string(s.Op.Action()), RequestID: reqID, Targets: pr.targets, VmIDs: pr.vmIDs,
		Params: params, Status: state.IntentPending, StartedAt: r.opt.Now()}
	if err := r.update(func(rec *state.Record) error { rec.AppendIntent(intent); return nil }); err != nil {
		err = fmt.Errorf("recording the intent of step %d: %w", s.ID, err)
		r.halt(err)
		return "", x.finish(StepFailed, err)
	}
	x.intent = intent
	return reqID, nil
}

// maxRepeats bounds how many times a call that is safe to repeat is made in one step (its answers
// lost, or its task failed for part of its work): four calls in all.
const maxRepeats = 4

// unknownOutcome settles at once a call whose answer was lost (the op's own read-back, as Settle
// does on the next run) instead of stopping the run, and says whether to make the call again:
//   - found done: the step is done (its effect recorded) and the steps after it go on;
//   - found not done: a call that is safe to repeat (a setter) is made again, up to maxRepeats
//     times in all; any other (a creation, a deletion, an order) fails the step: it is never resent
//     in the run, and the next plan makes it again if it is still needed;
//   - reading cannot tell (RebuildVm, RenewalOrder) or fails: the intent stays open for Settle (and
//     a person), the step is unknown.
//
// In every case only the steps that depend on this one wait; independent steps go on.
func (x *stepRun) unknownOutcome(ctx context.Context, callErr error, attempt int) (*StepResult, bool) {
	r := x.r
	st := &settler{c: r.c, st: r.st, lock: r.lock, opt: r.opt, recCtx: r.recCtx}
	si, check, err := st.settle(ctx, x.intent)
	switch {
	case err != nil || check != "":
		return x.journalled(StepUnknown, callErr), false
	case si.Status == state.IntentDone:
		x.adoptSettled(si)
		x.res.Err = nil
		return x.journalled(StepDone, nil), false
	case si.Repeatable && attempt < maxRepeats:
		return nil, true
	}
	return x.journalled(StepFailed, fmt.Errorf("%w; read back: %s", callErr, si.Note)), false
}

// adoptSettled makes the desktops a settled creation adopted known to the steps after it, as an
// answered creation's are (recordAnswer).
func (x *stepRun) adoptSettled(si SettledIntent) {
	create, ok := x.s.Op.(CreateDesktops)
	if !ok {
		return
	}
	rec, err := x.r.st.Read(x.r.recCtx, x.r.lock.Fleet)
	if err != nil {
		return
	}
	r := x.r
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, name := range create.Names {
		for _, id := range rec.DesktopsNamed(name) {
			r.vmIDs[name] = id
			r.created[x.s.ID] = append(r.created[x.s.ID], id)
		}
	}
	slices.Sort(r.created[x.s.ID])
	x.res.VmIDs = r.created[x.s.ID]
}

// callFailed ends a step whose call was refused: its intent is closed failed.
func (x *stepRun) callFailed(err error) *StepResult {
	r := x.r
	if provider.IsUnknownOutcome(err) { // ctx ended: Settle finishes it next time
		return x.journalled(StepUnknown, err)
	}
	x.res.Err = err
	if uerr := r.update(func(rec *state.Record) error {
		closeIntent(rec, x.res.IntentID, state.IntentFailed, err.Error(), r.opt.Now())
		r.journal(rec, x.res, StepFailed)
		return nil
	}); uerr != nil {
		r.halt(uerr)
	}
	return x.finish(StepFailed, err)
}

// answered notes what the call answered: the task, the desktops, the failed items, the ids of new
// accounts (for the bindings after).
func (x *stepRun) answered(cr *callResult) {
	x.res.TaskID = cr.taskID
	if len(cr.vmIDs) > 0 {
		x.res.VmIDs = cr.vmIDs
	}
	x.res.Failed = cr.failed
	if len(cr.accountIDs) > 0 {
		x.r.mu.Lock()
		maps.Copy(x.r.acctIDs, cr.accountIDs)
		x.r.mu.Unlock()
	}
}

// finishSync records the outcome of a call with no task to wait for: done, partial when some items
// failed, failed when all did.
func (x *stepRun) finishSync(pr *prepared, cr *callResult) *StepResult {
	r := x.r
	status := StepDone
	var serr error
	if len(cr.failed) > 0 {
		status = StepPartial
		serr = fmt.Errorf("failed for %s: %s", describeList(cr.failed), cr.failMsg)
		if len(cr.failed) >= len(pr.targets) {
			status = StepFailed
		}
	}
	x.res.Err = serr
	if err := r.update(func(rec *state.Record) error {
		ist, msg := state.IntentDone, ""
		if serr != nil {
			msg = serr.Error()
			if status == StepFailed {
				ist = state.IntentFailed
			}
		}
		closeIntent(rec, x.res.IntentID, ist, msg, r.opt.Now())
		if status != StepFailed {
			r.effects(rec, pr, cr)
		}
		r.journal(rec, x.res, status)
		return nil
	}); err != nil {
		r.halt(err)
		return x.finish(StepFailed, fmt.Errorf("the call succeeded but recording it failed: %w", err))
	}
	return x.finish(status, serr)
}

// recordAnswer records a task's id and desktops; new desktops are managed from now on.
func (x *stepRun) recordAnswer(pr *prepared, cr *callResult) error {
	r, s := x.r, x.s
	create, isCreate := s.Op.(CreateDesktops)
	if err := r.update(func(rec *state.Record) error {
		if in, ok := rec.Intent(x.res.IntentID); ok {
			in.Status, in.TaskID = state.IntentSent, cr.taskID
			if len(cr.vmIDs) > 0 {
				in.VmIDs = cr.vmIDs
			}
			rec.SetIntent(in)
		}
		if isCreate {
			recordCreated(rec, create, pr.want, cr.vmIDs, r.opt.Now())
		}
		return nil
	}); err != nil {
		r.halt(fmt.Errorf("recording the answer of step %d: %w", s.ID, err))
		return err
	}
	if isCreate {
		r.mu.Lock()
		r.created[s.ID] = cr.vmIDs
		for i, id := range cr.vmIDs {
			if i < len(create.Names) {
				r.vmIDs[create.Names[i]] = id
			}
		}
		r.mu.Unlock()
	}
	return nil
}

// awaitTask waits for the step's task, lets its desktops settle (reading the names of new ones
// back) and records the outcome. A wait that ends without the task's final status leaves the intent
// sent for Settle.
func (x *stepRun) awaitTask(ctx context.Context, pr *prepared, cr *callResult, reqID string) (*StepResult, *prepared) {
	r := x.r
	_, terr := pollTaskOf(ctx, r.c, r.opt, r.durations, x.s.Op.Action(), cr.taskID, reqID, func(t *provider.Task) {
		e := x.event(EventTaskPolled)
		e.TaskStatus = t.Status
		r.emit(e)
	})
	if terr != nil && ctx.Err() != nil {
		return x.journalled(StepInterrupted, terr), nil
	}
	var tf *provider.TaskFailedError
	if terr != nil && !errors.As(terr, &tf) {
		// No final status (timed out, or QueryTask refused): the intent stays sent for Settle.
		return x.journalled(StepFailed, terr), nil
	}
	live := r.settleDesktops(ctx, x.s, cr.vmIDs)
	if next := x.repeatFailedTask(ctx, pr, cr, tf, live); next != nil {
		return nil, next
	}
	status := StepDone
	if terr != nil {
		status = StepFailed
	}
	x.res.Err = terr
	if err := r.update(func(rec *state.Record) error {
		ist, msg := state.IntentDone, ""
		if terr != nil {
			ist, msg = state.IntentFailed, terr.Error()
		}
		closeIntent(rec, x.res.IntentID, ist, msg, r.opt.Now())
		if op, ok := x.s.Op.(CreateDesktops); ok {
			r.fixCreated(rec, x.s.ID, op, cr.vmIDs, live)
		}
		if status == StepDone {
			r.effects(rec, cmp.Or(x.orig, pr), cr)
		}
		r.journal(rec, x.res, status)
		return nil
	}); err != nil {
		r.halt(err)
		return x.finish(StepFailed, fmt.Errorf("the task ended but recording it failed: %w", err)), nil
	}
	return x.finish(status, terr), nil
}

// journal appends the step's outcome to the run's journal entry.
func (r *run) journal(rec *state.Record, res *StepResult, status StepStatus) {
	sr := *res
	sr.Status = status
	rec.AppendRunStep(r.id, stepOutcome(sr))
}

// closeIntent records the intent's outcome (found by id in O(1): no scan of the journal).
func closeIntent(rec *state.Record, id string, status state.IntentStatus, msg string, now time.Time) {
	if in, ok := rec.Intent(id); ok {
		in.Status, in.Error, in.EndedAt = status, msg, now
		rec.SetIntent(in)
	}
}

func describeList(items []string) string {
	if len(items) > 3 {
		return fmt.Sprintf("%s and %d more", strings.Join(items[:3], ", "), len(items)-3)
	}
	return strings.Join(items, ", ")
}

// effect is what an op's record needs besides the op: the time, the items that failed, and what
// the plan wants for its desktops and accounts.
type effect struct {
	now time.Time
	// failed are the items (desktop names, emails) the call did not do.
	failed map[string]bool
	// want and wantAccounts are the plan's Want by name and WantAccounts by email.
	want         map[string]state.Desktop
	wantAccounts map[string]state.Account
	// accountIDs are the ids of accounts made by the op, by email.
	accountIDs map[string]string
}

func (fx effect) wantAccount(email string) (state.Account, bool) {
	a, ok := fx.wantAccounts[email]
	return a, ok
}

// desktops applies fn to the record's entry of each desktop of ts that did not fail, with what the
// plan wants for it, and marks it applied now.
func (fx effect) desktops(rec *state.Record, ts []Target, fn func(d *state.Desktop, want state.Desktop)) {
	for _, t := range ts {
		if fx.failed[t.Name] || t.VmID == "" {
			continue
		}
		d, ok := rec.Desktops[t.VmID]
		if !ok {
			continue
		}
		fn(&d, fx.want[t.Name])
		d.AppliedAt = fx.now
		rec.PutDesktop(d)
	}
}

// newEffect makes an effect from lists, as an intent's params keep them.
func newEffect(now time.Time, failed []string, want []state.Desktop, wantAccounts []state.Account, accountIDs map[string]string) effect {
	fx := effect{now: now, failed: map[string]bool{}, want: map[string]state.Desktop{},
		wantAccounts: map[string]state.Account{}, accountIDs: accountIDs}
	for _, f := range failed {
		fx.failed[f] = true
	}
	for _, w := range want {
		fx.want[w.Name] = w
	}
	for _, a := range wantAccounts {
		fx.wantAccounts[a.Email] = a
	}
	return fx
}

// effects records, after a step succeeded (wholly or for some items), the record's fields that the
// step enforces: the op's record, with the plan's Want.
func (r *run) effects(rec *state.Record, pr *prepared, cr *callResult) {
	r.mu.Lock()
	ids := maps.Clone(r.acctIDs)
	r.mu.Unlock()
	pr.op.record(rec, newEffect(r.opt.Now(), cr.failed, pr.want, pr.wantAccounts, ids))
}

func ptr(s string) *string { return &s }

// recordCreated adds the desktops a CreateVm returned to the record, named after the spec in order
// (fixed once the names are read back), with what the API cannot report. A record entry of the same
// name (a desktop deleted outside deskfleet, which this one replaces) is dropped. O(desktops created):
// entries of a name are found by the record's name index.
func recordCreated(rec *state.Record, op CreateDesktops, want []state.Desktop, vmIDs []string, now time.Time) {
	protect := make(map[string]bool, len(want))
	for _, w := range want {
		protect[w.Name] = w.Protect
	}
	created := make(map[string]bool, len(vmIDs))
	for _, id := range vmIDs {
		created[id] = true
	}
	for i, id := range vmIDs {
		if i >= len(op.Names) {
			break
		}
		name := op.Names[i]
		for _, oid := range rec.DesktopsNamed(name) {
			if oid != id && !created[oid] {
				rec.DeleteDesktop(oid)
			}
		}
		rec.PutDesktop(state.Desktop{VmID: id, Name: name, ImageID: op.Image.ID, AutoRenew: op.Billing.AutoRenew,
			Protect: protect[name], AppliedAt: now})
	}
}

// nameCreated names the record's entries of the desktops a CreateVm made by the names CreateVm gave
// them (read back: live, nil for a desktop that is gone) and drops those that do not exist (a
// failed creation keeps some, or none). It returns the names by id.
func nameCreated(rec *state.Record, op CreateDesktops, vmIDs []string, live map[string]*provider.Desktop) map[string]string {
	names := assignNames(op, vmIDs, live)
	for _, id := range vmIDs {
		if d, ok := live[id]; ok && d == nil {
			rec.DeleteDesktop(id)
			continue
		}
		if e, ok := rec.Desktops[id]; ok {
			if n, ok := names[id]; ok && n != e.Name {
				e.Name = n
				rec.PutDesktop(e)
			}
		}
	}
	return names
}

// fixCreated names the new desktops in the record (nameCreated) and notes their ids and live names
// for the steps after.
func (r *run) fixCreated(rec *state.Record, stepID int, op CreateDesktops, vmIDs []string, live map[string]*provider.Desktop) {
	names := nameCreated(rec, op, vmIDs, live)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range vmIDs {
		d, ok := live[id]
		if ok && d == nil { // gone
			for n, v := range r.vmIDs {
				if v == id {
					delete(r.vmIDs, n)
				}
			}
			continue
		}
		if ok {
			r.liveName[id] = d.Name
		}
		if name, ok := names[id]; ok {
			r.vmIDs[name] = id
		}
	}
}

// assignNames decides which new desktop is which spec name: the one that already has the name, else
// the one with the name CreateVm gives that place, else by position.
func assignNames(op CreateDesktops, vmIDs []string, live map[string]*provider.Desktop) map[string]string {
	out := map[string]string{}
	taken := map[string]bool{}
	api := op.APINames()
	byName := func(want string) string {
		for _, id := range vmIDs {
			if d := live[id]; d != nil && !taken[id] && d.Name == want {
				return id
			}
		}
		return ""
	}
	assigned := make([]bool, len(op.Names))
	for pass := 0; pass < 2; pass++ {
		for i, n := range op.Names {
			if assigned[i] {
				continue
			}
			want := n
			if pass == 1 {
				want = api[i]
			}
			if id := byName(want); id != "" {
				out[id], taken[id], assigned[i] = n, true, true
			}
		}
	}
	for i, n := range op.Names {
		if assigned[i] {
			continue
		}
		if i < len(vmIDs) && !taken[vmIDs[i]] {
			out[vmIDs[i]], taken[vmIDs[i]] = n, true
		}
	}
	return out
}

package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/state"
)

// Defaults of ExecOptions.
const (
	DefaultExecParallelism = 8
	DefaultPollInterval    = 2 * time.Second
	DefaultMaxPollInterval = 15 * time.Second
	DefaultTaskTimeout     = 30 * time.Minute
	DefaultSettleTimeout   = 10 * time.Minute
	DefaultMaxWaiting      = 2048
)

// ExecOptions tune Apply and Settle. The zero value takes the defaults noted.
type ExecOptions struct {
	// Parallelism bounds the steps making their calls at once (default 8). A step waiting for its
	// task (and then for its desktops to settle) holds no such slot: its polls share the client's
	// concurrency and rate with every other request. The client's own rate limit applies on top.
	// Parallelism 1 runs one step at a time, its wait included: the order of requests is then fixed
	// (the fault tests draw their seeds' faults in that order).
	Parallelism int
	// MaxWaiting bounds the steps waiting for their tasks at once (default 2048), and with
	// Parallelism the goroutines of a run: a step whose call is answered while MaxWaiting others
	// wait keeps its slot until one of them ends.
	MaxWaiting int
	// PollInterval is the wait before the first QueryTask of a task (default 2s); later waits grow by
	// half each time, with ±25% jitter, up to MaxPollInterval (default 15s, the vendor's own pace).
	// Once the run has seen a task of an action complete, the first poll of the next one of that
	// action comes one to two PollIntervals before the shortest duration seen, then paces as above:
	// PollInterval is the floor (Session.Apply holds it to CheckPollInterval's). The same
	// pacing re-reads desktops that are busy and sub-accounts that are still "creating".
	PollInterval    time.Duration
	MaxPollInterval time.Duration
	// TaskTimeout bounds the wait for one task (default 30m). A task that outlives it fails its step;
	// its intent stays open (sent) and the next Settle polls it again.
	TaskTimeout time.Duration
	// SettleTimeout bounds the wait for desktops to leave the busy statuses after a task, and for new
	// sub-accounts to leave "creating" (default 10m).
	SettleTimeout time.Duration
	// Run describes who runs the apply (user, host, command, spec digest, git commit), filled by the
	// caller; Apply sets its ID, StartedAt, EndedAt, Outcome and Steps.
	Run state.Run
	// Observer receives progress events. Calls are serialised (never two at once) but come from the
	// goroutines that run the steps; it must return quickly. nil: no events.
	Observer func(Event)
	// Now and Sleep are the clock (default time.Now and provider.SleepContext; Sleep returns ctx's
	// error when ctx ends first). Tests inject them.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// NewRequestID makes the requestId of each mutating call (default a random UUID).
	NewRequestID func() string
	// Rand returns a number in [0,1) for jitter (default math/rand/v2).
	Rand func() float64
}

func (o ExecOptions) withDefaults() ExecOptions {
	if o.Parallelism < 1 {
		o.Parallelism = DefaultExecParallelism
	}
	if o.MaxWaiting < 1 {
		o.MaxWaiting = DefaultMaxWaiting
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.MaxPollInterval <= 0 {
		o.MaxPollInterval = DefaultMaxPollInterval
	}
	if o.MaxPollInterval < o.PollInterval {
		o.MaxPollInterval = o.PollInterval
	}
	if o.TaskTimeout <= 0 {
		o.TaskTimeout = DefaultTaskTimeout
	}
	if o.SettleTimeout <= 0 {
		o.SettleTimeout = DefaultSettleTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = provider.SleepContext
	}
	if o.NewRequestID == nil {
		o.NewRequestID = uuid.NewString
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	return o
}

// EventKind says what an Event reports.
type EventKind string

// The events, in the order a step sends them: started, then (for a task) polled any number of times,
// then exactly one of done, partial, failed, unknown or interrupted. A step that never starts sends
// skipped. Settle sends settled once per intent.
const (
	EventStepStarted     EventKind = "step_started"
	EventTaskPolled      EventKind = "task_polled"
	EventStepDone        EventKind = "step_done"
	EventStepPartial     EventKind = "step_partial"
	EventStepFailed      EventKind = "step_failed"
	EventStepUnknown     EventKind = "step_unknown"
	EventStepInterrupted EventKind = "step_interrupted"
	EventStepSkipped     EventKind = "step_skipped"
	EventIntentSettled   EventKind = "intent_settled"
	// EventSettleStarted comes before Settle looks at the calls an earlier run left open (OpenCalls of
	// them, at least one): polling their tasks to their end can take minutes.
	EventSettleStarted EventKind = "settle_started"
)

// Event is one progress report of Apply or Settle.
type Event struct {
	Kind EventKind
	At   time.Time
	// Step is the plan step's id (0 for Settle's events); Op, Action and Targets describe it.
	Step    int
	Op      OpKind
	Action  provider.Action
	Targets string
	// TaskID and TaskStatus are set once the step has a task (TaskStatus on task_polled).
	TaskID     string
	TaskStatus provider.TaskStatus
	// Elapsed is the time since the step started.
	Elapsed time.Duration
	// Err is why a step failed, was skipped or is unknown.
	Err error
	// Intent is the intent's id (Settle), Status what it was settled as.
	Intent string
	Status state.IntentStatus
	// OpenCalls is, on settle_started, how many calls of earlier runs are open.
	OpenCalls int
}

// StepStatus is how a step of a run ended.
type StepStatus string

// The step statuses (also the Status of the run journal's StepOutcome).
const (
	StepDone    StepStatus = "done"
	StepPartial StepStatus = "partial" // some items failed (UpdateOrder, RenewalOrder, CreateSubAccounts)
	StepFailed  StepStatus = "failed"
	// StepSkipped: not started, because a dependency failed or the run stopped first.
	StepSkipped StepStatus = "skipped"
	// StepUnknown: the call was sent and its outcome is unknown; its intent is left pending for Settle.
	StepUnknown StepStatus = "unknown"
	// StepInterrupted: the run was interrupted while the step's task ran; its intent is left sent and
	// the next Settle polls the task to its end.
	StepInterrupted StepStatus = "interrupted"
)

// Outcome is how a run ended.
type Outcome string

// The run outcomes (also state.Run.Outcome).
const (
	OutcomeDone        Outcome = "done"        // every step done
	OutcomePartial     Outcome = "partial"     // some steps done, some failed or skipped
	OutcomeFailed      Outcome = "failed"      // nothing done, or the run had to stop (outcome unknown, store failure)
	OutcomeInterrupted Outcome = "interrupted" // ctx was cancelled
	// OutcomeRunning is the journal's outcome of a run under way; OutcomeAbandoned that of a run
	// whose process ended without recording one (SIGKILL, a crash, a runner gone), given by Settle,
	// which runs under the lock, so that no such run can still be going.
	OutcomeRunning   Outcome = "running"
	OutcomeAbandoned Outcome = "abandoned"
)

// StepResult is what became of one step.
type StepResult struct {
	Step    int
	Op      OpKind
	Action  provider.Action
	Targets string
	Status  StepStatus
	// Err is why the step failed, was skipped or is unknown; Code and Message are the API's when it
	// refused the call (or failed the task: Message is then the task's failReason).
	Err     error
	Code    string
	Message string
	// Failed lists the items (desktop names, account emails) that failed in a partial step.
	Failed []string
	// SkippedFor lists the failed steps a skipped step depended on.
	SkippedFor []int
	// IntentID, RequestID, TaskID and VmIDs identify the call.
	IntentID  string
	RequestID string
	TaskID    string
	VmIDs     []string
	Elapsed   time.Duration
}

// ok reports whether a step that depends on r may run: r is done, or partial without failures on
// the objects the dependant touches.
func (r *StepResult) ok(dependant Step) bool {
	switch r.Status {
	case StepDone:
		return true
	case StepPartial:
		for _, k := range stepResources(dependant) {
			for _, f := range r.Failed {
				if k == desktopKey(f) || k == accountKey(f) {
					return false
				}
			}
		}
		return true
	}
	return false
}

// Result is what Apply did.
type Result struct {
	RunID   string
	Outcome Outcome
	// Steps are the plan's steps, in plan order.
	Steps   []StepResult
	Elapsed time.Duration
	// Throttle is set when the API throttled the client's requests (the run's and any made before it
	// by the same client: the command's).
	Throttle *Throttle
}

// With returns the steps that ended with one of the statuses.
func (r *Result) With(status ...StepStatus) []StepResult {
	var out []StepResult
	for _, s := range r.Steps {
		if slices.Contains(status, s.Status) {
			out = append(out, s)
		}
	}
	return out
}

// Errors of Apply.
var (
	// ErrOpenIntents: the record has intents an earlier run left open; run Settle first.
	ErrOpenIntents = errors.New("the state has open intents from an earlier run: settle them first")
	// ErrStalePlan: the record changed since the plan was made (its Serial differs); plan again.
	ErrStalePlan = errors.New("the state changed since the plan was made: plan again")
	// ErrRunStopped wraps the reason a run stopped starting steps (an unknown outcome, a store
	// failure).
	ErrRunStopped = errors.New("apply stopped")
)

// Apply executes the plan's steps against the API and records every call in the state (rule 4).
//
// Contract:
//   - Blocks until every started step has ended. The caller holds lock; st.Update is called with it.
//   - Refuses to start (nil Result, error) when the record has open intents (ErrOpenIntents: run
//     Settle first), when its Serial is not the plan's StateSerial (ErrStalePlan) or when the store
//     cannot be written. Guards are not checked here: the caller applies only plans whose guards
//     were allowed.
//   - Steps start when every step of their After has succeeded, at most opt.Parallelism making
//     their calls at once (a step waiting for its task holds no slot, at most opt.MaxWaiting wait);
//     besides After, two steps that touch one desktop or account never overlap, the lower id
//     first, so a batched call never meets a desktop that another step has made busy; nor do a
//     creation and a network step of its site, or two creations of one site when either chooses
//     its network as it runs (creations whose network the plan chose overlap). The
//     dependants of a failed step are skipped (transitively); independent branches go on. A step
//     after a partial one runs unless it touches an item that failed.
//   - Before each mutating call its intent (requestId, targets, params) is stored; after it the
//     response (task id, vmIds: new desktops are recorded managed at once); after the task, the
//     outcome, the record's fields the step enforces and the run journal's step outcome.
//   - A call whose answer is lost (*provider.UnknownOutcomeError) is settled at once by reading back
//     what it may have done (the op's own read-back, as Settle does): found done, the step is done;
//     found not done, a call that is safe to repeat (a setter) is made again, each attempt with an
//     intent of its own, up to three in all, and any other fails the step (never resent in the run);
//     when reading cannot tell (RebuildVm, RenewalOrder), the intent stays pending for Settle and the
//     step is unknown. Only the step's dependants wait; the run goes on. A store failure stops the
//     run from starting further steps (Outcome failed, the error wraps ErrRunStopped): no call is
//     made whose intent is not stored.
//   - ctx cancelled (Ctrl-C): no new step starts; calls in flight finish and are recorded (the
//     recording does not use ctx); waits for tasks end at once, leaving their intents sent for
//     Settle. Outcome interrupted, error wrapping ctx's.
//   - The Result lists every step; the error is nil only when Outcome is done. It is not
//     idempotent: applying the same plan twice repeats its calls (plan again instead).
func Apply(ctx context.Context, c provider.Client, st state.Store, lock *state.Lock, p *Plan, opt ExecOptions) (*Result, error) {
	if p == nil {
		return nil, errors.New("apply: no plan")
	}
	opt = opt.withDefaults()
	rec, err := st.Read(ctx, lock.Fleet)
	if err != nil {
		return nil, fmt.Errorf("apply: reading the state: %w", err)
	}
	if open := openIntents(rec); len(open) > 0 {
		return nil, fmt.Errorf("apply: %w (%d open, the first %s %s)", ErrOpenIntents, len(open), open[0].ID, open[0].Action)
	}
	if rec.Serial != p.StateSerial {
		return nil, fmt.Errorf("apply: %w (plan made from serial %d, the state is at %d)", ErrStalePlan, p.StateSerial, rec.Serial)
	}
	r := newRun(c, st, lock, p, opt)
	r.recCtx = context.WithoutCancel(ctx)
	if err := r.begin(); err != nil {
		return nil, fmt.Errorf("apply: recording the run: %w", err)
	}
	results := r.schedule(ctx)
	res := &Result{RunID: r.id, Steps: results, Elapsed: opt.Now().Sub(r.started), Throttle: throttleOf(c)}
	res.Outcome = r.outcome(ctx, results)
	endErr := r.end(res)
	return res, r.runError(ctx, res, endErr)
}

// run is one Apply in progress.
type run struct {
	c       provider.Client
	st      state.Store
	lock    *state.Lock
	p       *Plan
	opt     ExecOptions
	id      string
	started time.Time
	recCtx  context.Context

	obsMu sync.Mutex

	// durations are the task durations seen so far, by action: a wait for a task polls first shortly
	// before it is due (pollTaskOf).
	durations *taskDurations

	wantByName map[string]state.Desktop
	wantAcct   map[string]state.Account

	mu       sync.Mutex
	vmIDs    map[string]string   // desktop name -> vmId, for desktops created by this run
	liveName map[string]string   // vmId -> live name read back after its creation
	created  map[int][]string    // create step id -> its vmIds
	acctIDs  map[string]string   // email -> account id, for accounts created by this run
	stopErr  error               // why no new step may start
	failedOn map[objKey]struct{} // objects of steps that did not succeed (for the end-of-run record)
}

func newRun(c provider.Client, st state.Store, lock *state.Lock, p *Plan, opt ExecOptions) *run {
	r := &run{c: c, st: st, lock: lock, p: p, opt: opt, started: opt.Now(), durations: &taskDurations{},
		wantByName: map[string]state.Desktop{}, wantAcct: map[string]state.Account{},
		vmIDs: map[string]string{}, liveName: map[string]string{}, created: map[int][]string{},
		acctIDs: map[string]string{}, failedOn: map[objKey]struct{}{}}
	r.id = opt.Run.ID
	if r.id == "" {
		r.id = r.started.UTC().Format("20060102T150405Z") + "-" + shortRand(opt.NewRequestID())
	}
	for _, w := range p.Want {
		r.wantByName[w.Name] = w
	}
	for _, a := range p.WantAccounts {
		r.wantAcct[a.Email] = a
	}
	return r
}

func shortRand(s string) string {
	s = strings.ReplaceAll(s, "-", "")
	if len(s) > 8 {
		return s[:8]
	}
	return s
}

func openIntents(rec *state.Record) []state.Intent {
	var out []state.Intent
	for _, in := range rec.Intents {
		if in.Open() {
			out = append(out, in)
		}
	}
	return out
}

func (r *run) emit(e Event) {
	if r.opt.Observer == nil {
		return
	}
	if e.At.IsZero() {
		e.At = r.opt.Now()
	}
	r.obsMu.Lock()
	defer r.obsMu.Unlock()
	r.opt.Observer(e)
}

func (r *run) halt(err error) {
	r.mu.Lock()
	if r.stopErr == nil {
		r.stopErr = err
	}
	r.mu.Unlock()
}

func (r *run) stopped() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stopErr
}

// update writes the record with a context that Ctrl-C does not cancel.
func (r *run) update(fn func(*state.Record) error) error {
	return r.st.Update(r.recCtx, r.lock, fn)
}

// begin records the run in the journal, and the plan's adoptions and forgettings: adopted desktops
// and accounts are managed from the start of the run, so a crash later never leaves them unowned.
func (r *run) begin() error {
	return r.update(func(rec *state.Record) error {
		if rec.Fleet == "" {
			rec.Fleet = r.lock.Fleet
		}
		run := r.opt.Run
		run.ID, run.StartedAt, run.Outcome, run.Steps = r.id, r.started, string(OutcomeRunning), nil
		if run.SpecDigest == "" {
			run.SpecDigest = r.p.SpecDigest
		}
		rec.AppendRun(run)
		now := r.opt.Now()
		for _, ch := range r.p.Changes {
			switch {
			case ch.Object == ObjectDesktop && ch.Action == ActionAdopt && ch.ID != "":
				if _, ok := rec.Desktops[ch.ID]; ok {
					continue
				}
				w := r.wantByName[ch.Name]
				rec.PutDesktop(state.Desktop{VmID: ch.ID, Name: ch.Name, Protect: w.Protect, AppliedAt: now})
			case ch.Object == ObjectAccount && ch.Action == ActionAdopt:
				if _, ok := rec.Accounts[ch.Name]; !ok {
					rec.PutAccount(state.Account{Email: ch.Name, AccountID: ch.ID})
				}
			case ch.Object == ObjectDesktop && ch.Action == ActionForget && ch.ID != "":
				rec.DeleteDesktop(ch.ID)
			case ch.Object == ObjectAccount && ch.Action == ActionForget:
				rec.DeleteAccount(ch.Name)
			}
		}
		return nil
	})
}

// stepResources are the objects a step touches: its desktops by name, its accounts, and the site
// whose network it makes or uses.
func stepResources(s Step) []objKey {
	var out []objKey
	for _, t := range s.Op.Desktops() {
		out = append(out, desktopKey(t.Name))
	}
	for _, e := range s.Op.Accounts() {
		out = append(out, accountKey(e))
	}
	if site := s.Op.Facts().Site; site.ID != "" {
		out = append(out, networkKey(site.ID))
	}
	return out
}

// sharesObject reports whether step s may overlap other steps that share object k: a creation whose
// network the plan chose shares its site's network with the other such creations (each call carries
// its own ids), never with a network step of the site or a creation that chooses its network when
// it runs.
func sharesObject(s Step, k objKey) bool {
	c, ok := s.Op.(CreateDesktops)
	return ok && c.Network.Fix == NetReady && k.kind == keyNetwork
}

// schedule runs the steps and returns their results in plan order.
func (r *run) schedule(ctx context.Context) []StepResult {
	steps := r.p.Steps
	n := len(steps)
	idx := make(map[int]int, n)
	for i, s := range steps {
		idx[s.ID] = i
	}
	prev := overlaps(steps)
	const (
		waiting = iota
		running
		finished
	)
	status := make([]int, n)
	results := make([]*StepResult, n)
	// A step holds one of the Parallelism slots from its start until its call is answered; while it
	// waits for its task and its desktops (awaitTask) it holds a waiting place instead (MaxWaiting
	// of them), so that the other steps' calls go on. It keeps its objects (prev) until it ends.
	events := make(chan stepEvent)
	released := make([]bool, n)
	slots, active := 0, 0
	waitSem := make(chan struct{}, r.opt.MaxWaiting)
	// dropped are the desktops a step runs without (narrowed), droppedFor the failed steps why.
	dropped, droppedFor := map[int][]string{}, map[int][]int{}
	for {
		stopErr := r.stopped()
		if stopErr == nil && ctx.Err() != nil {
			stopErr = ctx.Err()
		}
		for changed := true; changed; {
			changed = false
			for i, s := range steps {
				if status[i] != waiting {
					continue
				}
				ready := true
				var failed []int
				var failedSteps []Step
				var failedRes []*StepResult
				for _, a := range s.After {
					j, ok := idx[a]
					if !ok {
						continue
					}
					switch {
					case status[j] != finished:
						ready = false
					case !results[j].ok(s):
						failed = append(failed, a)
						failedSteps, failedRes = append(failedSteps, steps[j]), append(failedRes, results[j])
					}
				}
				if len(failed) > 0 {
					// A step whose op acts on each desktop alone waits for all its dependencies, then
					// runs without the desktops whose earlier steps failed (narrowed).
					_, canNarrow := s.Op.(narrower)
					if canNarrow && !ready {
						continue
					}
					ns, drop, ok := narrowed(s, failedSteps, failedRes)
					if !ok {
						results[i] = r.skip(s, failed, nil)
						status[i] = finished
						changed = true
						continue
					}
					s, dropped[i], droppedFor[i] = ns, drop, failed
				}
				for _, j := range prev[i] {
					if status[j] != finished {
						ready = false
					}
				}
				if !ready || stopErr != nil || slots >= r.opt.Parallelism {
					continue
				}
				status[i] = running
				slots++
				active++
				go r.runStep(ctx, i, s, results, waitSem, events)
			}
		}
		if active == 0 {
			break
		}
		ev := <-events
		if ev.released {
			released[ev.i] = true
			slots--
			continue
		}
		status[ev.i] = finished
		if d := dropped[ev.i]; d != nil {
			results[ev.i].leftOut(d, droppedFor[ev.i])
		}
		active--
		if !released[ev.i] {
			slots--
		}
	}
	out := make([]StepResult, n)
	for i, s := range steps {
		if status[i] == waiting {
			why := r.stopped()
			if why == nil {
				why = ctx.Err()
			}
			results[i] = r.skip(s, nil, why)
		}
		out[i] = *results[i]
	}
	return out
}

// overlaps returns, for each step, the steps before it that it must not overlap: for each object it
// touches, the last step that held the object alone and, when the step holds it alone, the steps that
// shared it since (sharesObject).
func overlaps(steps []Step) [][]int {
	prev := make([][]int, len(steps))
	lastOn := map[objKey]int{}
	sharedOn := map[objKey][]int{}
	for i, s := range steps {
		seen := map[int]bool{}
		after := func(j int) {
			if !seen[j] {
				seen[j] = true
				prev[i] = append(prev[i], j)
			}
		}
		for _, k := range stepResources(s) {
			if j, ok := lastOn[k]; ok {
				after(j)
			}
			if sharesObject(s, k) {
				sharedOn[k] = append(sharedOn[k], i)
				continue
			}
			for _, j := range sharedOn[k] {
				after(j)
			}
			delete(sharedOn, k)
			lastOn[k] = i
		}
	}
	return prev
}

// runStep runs step i (s) on its own goroutine's behalf and reports to the scheduler: when its call
// is answered it gives its slot back for a waiting place (taken first, so the goroutines of a run stay
// within Parallelism + MaxWaiting; with Parallelism 1 the step keeps its slot to the end), and when
// it ends.
func (r *run) runStep(ctx context.Context, i int, s Step, results []*StepResult, waitSem chan struct{}, events chan<- stepEvent) {
	held := false
	var release func()
	if r.opt.Parallelism > 1 {
		release = func() {
			waitSem <- struct{}{}
			held = true
			events <- stepEvent{i: i, released: true}
		}
	}
	results[i] = r.execRecovered(ctx, s, release)
	if held {
		<-waitSem
	}
	events <- stepEvent{i: i}
}

// stepEvent tells the scheduler that step i gave its slot back (released: its call was answered and
// it waits for its task) or ended.
type stepEvent struct {
	i        int
	released bool
}

// execRecovered is exec with a panic (a bug in deskfleet) turned into the step's failure and the run
// stopped from starting more steps: the apply ends as it does after a store failure, with what was
// recorded kept and the intent of a call in flight left open for Settle, instead of the process
// dying with exit 2 (which `plan --detailed-exitcode` means as "changes present").
func (r *run) execRecovered(ctx context.Context, s Step, release func()) (res *StepResult) {
	defer func() {
		if p := recover(); p != nil {
			err := fmt.Errorf("internal error in step %d %s: %v (a bug in deskfleet: please report it)", s.ID, s.Op.Action(), p)
			r.halt(err)
			x := &stepRun{r: r, s: s, res: newStepResult(s), start: r.opt.Now()}
			res = x.finish(StepFailed, err)
		}
	}()
	return r.exec(ctx, s, release)
}

// skip makes the result of a step that does not start: a dependency failed, or the run stopped.
func (r *run) skip(s Step, failed []int, why error) *StepResult {
	res := newStepResult(s)
	res.Status = StepSkipped
	res.SkippedFor = failed
	switch {
	case len(failed) > 0:
		res.Err = fmt.Errorf("skipped: step %s did not succeed", joinInts(failed))
	case why != nil:
		res.Err = fmt.Errorf("not started: %w", why)
	default:
		res.Err = errors.New("not started")
	}
	r.markFailed(s, nil)
	r.emit(Event{Kind: EventStepSkipped, Step: s.ID, Op: s.Op.Kind(), Action: s.Op.Action(), Targets: res.Targets, Err: res.Err})
	return res
}

func newStepResult(s Step) *StepResult {
	return &StepResult{Step: s.ID, Op: s.Op.Kind(), Action: s.Op.Action(), Targets: describeTargets(s.Op)}
}

// markFailed notes that the step's objects (only the failed items when given) did not all succeed.
func (r *run) markFailed(s Step, items []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if items != nil {
		for _, it := range items {
			r.failedOn[desktopKey(it)] = struct{}{}
			r.failedOn[accountKey(it)] = struct{}{}
		}
		return
	}
	for _, k := range stepResources(s) {
		r.failedOn[k] = struct{}{}
	}
}

func joinInts(ids []int) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprint(id)
	}
	return strings.Join(parts, ", ")
}

// describeTargets shows what a step touches, for the journal and progress: names or emails, the
// first three and a count.
func describeTargets(op Op) string {
	var names []string
	for _, t := range op.Desktops() {
		names = append(names, t.Name)
	}
	names = append(names, op.Accounts()...)
	if f := op.Facts(); f.DefaultNet {
		names = append(names, f.Site.Name)
	}
	if len(names) > 3 {
		return fmt.Sprintf("%s and %d more", strings.Join(names[:3], ", "), len(names)-3)
	}
	return strings.Join(names, ", ")
}

// outcome sums the run up.
func (r *run) outcome(ctx context.Context, steps []StepResult) Outcome {
	if ctx.Err() != nil {
		return OutcomeInterrupted
	}
	if r.stopped() != nil {
		return OutcomeFailed
	}
	done, other := 0, 0
	for _, s := range steps {
		if s.Status == StepDone {
			done++
		} else {
			if s.Status == StepPartial {
				done++
			}
			other++
		}
	}
	switch {
	case other == 0:
		return OutcomeDone
	case done == 0:
		return OutcomeFailed
	}
	return OutcomePartial
}

// runError is Apply's error for a run that did not end done.
func (r *run) runError(ctx context.Context, res *Result, endErr error) error {
	var errs []error
	if res.Outcome == OutcomeInterrupted {
		errs = append(errs, fmt.Errorf("apply interrupted: %w", ctx.Err()))
	}
	if stop := r.stopped(); stop != nil {
		errs = append(errs, fmt.Errorf("%w: %w; the next apply settles it first", ErrRunStopped, stop))
	}
	var failed []string
	var first error
	for _, s := range res.Steps {
		if s.Status == StepFailed || s.Status == StepPartial || s.Status == StepUnknown {
			failed = append(failed, fmt.Sprintf("step %d %s", s.Step, s.Action))
			if first == nil && s.Err != nil {
				first = s.Err
			}
		}
	}
	if len(failed) > 0 && res.Outcome != OutcomeDone {
		skipped := len(res.With(StepSkipped))
		msg := fmt.Sprintf("%d of %d steps did not succeed (%s)", len(failed), len(res.Steps), strings.Join(failed, ", "))
		if skipped > 0 {
			msg += fmt.Sprintf(", %d skipped", skipped)
		}
		if first != nil {
			errs = append(errs, fmt.Errorf("%s: %w", msg, first))
		} else {
			errs = append(errs, errors.New(msg))
		}
	}
	if endErr != nil {
		errs = append(errs, fmt.Errorf("recording the end of the run: %w", endErr))
	}
	if len(errs) == 0 && res.Outcome != OutcomeDone {
		errs = append(errs, fmt.Errorf("apply %s", res.Outcome))
	}
	return errors.Join(errs...)
}

// end records the run's outcome, the skipped steps, and the full wanted entry of every desktop and
// account whose steps all succeeded (written only where it differs from the record's). Desktops of
// the same name are found by the record's name index, not by a scan per wanted desktop.
func (r *run) end(res *Result) error {
	now := r.opt.Now()
	r.mu.Lock()
	failedOn := make(map[objKey]struct{}, len(r.failedOn))
	for k := range r.failedOn {
		failedOn[k] = struct{}{}
	}
	vmIDs := make(map[string]string, len(r.vmIDs))
	for k, v := range r.vmIDs {
		vmIDs[k] = v
	}
	acctIDs := make(map[string]string, len(r.acctIDs))
	for k, v := range r.acctIDs {
		acctIDs[k] = v
	}
	r.mu.Unlock()
	touched := map[objKey]bool{}
	for _, s := range r.p.Steps {
		for _, k := range stepResources(s) {
			touched[k] = true
		}
	}
	adopted := map[string]bool{} // desktops adopted, by name
	for _, ch := range r.p.Changes {
		if ch.Action == ActionAdopt && ch.Object == ObjectDesktop {
			adopted[ch.Name] = true
		}
	}
	return r.update(func(rec *state.Record) error {
		if run, ok := rec.Run(r.id); ok {
			run.EndedAt, run.Outcome = now, string(res.Outcome)
			run.Steps = slices.Clone(run.Steps)
			for _, s := range res.Steps {
				if s.Status == StepSkipped {
					run.Steps = append(run.Steps, stepOutcome(s))
				}
			}
			slices.SortStableFunc(run.Steps, func(a, b state.StepOutcome) int { return a.Step - b.Step })
			rec.SetRun(run)
		}
		for _, w := range r.p.Want {
			if _, bad := failedOn[desktopKey(w.Name)]; bad {
				continue
			}
			id := w.VmID
			if id == "" {
				id = vmIDs[w.Name]
			}
			if id == "" {
				continue
			}
			old, had := rec.Desktops[id]
			if !had && w.VmID != "" && !adopted[w.Name] {
				continue // a managed desktop that left the record meanwhile (deleted): not brought back
			}
			nw := w
			nw.VmID = id
			nw.AppliedAt = now
			if had && !touched[desktopKey(w.Name)] && !adopted[w.Name] && !old.AppliedAt.IsZero() {
				nw.AppliedAt = old.AppliedAt
			}
			for _, oid := range rec.DesktopsNamed(w.Name) {
				if oid != id {
					rec.DeleteDesktop(oid)
				}
			}
			if !had || !old.Equal(nw) {
				rec.PutDesktop(nw)
			}
		}
		for _, a := range r.p.WantAccounts {
			if _, bad := failedOn[accountKey(a.Email)]; bad {
				continue
			}
			na := a
			if na.AccountID == "" {
				na.AccountID = acctIDs[a.Email]
			}
			if old, ok := rec.Accounts[a.Email]; ok && na.AccountID == "" {
				na.AccountID = old.AccountID
			}
			if na.AccountID == "" {
				continue
			}
			if old, ok := rec.Accounts[a.Email]; !ok || !old.Equal(na) {
				rec.PutAccount(na)
			}
		}
		return nil
	})
}

func stepOutcome(s StepResult) state.StepOutcome {
	o := state.StepOutcome{Step: s.Step, Action: string(s.Action), Targets: s.Targets, Status: string(s.Status)}
	if s.Err != nil {
		o.Error = s.Err.Error()
	}
	return o
}

// paramsJSON is an intent's Params: the step with every id resolved, and what the record should hold
// for its desktops and accounts (the plan's Want and WantAccounts for them): Settle records the op's
// effect with them, as Apply does, and adopts the desktops of a creation whose answer was lost.
type paramsJSON struct {
	Step         Step            `json:"step"`
	Want         []state.Desktop `json:"want,omitempty"`
	WantAccounts []state.Account `json:"want_accounts,omitempty"`
}

func encodeParams(s Step, want []state.Desktop, wantAccounts []state.Account) ([]byte, error) {
	return json.Marshal(paramsJSON{Step: s, Want: want, WantAccounts: wantAccounts})
}

func decodeParams(b []byte) (paramsJSON, error) {
	var p paramsJSON
	if len(b) == 0 {
		return p, errors.New("the intent has no parameters")
	}
	err := json.Unmarshal(b, &p)
	if err == nil && p.Step.Op == nil {
		err = errors.New("the intent's parameters have no op")
	}
	return p, err
}

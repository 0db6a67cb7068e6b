package engine

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/deskfleet/deskfleet/provider"
)

// The least poll interval (--poll-interval) a caller may ask for: MinPollInterval against the API, whose
// tasks take minutes and whose rate every waiting task's polls share; MinLocalPollInterval against an
// emulator on this machine, whose tasks tests and demos shorten to milliseconds.
const (
	MinPollInterval      = time.Second
	MinLocalPollInterval = 10 * time.Millisecond
)

// CheckPollInterval refuses a poll interval below the floor (MinPollInterval; MinLocalPollInterval
// when local, the API being an emulator on this machine).
func CheckPollInterval(d time.Duration, local bool) error {
	floor := MinPollInterval
	if local {
		floor = MinLocalPollInterval
	}
	if d < floor {
		return fmt.Errorf("a poll interval of %s is below the least allowed, %s: every task waiting polls at this pace, sharing the API's rate", d, floor)
	}
	return nil
}

// pacer paces the reads of a wait (a task's status, busy desktops, a sub-account still creating, a
// default network being made), the one pace every wait of Apply and Settle keeps: the first wait
// about PollInterval, each next one half as long again up to MaxPollInterval, each with ±25%
// jitter; the wait gives up timeout after it began. A wait for a task of an action whose duration the
// run has seen (taskDurations) first sleeps until shortly before it is due, then paces as above.
// PollInterval is the floor: no wait is shorter (but for the jitter). Every read goes through the
// client, whose rate and concurrency all the run's requests share, polls of many tasks included.
type pacer struct {
	opt      ExecOptions
	interval time.Duration
	first    time.Duration // the first wait, when the task's duration is known; 0: none
	deadline time.Time
	// wake, when set, ends a wait early (a task of the same action that started no later ended):
	// the read comes at once, and the next waits pace from PollInterval again.
	wake <-chan struct{}
}

func newPacer(opt ExecOptions, timeout time.Duration) *pacer {
	return &pacer{opt: opt, interval: opt.PollInterval, deadline: opt.Now().Add(timeout)}
}

// expect makes the first wait end shortly before a task expected to take d is due: d less one to
// two poll intervals (the jitter), never less than one poll interval.
func (p *pacer) expect(d time.Duration) {
	floor := p.opt.PollInterval
	early := floor + time.Duration(float64(floor)*p.opt.Rand())
	p.first = max(floor, d-early)
}

// expired reports whether the wait is past its timeout.
func (p *pacer) expired() bool { return p.opt.Now().After(p.deadline) }

// wait sleeps until the next read, or until woken; ctx's error when it ends first.
func (p *pacer) wait(ctx context.Context) error {
	if d := p.first; d > 0 {
		p.first = 0
		return p.sleep(ctx, d)
	}
	d := time.Duration(float64(p.interval) * (0.75 + 0.5*p.opt.Rand()))
	p.interval = min(p.interval*3/2, p.opt.MaxPollInterval)
	return p.sleep(ctx, d)
}

// sleep is opt.Sleep, cut short when p.wake fires: the task is likely due, so the waits after start
// from PollInterval again.
func (p *pacer) sleep(ctx context.Context, d time.Duration) error {
	if p.wake == nil {
		return p.opt.Sleep(ctx, d)
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wake, woken := p.wake, make(chan struct{})
	go func() {
		select {
		case <-wake:
			close(woken)
			cancel()
		case <-sctx.Done():
		}
	}()
	err := p.opt.Sleep(sctx, d)
	select {
	case <-woken:
		if ctx.Err() == nil {
			p.wake, p.first, p.interval = nil, 0, p.opt.PollInterval
			return nil
		}
	default:
	}
	return err
}

// taskDurations keeps, per action, the shortest task duration a run has seen, each measured as a
// lower bound: from the start of the wait to the last poll that saw the task still running (the poll
// that sees it completed may come up to a MaxPollInterval late). Polling from the shortest bound
// seen errs early, by a few cheap polls, never late.
//
// It also knows the waits under way, by action: when a task is seen completed, each wait for a task
// of its action that has lasted at least as long as that task surely ran is woken once (its task is
// likely done too: tasks that started together end together), instead of sleeping out an interval
// that has grown to MaxPollInterval. Safe for concurrent use; a nil *taskDurations knows nothing.
type taskDurations struct {
	mu      sync.Mutex
	seen    map[provider.Action]time.Duration
	waiting map[provider.Action]map[*taskWait]struct{}
}

// taskWait is one wait under way: when it began, and the channel that wakes it (once).
type taskWait struct {
	start time.Time
	wake  chan struct{}
}

// enter registers a wait for a task of a that began at start; leave ends it.
func (t *taskDurations) enter(a provider.Action, start time.Time) *taskWait {
	if t == nil {
		return nil
	}
	w := &taskWait{start: start, wake: make(chan struct{})}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.waiting == nil {
		t.waiting = map[provider.Action]map[*taskWait]struct{}{}
	}
	if t.waiting[a] == nil {
		t.waiting[a] = map[*taskWait]struct{}{}
	}
	t.waiting[a][w] = struct{}{}
	return w
}

func (t *taskDurations) leave(a provider.Action, w *taskWait) {
	if t == nil || w == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.waiting[a], w)
}

// expected is the shortest duration seen of a's tasks.
func (t *taskDurations) expected(a provider.Action) (time.Duration, bool) {
	if t == nil {
		return 0, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	d, ok := t.seen[a]
	return d, ok
}

// observe notes that a task of a was still running d after its wait began, and completed soon after
// (at now); it wakes, once each, the waits for tasks of a that have lasted at least d.
func (t *taskDurations) observe(a provider.Action, d time.Duration, now time.Time) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.seen == nil {
		t.seen = map[provider.Action]time.Duration{}
	}
	if old, ok := t.seen[a]; !ok || d < old {
		t.seen[a] = d
	}
	for w := range t.waiting[a] {
		if now.Sub(w.start) >= d {
			close(w.wake)
			delete(t.waiting[a], w)
		}
	}
}

// pollTask is pollTaskOf without durations to learn from (Settle's waits).
func pollTask(ctx context.Context, c provider.Client, opt ExecOptions, taskID, reqID string, polled func(*provider.Task)) (*provider.Task, error) {
	return pollTaskOf(ctx, c, opt, nil, "", taskID, reqID, polled)
}

// pollTaskOf polls the task until it is Completed (nil) or Failed (*provider.TaskFailedError), the
// first poll after about PollInterval (or shortly before the task is due, when durations has seen
// tasks of action), then backing off with jitter (pacer); a completed task's duration is noted in
// durations. Transient errors of QueryTask (transport, throttling, 5xx) are tolerated; another
// APIError ends the wait; so do ctx and TaskTimeout (wrapping provider.ErrTaskTimeout). polled sees
// each answer.
func pollTaskOf(ctx context.Context, c provider.Client, opt ExecOptions, durations *taskDurations, action provider.Action,
	taskID, reqID string, polled func(*provider.Task)) (*provider.Task, error) {
	p := newPacer(opt, opt.TaskTimeout)
	start := opt.Now()
	if d, ok := durations.expected(action); ok {
		p.expect(d)
	}
	if w := durations.enter(action, start); w != nil {
		p.wake = w.wake
		defer durations.leave(action, w)
	}
	var lastErr error
	running := time.Duration(-1) // when a poll last saw the task running, since start
	for {
		if err := p.wait(ctx); err != nil {
			return nil, fmt.Errorf("waiting for task %s: %w", taskID, err)
		}
		sent := opt.Now().Sub(start)
		t, err := c.QueryTask(ctx, provider.QueryTaskRequest{TaskID: taskID, RequestID: reqID})
		switch {
		case err == nil:
			if polled != nil {
				polled(t)
			}
			if t.Status == provider.TaskCompleted {
				if running < 0 {
					// Completed at the first poll: the task is shorter than that poll's time; one
					// poll interval less, so the next first poll comes earlier.
					running = max(0, sent-opt.PollInterval)
				}
				durations.observe(action, running, opt.Now())
				return t, nil
			}
			running = sent
			if t.Status == provider.TaskFailed {
				return t, &provider.TaskFailedError{Task: *t}
			}
		case ctx.Err() != nil:
			return nil, fmt.Errorf("waiting for task %s: %w", taskID, ctx.Err())
		default:
			if ae, ok := provider.AsAPIError(err); ok && ae.HTTPStatus != 429 && ae.HTTPStatus < 500 {
				return nil, fmt.Errorf("waiting for task %s: %w", taskID, err)
			}
			lastErr = err
		}
		if p.expired() {
			if lastErr != nil {
				return nil, fmt.Errorf("waiting for task %s: %w after %s (last error: %w)", taskID, provider.ErrTaskTimeout, opt.TaskTimeout, lastErr)
			}
			return nil, fmt.Errorf("waiting for task %s: %w after %s", taskID, provider.ErrTaskTimeout, opt.TaskTimeout)
		}
	}
}

// waitDesktops re-reads the desktops until none is busy (bounded by SettleTimeout, paced by a
// pacer) and returns the last reading by id (nil for a desktop that is gone).
func waitDesktops(ctx context.Context, c provider.Client, opt ExecOptions, ids []string) map[string]*provider.Desktop {
	out := map[string]*provider.Desktop{}
	pending := slices.Clone(ids)
	p := newPacer(opt, opt.SettleTimeout)
	for {
		var still []string
		for i, r := range readDesktops(ctx, c, pending, opt.Parallelism) {
			id := pending[i]
			switch {
			case provider.IsNotFound(r.err):
				out[id] = nil
			case r.err != nil:
				still = append(still, id)
			case r.d.Status == provider.StatusGone:
				out[id] = nil
			default:
				r.d.ID = id
				out[id] = r.d
				if r.d.Status == provider.StatusBusy {
					still = append(still, id)
				}
			}
		}
		if len(still) == 0 || ctx.Err() != nil || p.expired() {
			return out
		}
		pending = still
		if p.wait(ctx) != nil {
			return out
		}
	}
}

// desktopReading is one QueryVm's answer.
type desktopReading struct {
	d   *provider.Desktop
	err error
}

// readDesktops reads each of ids with QueryVm, at most parallelism at once (a step's desktops are
// many: one after another, 150 reads at 20 ms are 3 s of waiting), and returns the readings in ids'
// order.
func readDesktops(ctx context.Context, c provider.Client, ids []string, parallelism int) []desktopReading {
	out := make([]desktopReading, len(ids))
	sem := make(chan struct{}, max(parallelism, 1))
	var wg sync.WaitGroup
	for i, id := range ids {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			d, err := c.QueryVm(ctx, provider.QueryVmRequest{VmID: id})
			out[i] = desktopReading{d: d, err: err}
		})
	}
	wg.Wait()
	return out
}

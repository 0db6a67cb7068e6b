package engine

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/deskfleet/deskfleet/provider"
)

// pacer paces the reads of a wait (a task's status, busy desktops, a sub-account still creating, a
// default network being made), the one pace every wait of Apply and Settle keeps: the first wait
// about PollInterval, each next one half as long again up to MaxPollInterval, each with ±25%
// jitter; the wait gives up timeout after it began.
type pacer struct {
	opt      ExecOptions
	interval time.Duration
	deadline time.Time
}

func newPacer(opt ExecOptions, timeout time.Duration) *pacer {
	return &pacer{opt: opt, interval: opt.PollInterval, deadline: opt.Now().Add(timeout)}
}

// expired reports whether the wait is past its timeout.
func (p *pacer) expired() bool { return p.opt.Now().After(p.deadline) }

// wait sleeps until the next read; ctx's error when it ends first.
func (p *pacer) wait(ctx context.Context) error {
	d := time.Duration(float64(p.interval) * (0.75 + 0.5*p.opt.Rand()))
	p.interval = min(p.interval*3/2, p.opt.MaxPollInterval)
	return p.opt.Sleep(ctx, d)
}

// pollTask polls the task until it is Completed (nil) or Failed (*provider.TaskFailedError), the
// first poll after about PollInterval, then backing off with jitter (pacer). Transient errors of
// QueryTask (transport, throttling, 5xx) are tolerated; another APIError ends the wait; so do ctx
// and TaskTimeout (wrapping provider.ErrTaskTimeout). polled sees each answer.
func pollTask(ctx context.Context, c provider.Client, opt ExecOptions, taskID, reqID string, polled func(*provider.Task)) (*provider.Task, error) {
	p := newPacer(opt, opt.TaskTimeout)
	var lastErr error
	for {
		if err := p.wait(ctx); err != nil {
			return nil, fmt.Errorf("waiting for task %s: %w", taskID, err)
		}
		t, err := c.QueryTask(ctx, provider.QueryTaskRequest{TaskID: taskID, RequestID: reqID})
		switch {
		case err == nil:
			if polled != nil {
				polled(t)
			}
			if t.Status == provider.TaskCompleted {
				return t, nil
			}
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

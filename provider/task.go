package provider

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// PollOptions controls WaitTask. Zero values take the defaults noted.
type PollOptions struct {
	Interval    time.Duration // first wait between polls; default 2s
	MaxInterval time.Duration // cap of the growing interval; default 15s (the vendor's tools poll every 15s)
	Timeout     time.Duration // overall limit; 0: none beyond ctx
	// Jitter is the fraction of each interval that is randomised, in [0,1]: the wait is
	// interval*(1-Jitter) + rand*interval*Jitter. Default 0 (none); negative values mean 0.
	Jitter float64
	// Factor multiplies the interval after each poll; default 1.5.
	Factor float64
	// Sleep waits d or until ctx is done (then it returns ctx.Err()); default a timer. Tests inject it.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a number in [0,1) for jitter; default math/rand/v2.
	Rand func() float64
}

// ErrTaskTimeout is returned (wrapped) by WaitTask when PollOptions.Timeout elapses first.
var ErrTaskTimeout = errors.New("timed out waiting for task")

// WaitTask polls QueryTask until the task is Completed or Failed and returns its last state.
// A Completed task returns (task, nil); a Failed one (task, *TaskFailedError). An APIError from
// QueryTask (e.g. 10006, no such task) ends the wait at once; other errors (transport, outcome
// unknown, and API errors with HTTP status 429 or 5xx) are tolerated and polling goes on until the
// timeout or ctx ends, whose error wraps the last one. WaitTask makes no mutating call, so it is safe
// to resume after a crash.
func WaitTask(ctx context.Context, c Client, taskID, requestID string, opts PollOptions) (*Task, error) {
	if opts.Interval <= 0 {
		opts.Interval = 2 * time.Second
	}
	if opts.MaxInterval <= 0 {
		opts.MaxInterval = 15 * time.Second
	}
	if opts.MaxInterval < opts.Interval {
		opts.MaxInterval = opts.Interval
	}
	if opts.Factor < 1 {
		opts.Factor = 1.5
	}
	if opts.Jitter < 0 {
		opts.Jitter = 0
	}
	if opts.Jitter > 1 {
		opts.Jitter = 1
	}
	if opts.Sleep == nil {
		opts.Sleep = SleepContext
	}
	if opts.Rand == nil {
		opts.Rand = rand.Float64
	}
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, opts.Timeout, ErrTaskTimeout)
		defer cancel()
	}
	interval := opts.Interval
	var lastErr error
	for {
		t, err := c.QueryTask(ctx, QueryTaskRequest{TaskID: taskID, RequestID: requestID})
		switch {
		case err == nil && t.Status == TaskCompleted:
			return t, nil
		case err == nil && t.Status == TaskFailed:
			return t, &TaskFailedError{Task: *t}
		case err != nil:
			if ae, ok := AsAPIError(err); ok && !ae.transient() && ctx.Err() == nil {
				return nil, err
			}
			lastErr = err
		}
		if ctx.Err() != nil {
			return nil, waitErr(ctx, taskID, lastErr)
		}
		d := interval
		if opts.Jitter > 0 {
			j := float64(d) * opts.Jitter
			d = time.Duration(float64(d) - j + opts.Rand()*j)
		}
		if err := opts.Sleep(ctx, d); err != nil {
			return nil, waitErr(ctx, taskID, lastErr)
		}
		interval = time.Duration(float64(interval) * opts.Factor)
		if interval > opts.MaxInterval {
			interval = opts.MaxInterval
		}
	}
}

func waitErr(ctx context.Context, taskID string, last error) error {
	cause := context.Cause(ctx)
	if cause == nil {
		cause = ctx.Err()
	}
	if last != nil {
		return fmt.Errorf("waiting for task %s: %w (last error: %w)", taskID, cause, last)
	}
	return fmt.Errorf("waiting for task %s: %w", taskID, cause)
}

// SleepContext waits d, or until ctx is done, when it returns ctx.Err(). A d of zero or less returns
// ctx.Err() at once. It is the default Sleep of WaitTask and of the HTTP client's retries.
func SleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

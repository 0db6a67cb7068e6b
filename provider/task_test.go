package provider

import (
	"context"
	"errors"
	"testing"
	"time"
)

// taskClient answers QueryTask from a script; every other method panics (embedded nil interface).
type taskClient struct {
	Client
	script []func() (*Task, error)
	calls  int
	reqIDs []string
}

func (c *taskClient) QueryTask(_ context.Context, req QueryTaskRequest) (*Task, error) {
	c.reqIDs = append(c.reqIDs, req.RequestID)
	i := min(c.calls, len(c.script)-1)
	c.calls++
	return c.script[i]()
}

func running() (*Task, error)   { return &Task{TaskID: "t", Status: TaskRunning}, nil }
func done() (*Task, error)      { return &Task{TaskID: "t", Status: TaskCompleted}, nil }
func failed() (*Task, error)    { return &Task{TaskID: "t", Status: TaskFailed, FailReason: "no"}, nil }
func netErr() (*Task, error)    { return nil, errors.New("connection reset") }
func notFound() (*Task, error)  { return nil, &APIError{Code: CodeNotFound} }
func throttled() (*Task, error) { return nil, &APIError{Code: "Throttling", HTTPStatus: 429} }
func unavailable() (*Task, error) {
	return nil, &APIError{Code: "ServiceUnavailable", HTTPStatus: 503}
}

func TestWaitTask(t *testing.T) {
	tests := []struct {
		name       string
		script     []func() (*Task, error)
		opts       PollOptions
		wantStatus TaskStatus
		wantErr    func(error) bool
		wantSleeps []time.Duration
		reason     string
	}{
		{"completes", []func() (*Task, error){running, running, done},
			PollOptions{Interval: time.Second, MaxInterval: 2 * time.Second, Factor: 2}, TaskCompleted,
			func(err error) bool { return err == nil },
			[]time.Duration{time.Second, 2 * time.Second}, "interval grows by Factor up to MaxInterval"},
		{"fails", []func() (*Task, error){running, failed},
			PollOptions{Interval: time.Second}, TaskFailed,
			func(err error) bool { var tf *TaskFailedError; return errors.As(err, &tf) },
			[]time.Duration{time.Second}, "a Failed task is returned with a TaskFailedError"},
		{"transient", []func() (*Task, error){netErr, done},
			PollOptions{Interval: time.Second}, TaskCompleted,
			func(err error) bool { return err == nil },
			[]time.Duration{time.Second}, "transport errors are tolerated"},
		{"notfound", []func() (*Task, error){notFound},
			PollOptions{Interval: time.Second}, "",
			IsNotFound, nil, "an API error ends the wait"},
		{"throttled", []func() (*Task, error){throttled, unavailable, done},
			PollOptions{Interval: time.Second, Factor: 1}, TaskCompleted,
			func(err error) bool { return err == nil },
			[]time.Duration{time.Second, time.Second},
			"HTTP 429 and 5xx left over from the client's retries are transient: polling goes on"},
		{"jitter", []func() (*Task, error){running, done},
			PollOptions{Interval: 10 * time.Second, Jitter: 0.5, Rand: func() float64 { return 0 }}, TaskCompleted,
			func(err error) bool { return err == nil },
			[]time.Duration{5 * time.Second}, "Jitter 0.5 with rand 0 waits half the interval"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &taskClient{script: tc.script}
			var sleeps []time.Duration
			tc.opts.Sleep = func(_ context.Context, d time.Duration) error { sleeps = append(sleeps, d); return nil }
			task, err := WaitTask(context.Background(), c, "t", "req-1", tc.opts)
			if !tc.wantErr(err) {
				t.Fatalf("unexpected error %v (%s)", err, tc.reason)
			}
			if tc.wantStatus != "" && (task == nil || task.Status != tc.wantStatus) {
				t.Fatalf("task = %+v, want status %s (%s)", task, tc.wantStatus, tc.reason)
			}
			if len(sleeps) != len(tc.wantSleeps) {
				t.Fatalf("sleeps = %v, want %v (%s)", sleeps, tc.wantSleeps, tc.reason)
			}
			for i := range sleeps {
				if sleeps[i] != tc.wantSleeps[i] {
					t.Errorf("sleep %d = %v, want %v (%s)", i, sleeps[i], tc.wantSleeps[i], tc.reason)
				}
			}
			for _, id := range c.reqIDs {
				if id != "req-1" {
					t.Errorf("QueryTask got requestId %q, want the creating call's", id)
				}
			}
		})
	}
}

func TestWaitTaskCancelled(t *testing.T) {
	c := &taskClient{script: []func() (*Task, error){running}}
	ctx, cancel := context.WithCancel(context.Background())
	opts := PollOptions{Interval: time.Second, Sleep: func(ctx context.Context, _ time.Duration) error {
		cancel()
		return ctx.Err()
	}}
	_, err := WaitTask(ctx, c, "t", "r", opts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

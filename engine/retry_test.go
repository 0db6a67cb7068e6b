package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider"
)

// fakeTasks is a client whose tasks end `dur` after the clock's start; it counts the polls.
type fakeTasks struct {
	provider.Client
	now   *time.Time
	end   time.Time
	polls int
}

func (f *fakeTasks) QueryTask(_ context.Context, req provider.QueryTaskRequest) (*provider.Task, error) {
	f.polls++
	st := provider.TaskRunning
	if !f.now.Before(f.end) {
		st = provider.TaskCompleted
	}
	return &provider.Task{TaskID: req.TaskID, Status: st}, nil
}

// fakeClock is a clock that Sleep moves forward at once; waits records every sleep.
type fakeClock struct {
	now   time.Time
	waits []time.Duration
}

func (c *fakeClock) opts() ExecOptions {
	return ExecOptions{Now: func() time.Time { return c.now }, Sleep: func(_ context.Context, d time.Duration) error {
		c.waits = append(c.waits, d)
		c.now = c.now.Add(d)
		return nil
	}, Rand: func() float64 { return 0.5 }}.withDefaults()
}

// TestPollPacing: the waits of one task's polling, by what the run has seen of its action's tasks.
func TestPollPacing(t *testing.T) {
	const s = time.Second
	cases := []struct {
		reason string
		seen   map[provider.Action]time.Duration
		action provider.Action
		want   []time.Duration // the first waits
	}{
		{"nothing seen: the default pace, from the poll interval growing by half up to the maximum",
			nil, provider.ActionCreateVm, []time.Duration{2 * s, 3 * s, 4500 * time.Millisecond, 6750 * time.Millisecond}},
		{"a 300 s CreateVm seen: the first poll 1.5 poll intervals (jitter 0.5) before it is due, then the default pace",
			map[provider.Action]time.Duration{provider.ActionCreateVm: 300 * s}, provider.ActionCreateVm, []time.Duration{297 * s, 2 * s, 3 * s}},
		{"a task seen shorter than the floor: the first wait is still the poll interval",
			map[provider.Action]time.Duration{provider.ActionCreateVm: s}, provider.ActionCreateVm, []time.Duration{2 * s, 2 * s, 3 * s}},
		{"durations are per action: a CreateVm seen says nothing of OperateVm",
			map[provider.Action]time.Duration{provider.ActionCreateVm: 300 * s}, provider.ActionOperateVm, []time.Duration{2 * s, 3 * s, 4500 * time.Millisecond}},
	}
	for _, tc := range cases {
		clock := &fakeClock{now: time.Unix(0, 0)}
		durations := &taskDurations{seen: tc.seen}
		c := &fakeTasks{now: &clock.now, end: clock.now.Add(time.Hour)}
		opt := clock.opts()
		opt.TaskTimeout = 310 * s // ends the wait
		_, err := pollTaskOf(context.Background(), c, opt, durations, tc.action, "t1", "r1", nil)
		if err == nil || !strings.Contains(err.Error(), "timed out") && !strings.Contains(err.Error(), provider.ErrTaskTimeout.Error()) {
			t.Fatalf("%s: the wait should time out, got %v", tc.reason, err)
		}
		if len(clock.waits) < len(tc.want) {
			t.Fatalf("%s: waits %v, want at least %v", tc.reason, clock.waits, tc.want)
		}
		for i, w := range tc.want {
			if clock.waits[i] != w {
				t.Errorf("%s: waits %v, want them to begin %v", tc.reason, clock.waits, tc.want)
				break
			}
		}
	}
}

// TestPollLearnsDurations: three 300 s tasks of one action in turn. The first is paced from the poll
// interval (21 polls, seen up to a maximum interval late); the next ones' first poll comes shortly
// before the first was last seen running, so each takes at most 4 polls and is seen within two poll
// intervals of its end.
func TestPollLearnsDurations(t *testing.T) {
	const task = 300 * time.Second
	clock := &fakeClock{now: time.Unix(0, 0)}
	opt := clock.opts()
	durations := &taskDurations{}
	for i, reason := range []string{"the first task: nothing seen yet", "the second: its duration is known", "the third: still known"} {
		start := clock.now
		c := &fakeTasks{now: &clock.now, end: start.Add(task)}
		if _, err := pollTaskOf(context.Background(), c, opt, durations, provider.ActionCreateVm, "t", "r", nil); err != nil {
			t.Fatalf("%s: %v", reason, err)
		}
		late := clock.now.Sub(start) - task
		if late < 0 || late > opt.MaxPollInterval {
			t.Errorf("%s: the end was seen %s late, at most the maximum poll interval allowed", reason, late)
		}
		if i > 0 && (c.polls > 4 || late > 2*opt.PollInterval) {
			t.Errorf("%s: %d polls, seen %s late; want at most 4 polls, at most %s late", reason, c.polls, late, 2*opt.PollInterval)
		}
		if d, ok := durations.expected(provider.ActionCreateVm); !ok || d > task || d < task-opt.MaxPollInterval {
			t.Errorf("%s: learned %s (%v), want the task's duration up to a maximum poll interval less", reason, d, ok)
		}
	}
}

// TestCheckPollInterval: the floor of --poll-interval, for the API and for an emulator on this
// machine.
func TestCheckPollInterval(t *testing.T) {
	cases := []struct {
		reason string
		d      time.Duration
		local  bool
		ok     bool
	}{
		{"the default against the API", DefaultPollInterval, false, true},
		{"exactly the floor against the API", MinPollInterval, false, true},
		{"below the floor against the API: every waiting task would poll faster than the API's tasks change", 500 * time.Millisecond, false, false},
		{"an emulator on this machine: its tasks take milliseconds", 20 * time.Millisecond, true, true},
		{"below even the emulator's floor", time.Millisecond, true, false},
		{"zero is below any floor (no default is implied)", 0, false, false},
	}
	for _, tc := range cases {
		err := CheckPollInterval(tc.d, tc.local)
		if (err == nil) != tc.ok {
			t.Errorf("%s: CheckPollInterval(%s, %v) = %v, want ok %v", tc.reason, tc.d, tc.local, err, tc.ok)
		}
	}
}

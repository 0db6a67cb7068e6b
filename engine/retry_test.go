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

// TestTaskDurationsWake: a task seen completed wakes, once each, the waits of its action that have
// lasted at least as long as it surely ran; not the younger ones, nor those of another action.
func TestTaskDurationsWake(t *testing.T) {
	t0 := time.Unix(0, 0)
	td := &taskDurations{}
	older := td.enter(provider.ActionDeleteVm, t0)
	younger := td.enter(provider.ActionDeleteVm, t0.Add(100*time.Second))
	other := td.enter(provider.ActionOperateVm, t0)
	woken := func(w *taskWait) bool {
		select {
		case <-w.wake:
			return true
		default:
			return false
		}
	}
	// A DeleteVm seen running 118 s after its wait began, completed at 125 s.
	td.observe(provider.ActionDeleteVm, 118*time.Second, t0.Add(125*time.Second))
	cases := []struct {
		reason string
		w      *taskWait
		want   bool
	}{
		{"a DeleteVm waited on for 125 s, longer than the 118 s the completed one ran: likely done, woken", older, true},
		{"a DeleteVm waited on for 25 s: not yet due, left asleep", younger, false},
		{"an OperateVm: another action, whatever its age", other, false},
	}
	for _, tc := range cases {
		if got := woken(tc.w); got != tc.want {
			t.Errorf("%s: woken %v, want %v", tc.reason, got, tc.want)
		}
	}
	// Woken once: a second completion neither panics (closing twice) nor wakes the younger early.
	td.observe(provider.ActionDeleteVm, 118*time.Second, t0.Add(126*time.Second))
	if woken(younger) {
		t.Error("a second completion woke the wait that has lasted 26 s")
	}
	td.leave(provider.ActionDeleteVm, younger)
	if n := len(td.waiting[provider.ActionDeleteVm]); n != 0 {
		t.Errorf("%d DeleteVm waits left registered, want none", n)
	}
}

// TestPacerWake: a woken wait returns at once and paces from the poll interval after; a wait whose
// context ends returns the context's error.
func TestPacerWake(t *testing.T) {
	opt := ExecOptions{Sleep: func(ctx context.Context, _ time.Duration) error { <-ctx.Done(); return ctx.Err() },
		Rand: func() float64 { return 0.5 }}.withDefaults()
	cases := []struct {
		reason string
		wake   bool // fire the wake channel
		cancel bool // end the wait's context
	}{
		{"woken: the read comes at once", true, false},
		{"the context ends: its error, not a wake", false, true},
	}
	for _, tc := range cases {
		p := newPacer(opt, time.Hour)
		p.interval = opt.MaxPollInterval
		wake := make(chan struct{})
		p.wake = wake
		ctx, cancel := context.WithCancel(context.Background())
		if tc.wake {
			close(wake)
		}
		if tc.cancel {
			cancel()
		}
		err := p.wait(ctx)
		cancel()
		switch {
		case tc.wake && (err != nil || p.interval != opt.PollInterval || p.wake != nil):
			t.Errorf("%s: err %v, next interval %s (want %s), still wakeable %v", tc.reason, err, p.interval, opt.PollInterval, p.wake != nil)
		case tc.cancel && err == nil:
			t.Errorf("%s: no error", tc.reason)
		}
	}
}

package engine_test

import (
	"container/heap"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/provider/gcw"
	"github.com/deskfleet/deskfleet/provider/sim"
	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/memory"
)

// virtualClock is a simulated clock for many goroutines at once: Sleep blocks until the clock
// reaches its end, and the clock jumps to the earliest end once nothing has touched it (Sleep, Now,
// a request served, a state read or write: see busy) for a quiet spell of real time: every
// goroutine is asleep on it, or blocked behind one that is. A goroutine still computing when it
// jumps starts its next wait later than it would have: the error only ever lengthens the simulated
// time.
type virtualClock struct {
	mu     sync.Mutex
	now    time.Time
	gen    uint64 // bumped by every Sleep, Now, wake-up and busy spell
	busyN  int    // busy spells under way: the clock does not move
	queue  sleepers
	stop   chan struct{}
	jumps  int
	closed sync.Once
}

type sleeper struct {
	at   time.Time
	wake chan struct{}
}

type sleepers []sleeper

func (h sleepers) Len() int           { return len(h) }
func (h sleepers) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h sleepers) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *sleepers) Push(x any)        { *h = append(*h, x.(sleeper)) }
func (h *sleepers) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func newVirtualClock(start time.Time, quiet time.Duration) *virtualClock {
	c := &virtualClock{now: start, stop: make(chan struct{})}
	go c.drive(quiet)
	return c
}

func (c *virtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	return c.now
}

// busy runs fn with the clock held still (a request being served, the state being written).
func (c *virtualClock) busy(fn func()) {
	c.mu.Lock()
	c.busyN++
	c.gen++
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.busyN--
		c.gen++
		c.mu.Unlock()
	}()
	fn()
}

func (c *virtualClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	wake := make(chan struct{})
	c.mu.Lock()
	heap.Push(&c.queue, sleeper{at: c.now.Add(d), wake: wake})
	c.gen++
	c.mu.Unlock()
	select {
	case <-wake:
		return nil
	case <-ctx.Done():
		return ctx.Err() // its entry wakes nobody when its time comes
	}
}

// drive moves the clock to the earliest sleeper's end after two quiet checks in a row.
func (c *virtualClock) drive(quiet time.Duration) {
	var last uint64
	calm := 0
	for {
		select {
		case <-c.stop:
			return
		case <-time.After(quiet):
		}
		c.mu.Lock()
		if c.gen != last || c.queue.Len() == 0 || c.busyN > 0 {
			last, calm = c.gen, 0
			c.mu.Unlock()
			continue
		}
		if calm++; calm < 2 {
			c.mu.Unlock()
			continue
		}
		at := c.queue[0].at
		if at.After(c.now) {
			c.now = at
			c.jumps++
		}
		for c.queue.Len() > 0 && !c.queue[0].at.After(c.now) {
			close(heap.Pop(&c.queue).(sleeper).wake)
		}
		c.gen++
		last, calm = c.gen, 0
		c.mu.Unlock()
	}
}

func (c *virtualClock) close() { c.closed.Do(func() { close(c.stop) }) }

// latencyTransport serves each request from the emulator in this process after `latency` on the
// virtual clock (the client holds its concurrency bound while it waits, as for a real round trip).
type latencyTransport struct {
	h       http.Handler
	clock   *virtualClock
	latency time.Duration
}

func (t latencyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.clock.Sleep(req.Context(), t.latency); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	t.clock.busy(func() { t.h.ServeHTTP(rec, req) })
	return rec.Result(), nil
}

// clockedStore holds the virtual clock still while the state is read or written.
type clockedStore struct {
	state.Store
	clock *virtualClock
}

func (s clockedStore) Read(ctx context.Context, fleet string) (rec *state.Record, err error) {
	s.clock.busy(func() { rec, err = s.Store.Read(ctx, fleet) })
	return rec, err
}

func (s clockedStore) Update(ctx context.Context, l *state.Lock, fn func(*state.Record) error) (err error) {
	s.clock.busy(func() { err = s.Store.Update(ctx, l, fn) })
	return err
}

// seededJitter is ExecOptions.Rand drawn from a seeded generator (safe for concurrent use): the
// executor's jitter as in a real run, the same in every run.
func seededJitter(seed uint64) func() float64 {
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(seed, seed))
	return func() float64 {
		mu.Lock()
		defer mu.Unlock()
		return r.Float64()
	}
}

// deleteFloor is the least simulated time deleting n desktops can take, from the workload alone:
// the n DeleteVm calls, `parallelism` at a time, each one request of `latency`, then the last
// one's task: n/parallelism x latency + task.
func deleteFloor(n, parallelism int, latency, task time.Duration) time.Duration {
	return time.Duration((n+parallelism-1)/parallelism)*latency + task
}

// BenchmarkDelete1000 deletes 1,000 managed desktops (one DeleteVm step each, 120 s tasks) on the
// emulator with 20 ms per request, on a simulated clock (virtualClock: the emulator's tasks, the
// requests' latency and the executor's waits all run on it), with the default poll pacing and
// parallelism 8 (the client's concurrency too), the executor's jitter drawn from a seeded generator,
// and reports the simulated wall time of Apply as a ratio to deleteFloor (docs/performance.md:
// within 1.3x). A step waiting for its task holds no request slot; when it did, the steps went by
// eight, each holding its slot for a task: about 1000/8 x 120 s, 4.4 hours. The first deletion seen
// completed wakes the waits of the others that started before it (taskDurations), so they are not
// each up to a MaxPollInterval late.
func BenchmarkDelete1000(b *testing.B) {
	benchDelete(b, 1000)
}

func benchDelete(b *testing.B, n int) {
	const latency, task, parallelism = 20 * time.Millisecond, 120 * time.Second, 8
	floor := deleteFloor(n, parallelism, latency, task)
	var wall time.Duration
	requests, jumps := 0, 0
	// The timer runs: one deletion of 1,000 takes seconds of real time, so the default -benchtime
	// runs it once (with the timer stopped, b.N grew to thousands of runs).
	for range b.N {
		w, reqs, j := deleteRun(b, n, parallelism, latency, task)
		wall += w
		requests += reqs
		jumps += j
	}
	b.ReportMetric(float64(floor.Milliseconds())/1000, "floor_s")
	b.ReportMetric(wall.Seconds()/float64(b.N), "sim_wall_s")
	b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
	b.ReportMetric(float64(jumps)/float64(b.N), "clock_jumps/op")
	b.ReportMetric(float64(wall)/float64(b.N)/float64(floor), "x_bound")
	b.ReportMetric(1.3, "limit_x")
}

// deleteRun sets up n managed desktops and deletes them; it returns the simulated time of Apply, the
// requests the emulator served and the clock's jumps.
func deleteRun(tb testing.TB, n, parallelism int, latency, task time.Duration) (time.Duration, int, int) {
	tb.Helper()
	clock := newVirtualClock(scenarioNow, 200*time.Microsecond)
	defer clock.close()
	s, err := sim.New(sim.Options{Clock: clock, Seed: 1, TaskDurations: map[provider.Action]time.Duration{provider.ActionDeleteVm: task}})
	if err != nil {
		tb.Fatal(err)
	}
	net, ok := s.DefaultNet(sim.SiteSuqianA)
	if !ok || len(net.Subnets) == 0 {
		tb.Fatal("宿迁A has no default network")
	}
	rec := map[string]state.Desktop{}
	p := &engine.Plan{}
	for i := range n {
		name := fmt.Sprintf("del-%04d", i)
		id, err := s.AddDesktop(sim.Desktop{ID: "vm-" + name, Name: name, SiteID: sim.SiteSuqianA, ProductID: sim.ProductA5000Win,
			ImageID: sim.ImageWin10, VPCID: net.ID, SubnetID: net.Subnets[0].ID, Qos: 5, Status: sim.StatusRunning})
		if err != nil {
			tb.Fatal(err)
		}
		rec[id] = state.Desktop{VmID: id, Name: name, ImageID: sim.ImageWin10}
		p.Steps = append(p.Steps, engine.Step{ID: i + 1, Op: engine.DeleteDesktop{Desktop: engine.Target{Name: name, VmID: id}}})
	}
	c, err := gcw.New(gcw.Config{Endpoint: "http://emulator.invalid/gcw", AccessKeyID: "bench", Secret: "bench-secret", Rate: -1,
		MaxConcurrent: parallelism, Clock: clock.Now, Sleep: clock.Sleep,
		HTTPClient: &http.Client{Transport: latencyTransport{h: s, clock: clock, latency: latency}}})
	if err != nil {
		tb.Fatal(err)
	}
	st := clockedStore{Store: memory.New(), clock: clock}
	ctx := context.Background()
	lock, err := st.Lock(ctx, "bench", state.Holder{User: "bench"}, 0)
	if err != nil {
		tb.Fatal(err)
	}
	if err := st.Update(ctx, lock, func(r *state.Record) error { r.Desktops = rec; return nil }); err != nil {
		tb.Fatal(err)
	}
	r, err := st.Read(ctx, "bench")
	if err != nil {
		tb.Fatal(err)
	}
	p.StateSerial = r.Serial
	s.ResetCalls()
	start := clock.Now()
	res, err := engine.Apply(ctx, c, st, lock, p, engine.ExecOptions{Parallelism: parallelism, Now: clock.Now, Sleep: clock.Sleep,
		Rand: seededJitter(1)})
	wall := clock.Now().Sub(start)
	if err != nil {
		tb.Fatalf("apply: %v", err)
	}
	if len(res.With(engine.StepDone)) != n {
		tb.Fatalf("%d of %d deletions done", len(res.With(engine.StepDone)), n)
	}
	after, err := st.Read(ctx, "bench")
	if err != nil {
		tb.Fatal(err)
	}
	if len(after.Desktops) != 0 {
		tb.Fatalf("%d desktops left in the record", len(after.Desktops))
	}
	requests := 0
	for _, k := range s.Calls() {
		requests += k
	}
	clock.mu.Lock()
	jumps := clock.jumps
	clock.mu.Unlock()
	return wall, requests, jumps
}

// TestDeleteWaitsHoldNoSlot: 48 deletions with 3-second tasks, parallelism 8, on the simulated
// clock: the steps' waits overlap, so the run takes about one task, not 48/8 of them (it took 74 s,
// 21x its floor, when a waiting step held its slot). The bound is on simulated time, which the
// machine's speed does not change: at most 3x the floor, the old way is 6 tasks at least.
func TestDeleteWaitsHoldNoSlot(t *testing.T) {
	const n, parallelism, latency, task = 48, 8, 20 * time.Millisecond, 3 * time.Second
	wall, _, _ := deleteRun(t, n, parallelism, latency, task)
	floor := deleteFloor(n, parallelism, latency, task)
	if wall > 3*floor {
		t.Errorf("deleting %d desktops took %s of simulated time, %.1fx the floor %s", n, wall, float64(wall)/float64(floor), floor)
	}
}

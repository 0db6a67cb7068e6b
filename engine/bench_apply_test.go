package engine_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/provider/gcw"
	"github.com/deskfleet/deskfleet/provider/sim"
	"github.com/deskfleet/deskfleet/spec"
	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/memory"
)

// applyGroup is one group of identical new desktops: count desktops named after name, with one
// label, power off or on, and desktop i bound to accounts[i % len(accounts)].
type applyGroup struct {
	name     string
	count    int
	label    string
	off      bool
	accounts []string
}

// applySpec is the spec of the groups on one site; every account it names is declared.
func applySpec(tb testing.TB, groups []applyGroup) *spec.Fleet {
	tb.Helper()
	var src strings.Builder
	src.WriteString(`version: 1
fleet: bench
defaults: {site: 宿迁A, billing: monthly}
billing:
  monthly: {cycle: month}
profiles:
  win: {product: {gpu: NVIDIA A5000, os: windows}, image: Windows10-公共镜像-图像处理型}
accounts:
`)
	declared := map[string]bool{}
	for _, g := range groups {
		for _, a := range g.accounts {
			if !declared[a] {
				declared[a] = true
				fmt.Fprintf(&src, "  - {email: %s, name: %s}\n", a, strings.Split(a, "@")[0])
			}
		}
	}
	src.WriteString("desktops:\n")
	for _, g := range groups {
		power := "on"
		if g.off {
			power = "off"
		}
		fmt.Fprintf(&src, "  - {name: %s, count: %d, profile: win, label: %s, power: %s}\n", g.name, g.count, g.label, power)
	}
	src.WriteString("bindings:\n")
	for _, g := range groups {
		for i := range g.count {
			fmt.Fprintf(&src, "  %s: %s\n", spec.DesktopName(g.name, i), g.accounts[i%len(g.accounts)])
		}
	}
	fl, diags := spec.Parse("bench.yaml", []byte(src.String()))
	if diags.HasErrors() {
		tb.Fatal(diags)
	}
	return fl
}

// applyEnv is one apply from scratch: a new emulator (wall clock, no desktop, no account) behind the
// real client, a new in-memory store, and the plan made against them.
type applyEnv struct {
	sim  *sim.Sim
	srv  *httptest.Server
	hc   *http.Client
	c    provider.Client
	st   state.Store
	lock *state.Lock
	plan *engine.Plan
}

// newApplyEnv plans fl against a new emulator; the emulator's call counts are reset after planning.
// The client has no rate limit and at most `concurrent` requests in flight (the default, 8).
func newApplyEnv(tb testing.TB, fl *spec.Fleet, opt sim.Options, concurrent int) *applyEnv {
	tb.Helper()
	s, err := sim.New(opt)
	if err != nil {
		tb.Fatal(err)
	}
	e := &applyEnv{sim: s, srv: httptest.NewServer(s), hc: &http.Client{}}
	e.c, err = gcw.New(gcw.Config{Endpoint: e.srv.URL, AccessKeyID: "bench", Secret: "bench-secret", Rate: -1,
		MaxConcurrent: concurrent, HTTPClient: e.hc})
	tb.Cleanup(e.close)
	if err != nil {
		tb.Fatal(err)
	}
	e.st = memory.New()
	return e.planned(tb, s, fl, concurrent)
}

func (e *applyEnv) apply(tb testing.TB, opt engine.ExecOptions) (time.Duration, map[provider.Action]int, int) {
	tb.Helper()
	start := time.Now()
	_, err := engine.Apply(context.Background(), e.c, e.st, e.lock, e.plan, opt)
	wall := time.Since(start)
	if err != nil {
		tb.Fatalf("apply: %v", err)
	}
	return wall, e.sim.Calls(), e.sim.MutatingCalls()
}

// converged plans again (outside the timer): an apply that left work undone measures nothing.
func (e *applyEnv) converged(tb testing.TB, fl *spec.Fleet, concurrent int) {
	tb.Helper()
	rec, err := e.st.Read(context.Background(), "bench")
	if err != nil {
		tb.Fatal(err)
	}
	if p := readPlan(tb, fl, e.c, rec, concurrent); !p.Empty() {
		tb.Fatalf("the plan after apply has %d steps", len(p.Steps))
	}
}

// close stops the emulator; idempotent.
func (e *applyEnv) close() {
	e.hc.CloseIdleConnections()
	e.srv.Close()
}

// floors is what the API and the emulator impose on an apply, whatever the executor does.
type floors struct {
	latency      time.Duration // per request
	poll         time.Duration // ExecOptions.PollInterval
	concurrent   int           // requests in flight (the client's MaxConcurrent)
	taskDuration func(provider.Action) time.Duration
}

// step is the least real time one step can take once it may start:
//   - every step: its call, one request;
//   - a task (CreateVm, OperateVm, ...): then the task's duration, one poll interval (the poll that
//     sees the end comes at most about one interval after it) and that poll, one request;
//   - CreateVm: then its new desktops' names read back (the API does not say which desktop got
//     which name, docs/api-readings.md), one QueryVm per desktop, `concurrent` at a time:
//     ceil(n/concurrent) requests one after the other.
//
// Reads the executor makes besides these (the desktops re-read after a power task, the account read
// before a binding whose account already exists) are its own choice and not counted.
func (f floors) step(s engine.Step) time.Duration {
	d := f.latency
	if s.Async() {
		d += f.taskDuration(s.Op.Action()) + f.poll + f.latency
	}
	if c, ok := s.Op.(engine.CreateDesktops); ok {
		d += time.Duration((len(c.Names)+f.concurrent-1)/f.concurrent) * f.latency
	}
	return d
}

// wait is the least real time between the end of step a and the start of its dependant s beyond the
// dependency itself: an account created by a is "creating" for the emulator's CreateSubAccount
// duration, and a binding needs it created, seen by one read (one poll interval and one request
// after its end, as for a task).
func (f floors) wait(a, s engine.Step) time.Duration {
	if _, ok := a.Op.(engine.CreateSubAccounts); !ok {
		return 0
	}
	switch s.Op.(type) {
	case engine.BindAccounts, engine.ChangeAccount:
		return f.taskDuration(provider.ActionCreateSubAccount) + f.poll + f.latency
	}
	return 0
}

// criticalPath is the longest chain of the plan's steps under their After dependencies (only those:
// not the executor's own ordering of steps that touch one desktop), each step costing f.step and
// each dependency f.wait. It returns the chain's length and its step ids.
func criticalPath(p *engine.Plan, f floors) (time.Duration, []int) {
	byID := map[int]engine.Step{}
	for _, s := range p.Steps {
		byID[s.ID] = s
	}
	end := map[int]time.Duration{}
	prev := map[int]int{}
	var finish func(id int) time.Duration
	finish = func(id int) time.Duration {
		if d, ok := end[id]; ok {
			return d
		}
		s := byID[id]
		var start time.Duration
		for _, a := range s.After {
			if t := finish(a) + f.wait(byID[a], s); t > start {
				start, prev[id] = t, a
			}
		}
		end[id] = start + f.step(s)
		return end[id]
	}
	var longest time.Duration
	last := 0
	for _, s := range p.Steps {
		if d := finish(s.ID); d > longest {
			longest, last = d, s.ID
		}
	}
	var chain []int
	for id := last; id != 0; id = prev[id] {
		chain = append([]int{id}, chain...)
	}
	return longest, chain
}

// apply200Tasks are the task durations of BenchmarkApply200, within the 60-300 s the issue of
// realistic tasks names: creations the longest, power and bindings shorter.
var apply200Tasks = map[provider.Action]time.Duration{
	provider.ActionCreateVm:         300 * time.Second,
	provider.ActionOperateVm:        90 * time.Second,
	provider.ActionCreateSubAccount: 120 * time.Second,
}

// apply200Default is the task duration of the actions apply200Tasks does not name.
const apply200Default = 60 * time.Second

// virtualApply is applyEnv on the simulated clock: the emulator's tasks, every request's latency
// (latencyTransport), the client's rate control and the executor's waits all run on clock.
func newVirtualApply(tb testing.TB, fl *spec.Fleet, clock *virtualClock, latency time.Duration, concurrent int) *applyEnv {
	tb.Helper()
	s, err := sim.New(sim.Options{Clock: clock, Seed: 1, TaskDuration: apply200Default, TaskDurations: apply200Tasks})
	if err != nil {
		tb.Fatal(err)
	}
	e := &applyEnv{sim: s, hc: &http.Client{Transport: latencyTransport{h: s, clock: clock, latency: latency}}}
	e.c, err = gcw.New(gcw.Config{Endpoint: "http://emulator.invalid/gcw", AccessKeyID: "bench", Secret: "bench-secret",
		MaxConcurrent: concurrent, Clock: clock.Now, Sleep: clock.Sleep, HTTPClient: e.hc})
	if err != nil {
		tb.Fatal(err)
	}
	e.st = clockedStore{Store: memory.New(), clock: clock}
	return e.planned(tb, s, fl, concurrent)
}

// apply200Groups are BenchmarkApply200's four groups of 50 (three powered off), bound to five
// accounts.
var apply200Groups = []applyGroup{
	{name: "cad", count: 50, label: "design", off: true, accounts: []string{"alice@example.com", "bob@example.com"}},
	{name: "render", count: 50, label: "farm", accounts: []string{"carol@example.com"}},
	{name: "lab", count: 50, label: "class", off: true, accounts: []string{"dave@example.com"}},
	{name: "ops", count: 50, label: "ops", off: true, accounts: []string{"erin@example.com", "alice@example.com"}},
}

// minimumCalls is the least number of mutating calls the API allows for groups of new desktops on
// one site, under the batch limits: one CreateSubAccounts for the new accounts, one CreateVm per group
// (per limit.CreateVm desktops), one UpdateVmLabels per label, one BindAccounts per account (per
// limit.BindAccounts desktops) and one OperateVm for the desktops powered off (per limit.OperateVm;
// new desktops run).
func minimumCalls(groups []applyGroup, limit engine.BatchLimits) int {
	per := func(n, lim int) int { return (n + lim - 1) / lim }
	accounts, labels := map[string]int{}, map[string]int{}
	calls, off := 1, 0
	for _, g := range groups {
		calls += per(g.count, limit.CreateVm)
		labels[g.label] += g.count
		for i := range g.count {
			accounts[g.accounts[i%len(g.accounts)]]++
		}
		if g.off {
			off += g.count
		}
	}
	for _, n := range labels {
		calls += per(n, limit.UpdateVmLabels)
	}
	for _, n := range accounts {
		calls += per(n, limit.BindAccounts)
	}
	return calls + per(off, limit.OperateVm)
}

// BenchmarkApply200 applies 200 new desktops (four groups of 50 on one site, each one CreateVm, on
// monthly billing, with labels, bindings to five new sub-accounts and three groups powered off) on
// the emulator with 20 ms per request and tasks of 60-300 s (apply200Tasks), all on the simulated
// clock (virtualClock), with the default poll pacing and parallelism (the jitter from a seeded
// generator). It reports the simulated wall
// time of Apply as a ratio to the plan's critical path (criticalPath, from the plan's dependencies,
// the latency, the task durations and the poll interval; docs/performance.md: within 1.2x), and
// fails when the apply makes more mutating calls than the API's minimum (minimumCalls).
func BenchmarkApply200(b *testing.B) {
	const latency, concurrent = 20 * time.Millisecond, 8
	fl := applySpec(b, apply200Groups)
	minimum := minimumCalls(apply200Groups, engine.DefaultBatchLimits)
	f := floors{latency: latency, poll: engine.DefaultPollInterval, concurrent: concurrent, taskDuration: func(a provider.Action) time.Duration {
		if d, ok := apply200Tasks[a]; ok {
			return d
		}
		return apply200Default
	}}
	var wall, critical time.Duration
	requests, mutating := 0, 0
	b.StopTimer()
	for range b.N {
		clock := newVirtualClock(scenarioNow, 200*time.Microsecond)
		e := newVirtualApply(b, fl, clock, latency, concurrent)
		cp, _ := criticalPath(e.plan, f)
		critical += cp
		start := clock.Now()
		b.StartTimer()
		_, err := engine.Apply(context.Background(), e.c, e.st, e.lock, e.plan, engine.ExecOptions{Now: clock.Now, Sleep: clock.Sleep,
			Rand: seededJitter(1)})
		b.StopTimer()
		wall += clock.Now().Sub(start)
		if err != nil {
			b.Fatalf("apply: %v", err)
		}
		for _, n := range e.sim.Calls() {
			requests += n
		}
		m := e.sim.MutatingCalls()
		mutating += m
		if m > minimum {
			b.Fatalf("%d mutating calls, the API's minimum is %d: %v", m, minimum, e.sim.Calls())
		}
		e.converged(b, fl, concurrent)
		clock.close()
	}
	b.ReportMetric(critical.Seconds()/float64(b.N), "critical_s")
	b.ReportMetric(wall.Seconds()/float64(b.N), "sim_wall_s")
	b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
	b.ReportMetric(float64(mutating)/float64(b.N), "mutating/op")
	b.ReportMetric(float64(minimum), "minimum/op")
	b.ReportMetric(float64(wall)/float64(critical), "x_bound")
	b.ReportMetric(1.2, "limit_x")
}

// BenchmarkApplyCalls applies 50 identical new desktops with one label, bound to two new
// sub-accounts (alternately) and powered off, and reports the mutating calls the emulator served as
// a ratio to the least the API allows (docs/performance.md: at most 1x):
//
//	1 CreateSubAccounts (every new account in one call)
//	+ 1 CreateVm (num=50: one call per group of identical desktops)
//	+ 2 BindAccounts (one account, many desktops: one call per account)
//	+ 1 UpdateVmLabels (one label, many desktops)
//	+ 1 OperateVm (one action, many desktops)
//	= 6.
//
// Polling (QueryTask) and the other reads are reported beside it, not counted.
func BenchmarkApplyCalls(b *testing.B) {
	const n, latency, task, poll, concurrent = 50, 20 * time.Millisecond, 200 * time.Millisecond, 50 * time.Millisecond, 8
	accounts := []string{"lab1@example.com", "lab2@example.com"}
	fl := applySpec(b, []applyGroup{{name: "seat", count: n, label: "class-b", off: true, accounts: accounts}})
	minimum := 1 + 1 + len(accounts) + 1 + 1
	simOpt := sim.Options{Latency: latency, TaskDuration: task, Seed: 1}
	mutating, polls, reads := 0, 0, 0
	b.StopTimer()
	for range b.N {
		e := newApplyEnv(b, fl, simOpt, concurrent)
		b.StartTimer()
		_, calls, m := e.apply(b, engine.ExecOptions{Parallelism: 8, PollInterval: poll, MaxPollInterval: poll})
		b.StopTimer()
		mutating += m
		for a, k := range calls {
			switch {
			case a == provider.ActionQueryTask:
				polls += k
			case !sim.IsMutating(a):
				reads += k
			}
		}
		e.converged(b, fl, concurrent)
		e.close()
	}
	b.ReportMetric(float64(mutating)/float64(b.N), "mutating/op")
	b.ReportMetric(float64(minimum), "minimum/op")
	b.ReportMetric(float64(polls)/float64(b.N), "polls/op")
	b.ReportMetric(float64(reads)/float64(b.N), "other_reads/op")
	b.ReportMetric(float64(mutating)/float64(b.N)/float64(minimum), "x_bound")
	b.ReportMetric(1, "limit_x")
}

// overlapClient holds each CreateVm until `want` of them are in flight at once, or `wait` has
// passed; peak is the most that were.
type overlapClient struct {
	provider.Client
	want int
	wait time.Duration

	mu             sync.Mutex
	inFlight, peak int
	all            chan struct{}
}

func (c *overlapClient) CreateVm(ctx context.Context, req provider.CreateVmRequest) (*provider.TaskResponse, error) {
	c.mu.Lock()
	c.inFlight++
	c.peak = max(c.peak, c.inFlight)
	if c.inFlight == c.want {
		close(c.all)
	}
	c.mu.Unlock()
	select {
	case <-c.all:
	case <-time.After(c.wait):
	}
	defer func() {
		c.mu.Lock()
		c.inFlight--
		c.mu.Unlock()
	}()
	return c.Client.CreateVm(ctx, req)
}

// TestApplyCreationsOnOneSiteOverlap: the CreateVm steps of groups on one site whose network the plan
// chose run at once (they used to run one after the other, which made BenchmarkApply200 four times
// its critical path).
func TestApplyCreationsOnOneSiteOverlap(t *testing.T) {
	fl := applySpec(t, []applyGroup{
		{name: "cad", count: 3, label: "design", accounts: []string{"alice@example.com"}},
		{name: "lab", count: 2, label: "class", off: true, accounts: []string{"bob@example.com"}},
		{name: "ops", count: 1, label: "ops", accounts: []string{"alice@example.com"}},
	})
	e := newApplyEnv(t, fl, sim.Options{TaskDuration: 50 * time.Millisecond, Seed: 1}, 8)
	creates := 0
	for _, s := range e.plan.Steps {
		if _, ok := s.Op.(engine.CreateDesktops); ok {
			creates++
		}
	}
	if creates != 3 {
		t.Fatalf("want 3 CreateVm steps, the plan has %d:\n%s", creates, describeSteps(e.plan))
	}
	oc := &overlapClient{Client: e.c, want: creates, wait: 5 * time.Second, all: make(chan struct{})}
	e.c = oc
	e.apply(t, engine.ExecOptions{PollInterval: 10 * time.Millisecond, MaxPollInterval: 10 * time.Millisecond})
	if oc.peak != creates {
		t.Errorf("at most %d CreateVm at once, want %d", oc.peak, creates)
	}
	e.converged(t, fl, 8)
}

func describeSteps(p *engine.Plan) string {
	var lines []string
	for _, s := range p.Steps {
		lines = append(lines, fmt.Sprintf("  %d %s after %v", s.ID, s.Op.Action(), s.After))
	}
	return strings.Join(lines, "\n")
}

// planned locks the bench fleet in e's store, plans fl against the emulator s and resets its call
// counts: the environment ready to apply.
func (e *applyEnv) planned(tb testing.TB, s *sim.Sim, fl *spec.Fleet, concurrent int) *applyEnv {
	tb.Helper()
	ctx := context.Background()
	var err error
	if e.lock, err = e.st.Lock(ctx, "bench", state.Holder{User: "bench"}, 0); err != nil {
		tb.Fatal(err)
	}
	rec, err := e.st.Read(ctx, "bench")
	if err != nil {
		tb.Fatal(err)
	}
	e.plan = readPlan(tb, fl, e.c, rec, concurrent)
	if len(e.plan.Errors) > 0 {
		tb.Fatalf("plan errors: %+v", e.plan.Errors)
	}
	s.ResetCalls()
	return e
}

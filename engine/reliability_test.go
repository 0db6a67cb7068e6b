package engine_test

// The reliability figures of docs/performance.md that are counts over seeds:
//
//   - Faults: with 5% HTTP 5xx (500, 502, 503 and 504, half after the work was done), 2% dropped
//     connections (half after the work), 3% throttling and 5% failed tasks that leave desktops in
//     error, a 50-desktop scenario over 3 sites with new sub-accounts converges within 3 applies for
//     100 of 100 seeds and within 2 for at least 99, with zero duplicates and zero deletions but the
//     replacement of failed creations (TestFaultConvergence, BenchmarkFaultConvergence).
//   - Crash at random points, 200 seeds: the next apply converges with zero duplicate desktops, zero
//     unintended deletions and an empty plan after it (TestApplyCrashRandom).
//
// Both run against the emulator on its manual clock, through the real client on loopback: tasks,
// polls, busy waits and the client's retry backoffs advance the clock instead of sleeping
// (ExecOptions.Sleep and gcw.Config.Sleep; a backoff takes the throttling's Retry-After: 1 into
// account, capped by MaxBackoff), so no seed waits in real time. Under -short or the race
// detector they run on fewer seeds; the full figures come from
//
//	go test -count=1 -run 'TestFault|TestApplyCrashRandom' -v ./engine/
//	go test -run '^$' -bench FaultConvergence ./engine/ | ./scripts/benchtable.sh

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
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

// The fault figure: every seed converges within faultApplies applies, and at least faultSoonPct
// percent of them within faultSoon.
const (
	faultSeeds        = 100 // seeds 1..100
	faultSeedsReduced = 20  // under -short or -race: seeds 1..20
	faultApplies      = 3   // every seed converged within this many applies
	faultSoon         = 2   // and at least faultSoonPct% of them within this many
	faultSoonPct      = 99
)

// faultRates are docs/performance.md's fault rates: 5% HTTP 5xx (half after the work), 2% dropped
// connections (half before the work, half after it was done), 3% throttling, 5% failed tasks. New
// sub-accounts do not fail (AccountFailed): no client can repair one that does (faultCases).
var faultRates = sim.Faults{HTTP5xx: 0.05, DropBefore: 0.01, DropAfter: 0.01, Throttle: 0.03, TaskFailed: 0.05}

// faultSpec is the 50-desktop fleet of the fault figure, on three sites (one without a default
// network yet, so the first apply creates it), bound to four sub-accounts:
//
//   - ops (10): live and running, half in the state record, half adopted by name: label changed,
//     powered off, bound to carol;
//   - cad (16): created, label team-a, left on, bound to alice (8) and bob (8);
//   - render (12): created in 宿迁B, label render, powered off, bound to dave;
//   - lab (12): created in 襄阳A (after CreateDefaultNet), Linux, label lab, left on, unbound.
//
// alice is live; bob, carol and dave are live too, or created by the first apply (newAccounts).
func faultSpec() string {
	var b strings.Builder
	b.WriteString(`version: 1
fleet: test
defaults: {site: 宿迁A, profile: a5000-win}
profiles:
  a5000-win: {product: {gpu: NVIDIA A5000, os: windows}, image: Windows10-公共镜像-图像处理型}
  a5000-linux: {product: {gpu: NVIDIA A5000, os: linux}, image: Ubuntu20.04-公共镜像-图像处理型}
accounts:
`)
	for _, a := range faultAccounts {
		fmt.Fprintf(&b, "  - {email: %s@example.com, name: %s}\n", a, a)
	}
	b.WriteString(`desktops:
  - {name: ops, count: 10, label: ops, power: off}
  - {name: cad, count: 16, label: team-a, power: on}
  - {name: render, count: 12, site: 宿迁B, label: render, power: off}
  - {name: lab, count: 12, site: 襄阳A, profile: a5000-linux, label: lab, power: on}
bindings:
`)
	for i := range 10 {
		fmt.Fprintf(&b, "  %s: carol@example.com\n", spec.DesktopName("ops", i))
	}
	for i := range 16 {
		fmt.Fprintf(&b, "  %s: %s@example.com\n", spec.DesktopName("cad", i), map[bool]string{true: "alice", false: "bob"}[i < 8])
	}
	for i := range 12 {
		fmt.Fprintf(&b, "  %s: dave@example.com\n", spec.DesktopName("render", i))
	}
	return b.String()
}

var faultAccounts = []string{"alice", "bob", "carol", "dave"}

// faultEnv is one seed's world: the emulator with the seed's faults behind the real client on
// loopback, and an in-memory store seeded with the record of the live ops desktops it manages.
type faultEnv struct {
	*execEnv
	spec string
	srv  *httptest.Server
	keep []string // ids of the live desktops the spec wants kept: never deleted nor replaced
	rand func() float64
}

func newFaultEnv(seed uint64, newAccounts bool) (*faultEnv, error) {
	clock := sim.NewManualClock(scenarioNow)
	s, err := sim.New(sim.Options{Clock: clock, Seed: seed})
	if err != nil {
		return nil, err
	}
	for i, a := range faultAccounts {
		if i > 0 && newAccounts {
			break
		}
		if _, err := s.AddAccount(sim.Account{ID: "acct-" + a, Email: a + "@example.com", Name: a, Status: sim.AccountCreated}); err != nil {
			return nil, err
		}
	}
	net, ok := s.DefaultNet(sim.SiteSuqianA)
	if !ok || len(net.Subnets) == 0 {
		return nil, errors.New("宿迁A has no default network")
	}
	rec := &state.Record{Fleet: "test", Desktops: map[string]state.Desktop{}, Accounts: map[string]state.Account{}}
	var keep []string
	old := "old"
	for i := range 10 {
		name := spec.DesktopName("ops", i)
		id, err := s.AddDesktop(sim.Desktop{ID: "vm-" + name, Name: name, SiteID: sim.SiteSuqianA, ProductID: sim.ProductA5000Win,
			ImageID: sim.ImageWin10, VPCID: net.ID, SubnetID: net.Subnets[0].ID, Qos: 5, Label: old, Status: sim.StatusRunning})
		if err != nil {
			return nil, err
		}
		keep = append(keep, id)
		if i < 5 {
			rec.Desktops[id] = state.Desktop{VmID: id, Name: name, ImageID: sim.ImageWin10, Label: &old, Power: "on",
				AppliedAt: scenarioNow.Add(-24 * time.Hour)}
		}
	}
	srv := httptest.NewServer(s)
	// No rate limit (the seeds share no API); retry backoffs, Retry-After included, advance the
	// emulator's clock instead of sleeping. A fixed jitter makes them the same whichever of the
	// catalog's concurrent reads retries first.
	c, err := gcw.New(gcw.Config{Endpoint: srv.URL, AccessKeyID: "reliability", Secret: "reliability-secret", Rate: -1,
		Sleep: clockSleep(clock), Rand: func() float64 { return 0.5 }})
	if err != nil {
		srv.Close()
		return nil, err
	}
	st := memory.New()
	ctx := context.Background()
	lock, err := st.Lock(ctx, "test", state.Holder{User: "test"}, 0)
	if err == nil {
		err = st.Update(ctx, lock, func(r *state.Record) error {
			r.Desktops, r.Accounts = rec.Desktops, rec.Accounts
			return nil
		})
	}
	if err != nil {
		srv.Close()
		return nil, err
	}
	s.SetFaults(faultRates)
	e := &execEnv{scnEnv: &scnEnv{sim: s, client: c, ids: map[string]string{}}, sc: scenario{Spec: faultSpec()},
		clock: clock, st: st, lock: lock}
	return &faultEnv{execEnv: e, spec: e.sc.Spec, srv: srv, keep: keep, rand: seededRand(seed, 2)}, nil
}

// execOpts are the executor's options on the emulator's clock, one step at a time with seeded jitter:
// with every request made in a fixed order, the emulator draws the seed's faults in that order, so a
// seed names one reproducible run (with steps in parallel, the order, and so which request gets which
// fault, would depend on goroutine scheduling).
func (e *faultEnv) execOpts() engine.ExecOptions {
	o := e.opts()
	o.Parallelism, o.Rand = 1, e.rand
	return o
}

// seededRand is a concurrency-safe source of [0,1) numbers for a seed.
func seededRand(seed, stream uint64) func() float64 {
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(seed, stream))
	return func() float64 {
		mu.Lock()
		defer mu.Unlock()
		return r.Float64()
	}
}

func (e *faultEnv) close() { e.srv.Close() }

// clockSleep is a Sleep that advances the emulator's clock instead of waiting.
func clockSleep(clock *sim.ManualClock) func(context.Context, time.Duration) error {
	return func(ctx context.Context, d time.Duration) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		clock.Advance(d)
		return nil
	}
}

// planLive is the planner's read path as the CLI runs it (catalog, observe, resolve, diff, price),
// through the faulty API: a failed read is an error, a failed pricing a warning.
func (e *faultEnv) planLive(ctx context.Context) (*engine.Plan, error) {
	rec, err := e.st.Read(ctx, "test")
	if err != nil {
		return nil, err
	}
	fl, diags := spec.Parse("fleet.yaml", []byte(e.spec))
	if diags.HasErrors() {
		return nil, fmt.Errorf("spec: %v", diags)
	}
	cat, err := engine.ReadCatalog(ctx, e.client, fl)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	snap, err := engine.Observe(ctx, e.client, engine.ObserveOptions{SiteIDs: cat.SiteIDs(fl), Parallelism: 1})
	if err != nil {
		return nil, fmt.Errorf("observe: %w", err)
	}
	snap.TakenAt = e.clock.Now()
	desired, rdiags := engine.Resolve(fl, cat, snap)
	if rdiags.HasErrors() {
		return nil, fmt.Errorf("resolve: %v", rdiags)
	}
	desired.SpecDigest = "sha256:reliability"
	p := engine.Diff(desired, snap, rec, engine.Options{Now: e.clock.Now()})
	if cost, err := engine.Price(ctx, e.client, p, engine.PriceInput{Products: cat.Products, Snapshot: snap}); err == nil {
		p.Cost = cost
	}
	return p, nil
}

// applyOnce is one `deskfleet apply --auto-approve`: settle what an earlier apply left open, plan,
// and apply unless the plan is empty.
func (e *faultEnv) applyOnce(ctx context.Context) error {
	if _, err := engine.Settle(ctx, e.client, e.st, e.lock, e.execOpts()); err != nil {
		return fmt.Errorf("settle: %w", err)
	}
	p, err := e.planLive(ctx)
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	if p.Empty() {
		if len(p.Errors) > 0 {
			return fmt.Errorf("plan: %d errors: %+v", len(p.Errors), p.Errors)
		}
		return nil
	}
	res, err := engine.Apply(ctx, e.client, e.st, e.lock, p, e.execOpts())
	if err != nil {
		if res != nil {
			return fmt.Errorf("apply: %w (%s)", err, statuses(res))
		}
		return fmt.Errorf("apply: %w", err)
	}
	return nil
}

// duplicates lists the desktop names live more than once.
func duplicates(s *sim.Sim) []string {
	count := map[string]int{}
	for _, d := range s.Desktops() {
		count[d.Name]++
	}
	var out []string
	for n, c := range count {
		if c > 1 {
			out = append(out, fmt.Sprintf("%s x%d", n, c))
		}
	}
	sort.Strings(out)
	return out
}

// problems is what keeps the fleet from being converged, read without faults (checkConverged's
// checks): the plan is not empty or has errors, an intent is open, a wanted desktop is not live
// exactly once or not in the record. None: converged.
func (e *faultEnv) problems(ctx context.Context) []string {
	var out []string
	p, err := e.planLive(ctx)
	if err != nil {
		return []string{"plan: " + err.Error()}
	}
	for _, c := range p.Changes {
		out = append(out, fmt.Sprintf("change: %s %s %s %q -> %q (%s)", c.Action.Name(), c.Name, c.Attribute, c.Before, c.After, c.Reason))
	}
	for _, pe := range p.Errors {
		out = append(out, fmt.Sprintf("plan error: %+v", pe))
	}
	for _, pe := range p.Unhealthy {
		out = append(out, fmt.Sprintf("needs attention: %+v", pe))
	}
	if len(p.Steps) > 0 && len(p.Changes) == 0 {
		out = append(out, fmt.Sprintf("%d steps planned", len(p.Steps)))
	}
	rec, err := e.st.Read(ctx, "test")
	if err != nil {
		return append(out, "state: "+err.Error())
	}
	for _, in := range rec.Intents {
		if in.Open() {
			out = append(out, fmt.Sprintf("intent %s (%s) left %s", in.ID, in.Action, in.Status))
		}
	}
	live := map[string]int{}
	for _, d := range e.sim.Desktops() {
		live[d.Name]++
	}
	for _, w := range p.Want {
		if live[w.Name] != 1 {
			out = append(out, fmt.Sprintf("desktop %s live %d times", w.Name, live[w.Name]))
		}
		if _, ok := rec.Desktops[w.VmID]; w.VmID == "" || !ok {
			out = append(out, fmt.Sprintf("desktop %s (%q) not in the record", w.Name, w.VmID))
		}
	}
	return out
}

// faultOutcome is one seed's result.
type faultOutcome struct {
	seed      uint64
	applies   int      // applies run (up to faultApplies)
	converged bool     // converged after applies
	errs      []string // each apply's error ("" when it succeeded)
	// broken are what must never happen, seen after some apply: a name live twice, a DeleteVm, a
	// live desktop the spec keeps gone.
	broken   []string
	problems []string // what was left after the last apply, when not converged
	// failedAccounts are the wanted sub-accounts whose creation failed (status error, the reference's
	// 创建失败), when not converged: the API can neither delete nor re-create a sub-account, so their
	// bindings cannot be made until a person acts (the plan warns "check it in the console").
	failedAccounts []string
	setup          error
}

// broken lists what must never happen, whatever the faults: a desktop name live twice, a desktop
// deleted that no failed creation left in error (the spec deletes nothing), a live desktop the spec
// keeps gone.
func (e *faultEnv) broken() []string {
	out := duplicates(e.sim)
	for i := range out {
		out[i] = "live twice: " + out[i]
	}
	out = append(out, e.unexpectedDeletes()...)
	ids := map[string]bool{}
	for _, d := range e.sim.Desktops() {
		ids[d.ID] = true
	}
	for _, id := range e.keep {
		if !ids[id] {
			out = append(out, fmt.Sprintf("desktop %s, live before and wanted, is gone", id))
		}
	}
	return out
}

// unexpectedDeletes lists the DeleteVm calls the spec does not ask for: the spec deletes nothing, and
// the only desktops deskfleet may delete are those a failed CreateVm task left in status error, which
// it replaces (their creation failed and they never ran: the journal's failed creation intents name
// them). Every DeleteVm intent is checked against those; a DeleteVm call with no intent at all is
// caught too (a throttled call, refused and sent again, counts twice in the emulator, so calls are not
// matched one to one).
func (e *faultEnv) unexpectedDeletes() []string {
	rec, err := e.st.Read(context.Background(), "test")
	if err != nil {
		return []string{"reading the record: " + err.Error()}
	}
	failedCreate := map[string]bool{}
	for _, in := range rec.Intents {
		if in.Op == string(engine.KindCreateDesktops) && in.Status == state.IntentFailed {
			for _, id := range in.VmIDs {
				failedCreate[id] = true
			}
		}
	}
	var out []string
	intents := 0
	for _, in := range rec.Intents {
		if in.Op != string(engine.KindDeleteDesktop) {
			continue
		}
		intents++
		for _, id := range in.VmIDs {
			if !failedCreate[id] {
				out = append(out, fmt.Sprintf("DeleteVm of %s (%s), which no failed creation left in error", id, strings.Join(in.Targets, ",")))
			}
		}
	}
	if intents == 0 && e.sim.Calls()[provider.ActionDeleteVm] > 0 {
		out = append(out, fmt.Sprintf("%d DeleteVm calls with no deletion intent", e.sim.Calls()[provider.ActionDeleteVm]))
	}
	return out
}

// runFaultSeed applies faultSpec on the seed's faulty emulator up to faultApplies times, checking
// after each apply (faults off for the check) whether it converged, and that nothing broke.
func runFaultSeed(seed uint64, tc faultCase) faultOutcome {
	out := faultOutcome{seed: seed}
	e, err := newFaultEnv(seed, tc.newAccounts)
	if err != nil {
		out.setup = err
		return out
	}
	defer e.close()
	ctx := context.Background()
	for n := 1; n <= faultApplies; n++ {
		out.applies = n
		e.sim.SetFaults(tc.rates())
		msg := ""
		if err := e.applyOnce(ctx); err != nil {
			msg = err.Error()
		}
		out.errs = append(out.errs, msg)
		e.sim.SetFaults(sim.Faults{})
		for _, b := range e.broken() {
			out.broken = append(out.broken, fmt.Sprintf("after apply %d: %s", n, b))
		}
		out.problems = e.problems(ctx)
		if len(out.problems) == 0 {
			out.converged = true
			return out
		}
	}
	for _, a := range e.sim.Accounts() {
		if a.Status == sim.AccountError && strings.Contains(e.spec, "{email: "+a.Email+",") {
			out.failedAccounts = append(out.failedAccounts, a.Email)
		}
	}
	sort.Strings(out.failedAccounts)
	return out
}

// measureFaults runs the seeds, several at once (they share nothing; each is deterministic), and
// returns their outcomes in seed order.
func measureFaults(seeds []uint64, tc faultCase) []faultOutcome {
	out := make([]faultOutcome, len(seeds))
	work := make(chan int)
	var wg sync.WaitGroup
	for range max(2, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for i := range work {
				out[i] = runFaultSeed(seeds[i], tc)
			}
		})
	}
	for i := range seeds {
		work <- i
	}
	close(work)
	wg.Wait()
	return out
}

func seedRange(n int) []uint64 {
	seeds := make([]uint64, n)
	for i := range seeds {
		seeds[i] = uint64(i + 1)
	}
	return seeds
}

// faultFigure is the figure of a set of outcomes.
type faultFigure struct {
	seeds, converged int
	hist             map[int]int // applies needed -> seeds
	blocked          []uint64    // not converged, with a wanted sub-account whose creation failed
	other            []uint64    // not converged otherwise
	broken           []uint64    // something that must never happen happened
}

func figureOf(outs []faultOutcome) faultFigure {
	f := faultFigure{seeds: len(outs), hist: map[int]int{}}
	for _, o := range outs {
		switch {
		case o.converged:
			f.converged++
			f.hist[o.applies]++
		case len(o.failedAccounts) > 0:
			f.blocked = append(f.blocked, o.seed)
		default:
			f.other = append(f.other, o.seed)
		}
		if len(o.broken) > 0 {
			f.broken = append(f.broken, o.seed)
		}
	}
	return f
}

func (f faultFigure) String() string {
	var parts []string
	for n := 1; n <= faultApplies; n++ {
		parts = append(parts, fmt.Sprintf("%d:%d", n, f.hist[n]))
	}
	parts = append(parts, fmt.Sprintf("never:%d", f.seeds-f.converged))
	return fmt.Sprintf("converged within %d applies: %d/%d seeds; applies needed: %s; not converged: %v, of which blocked by a failed sub-account creation: %v; seeds with duplicates, deletions or lost desktops: %d",
		faultApplies, f.converged, f.seeds, strings.Join(parts, ", "), append(slices.Clone(f.blocked), f.other...), f.blocked, len(f.broken))
}

// soon is the number of seeds that converged within faultSoon applies.
func (f faultFigure) soon() int {
	n := 0
	for k := 1; k <= faultSoon; k++ {
		n += f.hist[k]
	}
	return n
}

// soonAllowed is how many seeds of n may need more than faultSoon applies (1 in 100, rounded down).
func soonAllowed(n int) int { return (100 - faultSoonPct) * n / 100 }

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// logOutcome logs what happened to a seed that did not converge: each apply's error and what was left.
func logOutcome(t *testing.T, o faultOutcome) {
	t.Helper()
	var b strings.Builder
	if o.converged {
		fmt.Fprintf(&b, "seed %d: converged after %d applies", o.seed, o.applies)
	} else {
		fmt.Fprintf(&b, "seed %d: not converged after %d applies", o.seed, o.applies)
	}
	if len(o.failedAccounts) > 0 {
		fmt.Fprintf(&b, " (sub-accounts in status error: %v)", o.failedAccounts)
	}
	for i, e := range o.errs {
		fmt.Fprintf(&b, "\n  apply %d: %s", i+1, clip(or(e, "ok"), 400))
	}
	for i, p := range o.problems {
		if i == 8 {
			fmt.Fprintf(&b, "\n  ... %d more", len(o.problems)-i)
			break
		}
		fmt.Fprintf(&b, "\n  left: %s", p)
	}
	t.Log(b.String())
}

// faultCase is one fleet the fault figure is measured on.
type faultCase struct {
	name        string
	newAccounts bool    // the first apply creates bob, carol and dave
	accountFail float64 // rate of sub-account creations that end in status error (sim.Faults.AccountFailed)
	reason      string
}

// rates are faultRates with the case's failed sub-account creations.
func (tc faultCase) rates() sim.Faults {
	f := faultRates
	f.AccountFailed = tc.accountFail
	return f
}

// blockable reports whether a seed may be left unconverged by a failed sub-account creation.
func (tc faultCase) blockable() bool { return tc.accountFail > 0 }

var faultCases = []faultCase{
	{"live-accounts", false, 0, "the sub-accounts exist: every seed converges within 3 applies, at least 99 of 100 within 2"},
	{"new-accounts", true, 0, "docs/performance.md's figure: the first apply creates bob, carol and dave as well; every seed " +
		"converges within 3 applies, at least 99 of 100 within 2"},
	{"failed-accounts", true, 0.05, "the same, with 5% of sub-account creations ending in status error, which the API can " +
		"neither delete nor create again: the seeds that meet one are blocked (their bindings wait for a person); " +
		"every other seed converges within 3 applies"},
}

// TestFaultConvergence measures docs/performance.md's fault figure: with 5% HTTP 5xx (500, 502, 503, 504,
// half after the work), 2% dropped connections (half after the work was done), 3% throttling and 5%
// failed tasks, the 50-desktop faultSpec converges (settle, plan, apply, as `deskfleet apply` does)
// within 3 applies for every seed and within 2 for at least 99 of 100, with zero duplicates, zero
// deletions but of failed creations, and no lost desktop on every seed. Seeds 1..100; 1..20 under
// -short or -race (all of which must then converge within 2: 1% of 20 rounds down to none).
//
// Each seed is reproducible: requests are made one at a time in a fixed order (see execOpts), so the
// emulator's seeded fault sequence falls on the same requests in every run, -race included; a
// failing seed is logged with each apply's error and what was left. A change to the engine that
// reorders its requests moves the faults to other requests and so moves each seed's outcome.
func TestFaultConvergence(t *testing.T) {
	t.Parallel()
	n := faultSeeds
	if testing.Short() || raceEnabled {
		n = faultSeedsReduced
	}
	for _, tc := range faultCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			outs := measureFaults(seedRange(n), tc)
			for _, o := range outs {
				if o.setup != nil {
					t.Fatalf("seed %d: setup: %v", o.seed, o.setup)
				}
				if len(o.broken) > 0 {
					t.Errorf("seed %d: %s", o.seed, strings.Join(o.broken, "; "))
				}
				if !o.converged || o.applies > faultSoon {
					logOutcome(t, o)
				}
			}
			f := figureOf(outs)
			t.Log(f)
			if !tc.blockable() && len(f.blocked) > 0 {
				t.Errorf("seeds %v have a sub-account in error, though none was made to fail", f.blocked)
			}
			if len(f.other) > 0 {
				t.Errorf("%s: seeds %v did not converge within %d applies (%v)", tc.reason, f.other, faultApplies, f)
			}
			if late := f.seeds - len(f.blocked) - f.soon(); !tc.blockable() && late > soonAllowed(f.seeds) {
				t.Errorf("%s: %d of %d seeds needed more than %d applies (%v); docs/performance.md allows %d",
					tc.reason, late, f.seeds, faultSoon, f, soonAllowed(f.seeds))
			}
		})
	}
}

// BenchmarkFaultConvergence reports the fault figure of each fleet on seeds 1..100 for `make bench`.
// benchtable.sh tabulates a figure as x_bound beside limit_x ("within" when x_bound <= limit_x): the
// row <case>/within3 reads the seeds that did not converge within 3 applies (blocked ones aside)
// beside the 0 allowed, the row <case>/within2 (for the fleets without failed sub-accounts) the seeds
// that needed more than 2 beside the 1 allowed. converged_frac is the figure itself, blocked_seeds the
// seeds blocked by a failed sub-account creation. A duplicate, deletion or lost desktop fails the
// benchmark: none is allowed.
func BenchmarkFaultConvergence(b *testing.B) {
	for _, tc := range faultCases {
		var f faultFigure
		b.Run(tc.name+"/within3", func(b *testing.B) {
			for range b.N {
				outs := measureFaults(seedRange(faultSeeds), tc)
				for _, o := range outs {
					if o.setup != nil {
						b.Fatalf("seed %d: setup: %v", o.seed, o.setup)
					}
				}
				f = figureOf(outs)
			}
			b.Log(f)
			if len(f.broken) > 0 {
				b.Fatalf("seeds %v created a desktop twice, deleted or lost one", f.broken)
			}
			b.ReportMetric(float64(f.converged)/float64(f.seeds), "converged_frac")
			b.ReportMetric(float64(len(f.blocked)), "blocked_seeds")
			b.ReportMetric(float64(len(f.other)), "x_bound")
			b.ReportMetric(0, "limit_x")
		})
		if tc.blockable() || f.seeds == 0 {
			continue
		}
		b.Run(tc.name+"/within2", func(b *testing.B) {
			for range b.N {
			}
			b.ReportMetric(float64(f.soon())/float64(f.seeds), "converged_frac")
			b.ReportMetric(float64(f.seeds-f.soon()), "x_bound")
			b.ReportMetric(float64(soonAllowed(f.seeds)), "limit_x")
		})
	}
}

// The crash figure at random points.
const (
	crashSeeds        = 200
	crashSeedsReduced = 40 // under -short or -race
)

// killSwitch is a process killed with SIGKILL at a random point: it numbers the events of an apply,
// each HTTP request that reaches the emulator and each write to the state store, and at event at the
// process dies, either just before that event (the request is not sent, the write not made) or just
// after it (the request is served and its answer lost, the write is stored). From then on no request
// reaches the emulator (the connection is closed without a response) and no write reaches the store;
// what was already in flight completes, as it would on the server. The apply's context is cancelled
// so the dead process's goroutines end quickly; nothing they do afterwards has any effect.
type killSwitch struct {
	at     int64 // 0: never
	before bool
	cancel context.CancelFunc

	n    atomic.Int64
	dead atomic.Bool
	what atomic.Value // string: the event the process died at
}

// pass runs do, the event what, as the next event unless the process is dead (or dies just before
// it). It reports whether do ran.
func (k *killSwitch) pass(what string, do func()) bool {
	if k.dead.Load() {
		return false
	}
	n := k.n.Add(1)
	if n == k.at {
		k.what.Store(what)
	}
	if n == k.at && k.before {
		k.kill()
		return false
	}
	do()
	if n == k.at {
		k.kill()
	}
	return true
}

func (k *killSwitch) kill() {
	k.dead.Store(true)
	if k.cancel != nil {
		k.cancel()
	}
}

func (k *killSwitch) handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !k.pass(r.URL.Query().Get("Action"), func() { h.ServeHTTP(w, r) }) {
			panic(http.ErrAbortHandler) // the connection is closed without a response
		}
	})
}

// killStore is the state store of the process that killSwitch kills.
type killStore struct {
	state.Store
	k *killSwitch
}

func (s killStore) Update(ctx context.Context, l *state.Lock, fn func(*state.Record) error) error {
	var err error
	if !s.k.pass("a state write", func() { err = s.Store.Update(ctx, l, fn) }) {
		return errCrashed
	}
	return err
}

// crashScenarios are TestApplyCrash's scenarios: between them they create, bind, label, power,
// unbind, make a network and rebuild.
var crashScenarios = []string{"create-with-everything", "fifty-identical", "unbind-running", "create-network-missing", "rebuild-running"}

// killedApply applies the scenario's plan in a process that k kills, through a client and a store
// that die with it. It returns the number of events the apply made (when k never fires, the
// apply's events).
func killedApply(t *testing.T, e *execEnv, p *engine.Plan, k *killSwitch) int64 {
	t.Helper()
	srv := httptest.NewServer(k.handler(e.sim))
	t.Cleanup(srv.Close)
	c, err := gcw.New(gcw.Config{Endpoint: srv.URL, AccessKeyID: "scenario", Secret: "scenario-secret", Rate: -1,
		Sleep: clockSleep(e.clock)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	k.cancel = cancel
	_, err = engine.Apply(ctx, c, killStore{Store: e.st, k: k}, e.lock, p, e.opts())
	if k.at == 0 && err != nil {
		t.Fatalf("the apply without a crash failed: %v", err)
	}
	return k.n.Load()
}

// TestApplyCrashRandom measures docs/performance.md's crash figure at random points: for each seed, a random
// scenario of crashScenarios is applied by a process killed at a random event (any HTTP request or
// state write, before or after it); then a new process, with the same store and emulator, settles
// (answering a lost RebuildVm as a person would, from the console), plans and applies. That apply
// must succeed with no DeleteVm, every desktop live before the crash still live, no name live twice,
// and an empty plan after it. 200 seeds; 40 under -short or -race.
//
// The applies run as the CLI runs them, several steps at once, so a kill often finds calls in flight.
// A seed fixes the scenario and the kill point (event number, before or after), not the interleaving
// of the steps in flight: a failure names the scenario, the event and what it was.
func TestApplyCrashRandom(t *testing.T) {
	t.Parallel()
	n := crashSeeds
	if testing.Short() || raceEnabled {
		n = crashSeedsReduced
	}
	// The events of an apply that is not killed, per scenario: the range of the kill points.
	events := map[string]int64{}
	for _, name := range crashScenarios {
		e := newExecEnv(t, name)
		p := e.plan(t)
		for _, s := range p.Steps {
			if s.Op.Action() == provider.ActionDeleteVm {
				t.Fatalf("%s deletes a desktop: every deletion after a crash would be unintended only if none is planned", name)
			}
		}
		events[name] = killedApply(t, e, p, &killSwitch{})
	}
	var converged, killed atomic.Int64
	perScenario := make(map[string]*atomic.Int64, len(crashScenarios))
	for _, name := range crashScenarios {
		perScenario[name] = new(atomic.Int64)
	}
	t.Run("seeds", func(t *testing.T) {
		for seed := uint64(1); seed <= uint64(n); seed++ {
			r := rand.New(rand.NewPCG(seed, 0x6b696c6c))
			name := crashScenarios[r.IntN(len(crashScenarios))]
			k := &killSwitch{at: 1 + r.Int64N(events[name]), before: r.IntN(2) == 0}
			perScenario[name].Add(1)
			t.Run(fmt.Sprintf("seed-%03d", seed), func(t *testing.T) {
				t.Parallel()
				reason := fmt.Sprintf("%s killed at event %d of %d (before=%t)", name, k.at, events[name], k.before)
				e := newExecEnv(t, name)
				var before []string
				for _, d := range e.sim.Desktops() {
					before = append(before, d.ID)
				}
				p := e.plan(t)
				killedApply(t, e, p, k)
				if k.dead.Load() {
					killed.Add(1)
					reason += fmt.Sprintf(", %s", k.what.Load())
				}
				if d := duplicates(e.sim); len(d) > 0 {
					t.Fatalf("%s: after the crash, names live twice: %v", reason, d)
				}

				// The next process: settle, plan, apply.
				if err := settleAnswering(t, e); err != nil {
					t.Fatalf("%s: settle: %v", reason, err)
				}
				deletes := e.sim.Calls()[provider.ActionDeleteVm] // since the plan before the crash
				res, err := e.apply(t, e.plan(t), e.opts())
				if err != nil {
					t.Fatalf("%s: apply after the crash: %v (%s)", reason, err, statuses(res))
				}
				deletes += e.sim.Calls()[provider.ActionDeleteVm]
				if deletes != 0 {
					t.Errorf("%s: %d DeleteVm calls; the plan deletes nothing", reason, deletes)
				}
				live := map[string]bool{}
				for _, d := range e.sim.Desktops() {
					live[d.ID] = true
				}
				for _, id := range before {
					if !live[id] {
						t.Errorf("%s: desktop %s, live before the apply, is gone", reason, id)
					}
				}
				if d := duplicates(e.sim); len(d) > 0 {
					t.Errorf("%s: names live twice: %v", reason, d)
				}
				e.checkConverged(t)
				if !t.Failed() {
					converged.Add(1)
				}
			})
		}
	})
	var mix []string
	for _, name := range crashScenarios {
		mix = append(mix, fmt.Sprintf("%s:%d", name, perScenario[name].Load()))
	}
	t.Logf("crash at random points: the next apply converged on %d/%d seeds (killed mid-apply: %d; the others' kill point came after the apply's last event); scenarios: %s; events per apply: %v",
		converged.Load(), n, killed.Load(), strings.Join(mix, ", "), slices.Sorted(eventsList(events)))
	if int(converged.Load()) != n {
		t.Errorf("the apply after a crash converged on %d/%d seeds, docs/performance.md wants all", converged.Load(), n)
	}
}

func eventsList(m map[string]int64) func(func(string) bool) {
	return func(yield func(string) bool) {
		for name, n := range m {
			if !yield(fmt.Sprintf("%s=%d", name, n)) {
				return
			}
		}
	}
}

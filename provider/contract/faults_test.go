package contract_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/provider/gcw"
	"github.com/deskfleet/deskfleet/provider/sim"
)

// faultSequence runs a fixed sequence of client calls against a Sim with seeded fault rates and
// returns one line per call: its outcome and the emulator's total call count after it.
func faultSequence(t *testing.T, seed uint64) []string {
	e := newEnv(t, func(o *sim.Options) {
		o.Seed = seed
		o.Faults = sim.Faults{HTTP5xx: 0.15, Throttle: 0.1, DropBefore: 0.1, DropAfter: 0.1, TaskFailed: 0.2}
	}, nil)
	total := func() int {
		n := 0
		for _, v := range e.sim.Calls() {
			n += v
		}
		return n
	}
	var out []string
	for i := range 30 {
		var err error
		switch i % 3 {
		case 0:
			_, err = e.c.QuerySites(ctx, provider.QuerySitesRequest{})
		case 1:
			_, err = e.c.ChangeSubAccountName(ctx, provider.ChangeSubAccountNameRequest{Email: seedAccountEml, Name: fmt.Sprint("n", i)})
		case 2:
			_, err = e.c.CreateSubAccount(ctx, provider.CreateSubAccountRequest{Email: fmt.Sprintf("u%d@example.com", i), Name: "u"})
		}
		out = append(out, fmt.Sprintf("%d %s calls=%d", i, errClass(err), total()))
	}
	e.clock.Advance(time.Minute)
	as, err := e.c.QuerySubAccounts(ctx, provider.QuerySubAccountsRequest{})
	var st []string
	for _, a := range as {
		st = append(st, string(a.Status))
	}
	return append(out, fmt.Sprintf("accounts %s %v", errClass(err), st))
}

// TestFaultDeterminism: the same seed and rates give the same outcomes and call counts for the same
// sequence of client calls; another seed gives another sequence.
func TestFaultDeterminism(t *testing.T) {
	a, b, c := faultSequence(t, 7), faultSequence(t, 7), faultSequence(t, 8)
	if !slices.Equal(a, b) {
		t.Fatalf("same seed, different outcomes:\n%s\n---\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	if slices.Equal(a, c) {
		t.Fatalf("seeds 7 and 8 gave the same outcomes:\n%s", strings.Join(a, "\n"))
	}
	faulted := 0
	for _, l := range a {
		if !strings.Contains(l, " ok ") {
			faulted++
		}
	}
	if faulted == 0 {
		t.Fatalf("no call saw a fault: the rates did not apply\n%s", strings.Join(a, "\n"))
	}
}

const faultRequestID = "0b5c6f0e-5d1a-4f7e-9c1b-2a3d4e5f6a7b"

func withRequestID(r provider.CreateVmRequest) provider.CreateVmRequest {
	r.RequestID = faultRequestID
	return r
}

// TestFaultKinds: the client's reaction to each fault kind, injected with FailNext on one call.
func TestFaultKinds(t *testing.T) {
	type outcome int
	const (
		succeeds outcome = iota
		unknown
	)
	cases := []struct {
		name, reason string
		action       provider.Action
		kind         sim.FaultKind
		call         func(e *env, v map[string]string) error
		want         outcome
		calls        int                                    // calls of action the emulator saw
		done         func(e *env, v map[string]string) bool // whether the work is done afterwards
		wantDone     bool
	}{
		{
			name: "503 on a read", reason: "503 means refused before any work: a read is retried and succeeds",
			action: provider.ActionQuerySites, kind: sim.Fault5xx, want: succeeds, calls: 2,
			call: func(e *env, _ map[string]string) error {
				s, err := e.c.QuerySites(ctx, provider.QuerySitesRequest{})
				if err == nil && len(s) != 3 {
					return fmt.Errorf("%d sites", len(s))
				}
				return err
			},
		},
		{
			name: "429 on a read", reason: "throttled: retried after backoff, succeeds",
			action: provider.ActionQueryVm, kind: sim.FaultThrottle, want: succeeds, calls: 2,
			call: func(e *env, v map[string]string) error {
				_, err := e.c.QueryVm(ctx, provider.QueryVmRequest{VmID: v["vm"]})
				return err
			},
		},
		{
			name: "503 on a mutation", reason: "the reference gives a 5xx no meaning and a cloud may answer 503 after the work: a mutation is never resent, its outcome is unknown after one call (the engine reads back)",
			action: provider.ActionChangeVmName, kind: sim.Fault5xx, want: unknown, calls: 1,
			call: func(e *env, v map[string]string) error {
				_, err := e.c.ChangeVmName(ctx, provider.ChangeVmNameRequest{VmID: v["vm"], Name: "renamed", RequestID: faultRequestID})
				return err
			},
			done:     func(e *env, v map[string]string) bool { return e.vm(v["vm"]).Name == "renamed" },
			wantDone: false,
		},
		{
			name: "429 on a mutation", reason: "429: refused before any work, retried, done once",
			action: provider.ActionCreateVm, kind: sim.FaultThrottle, want: succeeds, calls: 2,
			call: func(e *env, _ map[string]string) error { return createAsync(e, vmReq("throttled")) },
			done: func(e *env, _ map[string]string) bool {
				n := 0
				for _, d := range e.sim.Desktops() {
					if d.Name == "throttled" {
						n++
					}
				}
				return n == 1
			},
			wantDone: true,
		},
		{
			// Go's transport itself replays an idempotent GET once when a reused connection is closed
			// without a response; either way the emulator sees the read twice and the caller gets it.
			name: "dropped connection on a read", reason: "a read is safe to retry after a dropped connection",
			action: provider.ActionQueryVm, kind: sim.FaultDropBefore, want: succeeds, calls: 2,
			call: func(e *env, v map[string]string) error {
				d, err := e.c.QueryVm(ctx, provider.QueryVmRequest{VmID: v["vm"]})
				if err == nil && d.Name != "v" {
					return fmt.Errorf("name %q", d.Name)
				}
				return err
			},
		},
		{
			// The emulator checked (and remembered) the nonce before the connection dropped: a replay of
			// the same signed request would be refused as SignatureNonceUsed (docs/api-readings.md: a
			// fresh SignatureNonce per HTTP attempt).
			name: "dropped after the work on a read", reason: "a read is retried, with a fresh nonce, after a dropped connection",
			action: provider.ActionQueryVm, kind: sim.FaultDropAfter, want: succeeds, calls: 2,
			call: func(e *env, v map[string]string) error {
				_, err := e.c.QueryVm(ctx, provider.QueryVmRequest{VmID: v["vm"]})
				return err
			},
		},
		{
			name: "dropped before the work on a mutation", reason: "sent, no answer: outcome unknown, never retried; here nothing was done",
			action: provider.ActionCreateVm, kind: sim.FaultDropBefore, want: unknown, calls: 1,
			call: func(e *env, _ map[string]string) error { return createAsync(e, withRequestID(vmReq("dropped-before"))) },
			done: func(e *env, _ map[string]string) bool {
				_, ok := e.sim.DesktopByName("dropped-before")
				return ok
			},
			wantDone: false,
		},
		{
			name: "dropped after the work on a mutation", reason: "sent, done, no answer: outcome unknown, never retried; the work was done",
			action: provider.ActionCreateVm, kind: sim.FaultDropAfter, want: unknown, calls: 1,
			call: func(e *env, _ map[string]string) error { return createAsync(e, withRequestID(vmReq("dropped-after"))) },
			done: func(e *env, _ map[string]string) bool {
				_, ok := e.sim.DesktopByName("dropped-after")
				return ok
			},
			wantDone: true,
		},
		{
			name:   "dropped before the work on RebuildVm (a mutation sent as GET)",
			reason: "a mutation over GET must not be replayed either: outcome unknown, one call, nothing done",
			action: provider.ActionRebuildVm, kind: sim.FaultDropBefore, want: unknown, calls: 1,
			call: func(e *env, v map[string]string) error {
				e.power(provider.PowerOff, v["vm"])
				_, err := e.c.RebuildVm(ctx, provider.RebuildVmRequest{VmID: v["vm"], ImageID: sim.ImageCustom, RequestID: faultRequestID})
				return err
			},
			done:     func(e *env, v map[string]string) bool { d, _ := e.sim.Desktop(v["vm"]); return d.TaskID != "" },
			wantDone: false,
		},
		{
			name:   "dropped after the work on RebuildVm (a mutation sent as GET)",
			reason: "a mutation over GET that was done: outcome unknown (not a replay's error), one call, the rebuild runs",
			action: provider.ActionRebuildVm, kind: sim.FaultDropAfter, want: unknown, calls: 1,
			call: func(e *env, v map[string]string) error {
				e.power(provider.PowerOff, v["vm"])
				_, err := e.c.RebuildVm(ctx, provider.RebuildVmRequest{VmID: v["vm"], ImageID: sim.ImageCustom, RequestID: faultRequestID})
				return err
			},
			done:     func(e *env, v map[string]string) bool { d, _ := e.sim.Desktop(v["vm"]); return d.TaskID != "" },
			wantDone: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil, nil)
			v := map[string]string{"vm": e.createVm("v")}
			e.sim.FailNext(tc.action, tc.kind, 1)
			before := e.sim.Calls()[tc.action]
			err := tc.call(e, v)
			switch tc.want {
			case succeeds:
				if err != nil {
					t.Fatalf("%s: %v", tc.reason, err)
				}
			case unknown:
				var ue *provider.UnknownOutcomeError
				if !errors.As(err, &ue) {
					t.Fatalf("%s: got %T %v, want *provider.UnknownOutcomeError", tc.reason, err, err)
				}
				if ue.RequestID == "" || ue.Action != tc.action {
					t.Fatalf("%s: %+v lacks the requestId or action", tc.reason, ue)
				}
				if ue.RequestID != faultRequestID {
					t.Fatalf("%s: requestId %q, want the caller's %q", tc.reason, ue.RequestID, faultRequestID)
				}
			}
			if got := e.sim.Calls()[tc.action] - before; got != tc.calls {
				t.Errorf("%s: the emulator saw %d %s calls, want %d", tc.reason, got, tc.action, tc.calls)
			}
			if tc.done != nil {
				if got := tc.done(e, v); got != tc.wantDone {
					t.Errorf("%s: work done = %v, want %v", tc.reason, got, tc.wantDone)
				}
			}
		})
	}
}

// TestUnknownOutcomeSettledByObserving shows how a caller settles an unknown CreateVm: it keeps the
// requestId it sent, reads the desktops (QueryVms, QueryVm) and finds the one by name instead of
// creating it again.
func TestUnknownOutcomeSettledByObserving(t *testing.T) {
	e := newEnv(t, nil, nil)
	e.sim.FailNext(provider.ActionCreateVm, sim.FaultDropAfter, 1)
	req := vmReq("settle-me")
	req.RequestID = "6ca9ed98-27c8-4431-995f-59cc6d743dab"
	_, err := e.c.CreateVm(ctx, req)
	var ue *provider.UnknownOutcomeError
	if !errors.As(err, &ue) || ue.RequestID != req.RequestID {
		t.Fatalf("CreateVm: %v, want an unknown outcome carrying requestId %s", err, req.RequestID)
	}
	if !strings.Contains(err.Error(), req.RequestID) {
		t.Fatalf("error text %q lacks the requestId", err)
	}
	e.clock.Advance(taskDur + time.Second)
	vms, err := e.c.QueryVms(ctx, provider.QueryVmsRequest{SiteID: req.SiteID})
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, id := range vms.VmIDs {
		if d := e.vm(id); d.Name == req.Name {
			found = append(found, id)
			if d.Status != provider.StatusRunning {
				t.Errorf("observed desktop status %v", d.Status)
			}
		}
	}
	if len(found) != 1 {
		t.Fatalf("found %d desktops named %s, want 1: the work was done once", len(found), req.Name)
	}
	if n := e.sim.Calls()[provider.ActionCreateVm]; n != 1 {
		t.Fatalf("%d CreateVm calls, want 1", n)
	}
}

// TestSlowResponses: a response slower than the client's per-attempt timeout. Real time is
// unavoidable here: client timeout 50ms, emulator delay 400ms.
func TestSlowResponses(t *testing.T) {
	e := newEnv(t, func(o *sim.Options) { o.Faults.SlowDelay = 400 * time.Millisecond },
		func(c *gcw.Config) { c.Timeout = 50 * time.Millisecond })
	id := e.createVm("slow")

	e.sim.FailNext(provider.ActionQueryVm, sim.FaultSlow, 1)
	d, err := e.c.QueryVm(ctx, provider.QueryVmRequest{VmID: id})
	if err != nil || d.Name != "slow" {
		t.Fatalf("slow read: %+v, %v; want retried and answered", d, err)
	}
	if n := e.sim.Calls()[provider.ActionQueryVm]; n != 2 {
		t.Fatalf("slow read: %d QueryVm calls, want 2 (one retry)", n)
	}

	e.sim.FailNext(provider.ActionChangeVmName, sim.FaultSlow, 1)
	_, err = e.c.ChangeVmName(ctx, provider.ChangeVmNameRequest{VmID: id, Name: "renamed", RequestID: "req-slow"})
	var ue *provider.UnknownOutcomeError
	if !errors.As(err, &ue) || ue.RequestID != "req-slow" {
		t.Fatalf("slow mutation: %v, want an unknown outcome with requestId req-slow", err)
	}
	if n := e.sim.Calls()[provider.ActionChangeVmName]; n != 1 {
		t.Fatalf("slow mutation: %d calls, want 1 (never retried)", n)
	}
	// The emulator finishes the work after the client gave up: only observing tells. Bounded by the
	// emulator's delay, not a threshold on the code under test.
	deadline := time.Now().Add(5 * time.Second)
	for e.vm(id).Name != "renamed" {
		if time.Now().After(deadline) {
			t.Fatal("the slow rename never took effect")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFailedTask: a task that ends Failed reaches the caller as *provider.TaskFailedError with the
// emulator's failReason.
func TestFailedTask(t *testing.T) {
	e := newEnv(t, nil, nil)
	e.sim.FailNext(provider.ActionCreateVm, sim.FaultTaskFailed, 1)
	r := vmReq("doomed")
	r.Num = 2
	resp, err := e.c.CreateVm(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	task, err := e.wait(resp.TaskID, resp.RequestID)
	var tf *provider.TaskFailedError
	if !errors.As(err, &tf) {
		t.Fatalf("WaitTask: %T %v, want *provider.TaskFailedError", err, err)
	}
	st, _ := e.sim.Task(resp.TaskID)
	if tf.Task.FailReason == "" || tf.Task.FailReason != st.FailReason || task.Status != provider.TaskFailed ||
		!strings.Contains(err.Error(), st.FailReason) {
		t.Fatalf("failed task = %+v (%v), emulator failReason %q", tf.Task, err, st.FailReason)
	}
	// A failed CreateVm leaves its desktops in status error (the emulator's default worst case):
	// observe, do not assume.
	vms, err := e.c.QueryVms(ctx, provider.QueryVmsRequest{})
	if err != nil || len(vms.VmIDs) != 2 {
		t.Fatalf("after a failed CreateVm of 2: %+v, %v", vms, err)
	}
	for _, id := range vms.VmIDs {
		if d := e.vm(id); d.Status != provider.StatusFailed {
			t.Fatalf("desktop %s of the failed CreateVm: %v (%s), want status error", d.Name, d.Status, d.RawStatus)
		}
	}
}

// TestPartialFailures: work that fails after an accepted request reaches the caller in the typed
// results: UpdateOrder's failedVmIds/failedMsg, a sub-account ending in status "error".
func TestPartialFailures(t *testing.T) {
	e := newEnv(t, nil, nil)
	ids := e.createVms(func() provider.CreateVmRequest { r := vmReq("p"); r.Num = 2; return r }())
	e.sim.FailNext(provider.ActionUpdateOrder, sim.FaultTaskFailed, 1)
	r, err := e.c.UpdateOrder(ctx, provider.UpdateOrderRequest{VmIDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.SuccessVmIDs, ids[:1]) || !slices.Equal(r.FailedVmIDs, ids[1:]) || r.FailedMsg == "" {
		t.Fatalf("partial UpdateOrder = %+v", r)
	}
	if e.vm(ids[0]).BillMethod != provider.BillMethodMonthly || e.vm(ids[1]).BillMethod != provider.BillMethodPerMinute {
		t.Fatal("billing after a partial UpdateOrder does not match its report")
	}

	e.sim.FailNext(provider.ActionCreateSubAccount, sim.FaultTaskFailed, 1)
	if _, err := e.c.CreateSubAccount(ctx, provider.CreateSubAccountRequest{Email: "bad@example.com", Name: "bad"}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(taskDur)
	if st := e.account("bad@example.com").Status; st != provider.AccountError {
		t.Fatalf("account status %q, want %q", st, provider.AccountError)
	}
}

// TestRetriesExhausted: when every attempt is refused (a read answered 503, a mutation answered 429
// in an error envelope, which proves it was refused), the caller gets the refusal as an
// *provider.APIError with its HTTP status (never an unknown outcome: nothing was done), after
// 1 + MaxRetries calls.
func TestRetriesExhausted(t *testing.T) {
	rename := func(e *env, id string) error {
		_, err := e.c.ChangeVmName(ctx, provider.ChangeVmNameRequest{VmID: id, Name: "y"})
		return err
	}
	read := func(e *env, id string) error {
		_, err := e.c.QueryVm(ctx, provider.QueryVmRequest{VmID: id})
		return err
	}
	cases := []struct {
		name, reason string
		action       provider.Action
		call         func(*env, string) error
		kind         sim.FaultKind
		status       int
		code         string
	}{
		{"503", "a read answered 503 on every attempt", provider.ActionQueryVm, read, sim.Fault5xx, 503, "ServiceUnavailable"},
		{"429", "a mutation throttled on every attempt: IsThrottled", provider.ActionChangeVmName, rename, sim.FaultThrottle, 429, "Throttling"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil, func(c *gcw.Config) { c.MaxRetries = 2 })
			id := e.createVm("x")
			e.sim.FailNext(tc.action, tc.kind, 3)
			err := tc.call(e, id)
			ae, ok := provider.AsAPIError(err)
			if !ok || ae.HTTPStatus != tc.status || ae.Code != tc.code || provider.IsUnknownOutcome(err) {
				t.Fatalf("%s: %T %v", tc.reason, err, err)
			}
			if tc.status == 429 && !provider.IsThrottled(err) {
				t.Fatalf("%s: IsThrottled false", tc.reason)
			}
			if n := e.sim.Calls()[tc.action]; n != 3 {
				t.Fatalf("%s: %d calls, want 3", tc.reason, n)
			}
			if e.vm(id).Name != "x" {
				t.Fatalf("%s: refused rename was applied", tc.reason)
			}
		})
	}
}

// TestConcurrentClientsUnderFaults: one client used from many goroutines against a faulty emulator
// (run with -race). Every call ends in a classified outcome, renames that reported success are
// visible, and nothing but the four expected outcome kinds appears.
func TestConcurrentClientsUnderFaults(t *testing.T) {
	e := newEnv(t, nil, nil)
	var ids []string
	for i := range 4 {
		ids = append(ids, e.createVm(fmt.Sprint("c", i)))
	}
	e.sim.SetFaults(sim.Faults{HTTP5xx: 0.1, Throttle: 0.1, DropBefore: 0.05, DropAfter: 0.05})
	type res struct {
		id, name, class string
	}
	out := make(chan res, 64)
	for g := range 16 {
		go func() {
			id := ids[g%len(ids)]
			name := fmt.Sprint("g", g)
			_, err := e.c.ChangeVmName(ctx, provider.ChangeVmNameRequest{VmID: id, Name: name})
			_, rerr := e.c.QueryVm(ctx, provider.QueryVmRequest{VmID: id})
			out <- res{id, name, errClass(err) + "/" + errClass(rerr)}
		}()
	}
	tried := map[string][]string{}
	for i, id := range ids {
		tried[id] = []string{fmt.Sprint("c", i)}
	}
	for range 16 {
		r := <-out
		if w, _, _ := strings.Cut(r.class, "/"); w == "ok" || w == "unknown" {
			tried[r.id] = append(tried[r.id], r.name)
		}
		w, rd, _ := strings.Cut(r.class, "/")
		// Retries exhausted end in the last refusal: a throttle (429 or an HTTP-200 envelope) for a
		// mutation; any injected 5xx or throttle for a read.
		if !slices.Contains([]string{"ok", "unknown", "api:429:Throttling", "api:200:Throttling"}, w) {
			t.Errorf("rename of %s: outcome %s", r.id, w)
		}
		if !slices.Contains([]string{"ok", "api:500:InternalError", "api:502:", "api:503:ServiceUnavailable", "api:504:",
			"api:429:Throttling", "api:200:Throttling", "transport"}, rd) {
			t.Errorf("read of %s: outcome %s", r.id, rd)
		}
	}
	e.sim.SetFaults(sim.Faults{})
	for _, id := range ids {
		// Only a rename that succeeded or whose outcome is unknown may have taken effect.
		if n := e.vm(id).Name; !slices.Contains(tried[id], n) {
			t.Errorf("desktop %s named %q, not one of %v", id, n, tried[id])
		}
	}
}

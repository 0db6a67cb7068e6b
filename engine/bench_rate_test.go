package engine_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/provider/gcw"
	"github.com/deskfleet/deskfleet/state/memory"
)

// The command's defaults (cmd/deskfleet/flags.go): --rate 0 (no bound; the client's rate adapts to
// the API's throttling) and --parallelism 8.
const (
	defaultRate        = 0
	defaultParallelism = 8
)

// throttled is the emulator behind a server-wide limit of limit requests/s (a token bucket with burst
// burst, on the wall clock): a request beyond it is answered, after the emulator's latency, as the
// emulator answers a throttle fault (HTTP 429, {"Code":"Throttling"}, Retry-After: 1) without
// reaching the emulator. The emulator's own faults are per-request probabilities, not a rate
// (provider/sim/faults.go), hence this wrapper.
type throttled struct {
	next    http.Handler
	latency time.Duration
	bucket  *rate.Limiter
	refused atomic.Int64
}

func (h *throttled) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.bucket.Allow() {
		h.refused.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		time.Sleep(h.latency)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, `{"Code":"Throttling","Message":"too many requests"}`)
		return
	}
	h.next.ServeHTTP(w, r)
}

// defaultClient is a client configured as the command configures one by default.
func defaultClient(b *testing.B, endpoint string) *gcw.Client {
	b.Helper()
	c, err := gcw.New(gcw.Config{Endpoint: endpoint, AccessKeyID: "bench", Secret: "bench-secret",
		Rate: defaultRate, MaxConcurrent: defaultParallelism})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.CloseIdleConnections)
	return c
}

// BenchmarkPlanInSyncDefaultFlags is BenchmarkPlanInSync with the command's default --rate and
// --parallelism (a fresh client per plan, as each run of the command has): 1,000 in-sync desktops,
// 20 ms per request, a server that never throttles. The bound is docs/performance.md's: readFloor
// (1,000 reads / parallelism x latency), within 1.5x, and at most maxPlanCalls requests. conns/op counts the connections a plan opens (at most
// --parallelism when they are reused).
func BenchmarkPlanInSyncDefaultFlags(b *testing.B) {
	const n, latency = 1000, 20 * time.Millisecond
	fl, s, _, rec := benchFleet(b, n, latency, defaultParallelism)
	srv := httptest.NewUnstartedServer(s)
	var conns atomic.Int64
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	b.Cleanup(srv.Close)
	s.ResetCalls()
	b.ResetTimer()
	start := time.Now()
	var requests int
	for range b.N {
		c := defaultClient(b, srv.URL)
		if p := readPlan(b, fl, c, rec, defaultParallelism); !p.Empty() {
			b.Fatalf("an in-sync fleet planned %d changes, %d steps", len(p.Changes), len(p.Steps))
		}
		requests += c.Requests()
		c.CloseIdleConnections()
	}
	elapsed := time.Since(start) / time.Duration(b.N)
	b.StopTimer()
	reads := 0
	for _, k := range s.Calls() {
		reads += k
	}
	reads /= b.N
	if reads > maxPlanCalls(n) {
		b.Fatalf("a plan of %d in-sync desktops made %d calls, at most %d allowed", n, reads, maxPlanCalls(n))
	}
	bound := readFloor(n, defaultParallelism, latency)
	b.ReportMetric(float64(reads), "reads/op")
	b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
	b.ReportMetric(float64(conns.Load())/float64(b.N), "conns/op")
	b.ReportMetric(float64(elapsed)/float64(bound), "x_bound")
	b.ReportMetric(1.5, "limit_x")
}

// BenchmarkPlanInSyncThrottled plans the same fleet with the command's defaults against a server that
// accepts R requests/s and refuses the rest. docs/performance.md's bound: within 1.3x of the
// workload's 1,000 reads / R (or of readFloor, when larger), with at most 10% of requests refused
// (refused_%, the benchmark fails above it). A fresh client per plan: each plan learns the rate from nothing. settled_rps is the
// rate the client was at when the plan ended.
func BenchmarkPlanInSyncThrottled(b *testing.B) {
	for _, tc := range []struct {
		r     float64 // requests/s the server accepts
		burst int     // the server's bucket
	}{{100, 10}, {40, 4}} {
		b.Run(fmt.Sprintf("R=%g", tc.r), func(b *testing.B) {
			const n, latency = 1000, 20 * time.Millisecond
			fl, s, _, rec := benchFleet(b, n, latency, defaultParallelism)
			h := &throttled{next: s, latency: latency, bucket: rate.NewLimiter(rate.Limit(tc.r), tc.burst)}
			srv := httptest.NewServer(h)
			b.Cleanup(srv.Close)
			s.ResetCalls()
			b.ResetTimer()
			start := time.Now()
			var requests int
			var settled float64
			for range b.N {
				c := defaultClient(b, srv.URL)
				if p := readPlan(b, fl, c, rec, defaultParallelism); !p.Empty() {
					b.Fatalf("an in-sync fleet planned %d changes, %d steps", len(p.Changes), len(p.Steps))
				}
				st := c.RateStats()
				requests += st.Requests
				settled += st.Limit
				c.CloseIdleConnections()
			}
			elapsed := time.Since(start) / time.Duration(b.N)
			b.StopTimer()
			calls := 0
			for _, k := range s.Calls() {
				calls += k
			}
			calls /= b.N
			if calls > maxPlanCalls(n) {
				b.Fatalf("a plan of %d in-sync desktops made %d calls, at most %d allowed", n, calls, maxPlanCalls(n))
			}
			refused := 100 * float64(h.refused.Load()) / float64(requests)
			if refused > 10 {
				b.Fatalf("%.1f%% of requests refused, at most 10%% allowed", refused)
			}
			bound := max(time.Duration(float64(n)/tc.r*float64(time.Second)), readFloor(n, defaultParallelism, latency))
			b.ReportMetric(float64(calls), "reads/op")
			b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
			b.ReportMetric(refused, "refused_%")
			b.ReportMetric(settled/float64(b.N), "settled_rps")
			b.ReportMetric(float64(elapsed)/float64(bound), "x_bound")
			b.ReportMetric(1.3, "limit_x")
		})
	}
}

// TestPlanSaysThrottled: a plan read through a server that throttles says so in its Reads (how many
// answers were throttles, the rate the client settled at, below what the server accepts plus its
// burst); the same plan through a server that never throttles carries no Throttle.
func TestPlanSaysThrottled(t *testing.T) {
	for _, tc := range []struct {
		reason string
		limit  float64 // requests/s the server accepts; 0: no limit
	}{
		{"a server accepting 40 requests/s throttles a plan of 60 desktops sent 8 at a time", 40},
		{"a server that never throttles: nothing to say", 0},
	} {
		fl, s, _, rec := benchFleet(t, 60, 0, defaultParallelism)
		var h http.Handler = s
		if tc.limit > 0 {
			h = &throttled{next: s, bucket: rate.NewLimiter(rate.Limit(tc.limit), 4)}
		}
		srv := httptest.NewServer(h)
		c, err := gcw.New(gcw.Config{Endpoint: srv.URL, AccessKeyID: "bench", Secret: "bench-secret", MaxConcurrent: defaultParallelism})
		if err != nil {
			t.Fatal(err)
		}
		st := memory.New()
		seedRecord(t, st, rec)
		ctx := context.Background()
		sess := &engine.Session{Client: c, Store: st, Parallelism: defaultParallelism, Calls: c.Requests}
		p, err := sess.Plan(ctx, &engine.Spec{Fleet: fl, Files: 1}, engine.PlanOptions{})
		srv.Close()
		if err != nil {
			t.Fatalf("%s: %v", tc.reason, err)
		}
		th := p.Reads.Throttle
		switch {
		case tc.limit == 0 && th != nil:
			t.Errorf("%s: the plan says it was throttled: %+v", tc.reason, th)
		case tc.limit > 0 && th == nil:
			t.Errorf("%s: the plan does not say it was throttled", tc.reason)
		case tc.limit > 0 && (th.Throttled < 1 || th.SettledRate <= 0 || th.SettledRate > 2*tc.limit):
			t.Errorf("%s: throttle %+v: want at least one throttle and a rate in (0, %g]", tc.reason, th, 2*tc.limit)
		}
	}
}

package gcw

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider"
)

// step is what the fake server does for one request.
type step func(w http.ResponseWriter)

func status(code int) step {
	return func(w http.ResponseWriter) { writeJSON(w, code, `{"error":"x"}`) }
}
func ok() step {
	return func(w http.ResponseWriter) {
		writeJSON(w, 200, `{"Code":"Success","Data":{"taskId":"t1","requestId":"rid-1","vmId":"v"}}`)
	}
}
func apiErr(code string) step {
	return func(w http.ResponseWriter) { writeJSON(w, 200, `{"Code":"`+code+`","Message":"m"}`) }
}
func apiStatus(code int, apiCode string) step {
	return func(w http.ResponseWriter) { writeJSON(w, code, `{"Code":"`+apiCode+`","Message":"m"}`) }
}
func drop() step { return func(w http.ResponseWriter) { hijackClose(w) } }

func scripted(t *testing.T, steps ...step) *fake {
	return newFake(t, func(n int, _ *http.Request, w http.ResponseWriter) {
		steps[min(n-1, len(steps)-1)](w)
	})
}

type callFn func(ctx context.Context, c *Client) error

func readCall(ctx context.Context, c *Client) error {
	_, err := c.QueryVm(ctx, provider.QueryVmRequest{VmID: "v"})
	return err
}
func priceCall(ctx context.Context, c *Client) error {
	_, err := c.QueryVmPrice(ctx, provider.QueryVmPriceRequest{RequestID: "rid-1", SiteID: "s", GoodsID: 1})
	return err
}
func deleteCall(ctx context.Context, c *Client) error {
	_, err := c.DeleteVm(ctx, provider.DeleteVmRequest{RequestID: "rid-1", VmID: "v"})
	return err
}
func rebuildCall(ctx context.Context, c *Client) error {
	_, err := c.RebuildVm(ctx, provider.RebuildVmRequest{RequestID: "rid-1", VmID: "v", ImageID: "i"})
	return err
}

type outcome int

const (
	okOutcome outcome = iota
	unknownOutcome
	apiOutcome
)

func checkOutcome(t *testing.T, err error, want outcome, reason string) {
	t.Helper()
	switch want {
	case okOutcome:
		if err != nil {
			t.Fatalf("err = %v, want success (%s)", err, reason)
		}
	case unknownOutcome:
		var ue *provider.UnknownOutcomeError
		if !errors.As(err, &ue) || ue.RequestID != "rid-1" {
			t.Fatalf("err = %v (%T), want *UnknownOutcomeError with requestId rid-1 (%s)", err, err, reason)
		}
	case apiOutcome:
		var ue *provider.UnknownOutcomeError
		if _, ok := provider.AsAPIError(err); !ok || errors.As(err, &ue) {
			t.Fatalf("err = %v (%T), want a plain *APIError (%s)", err, err, reason)
		}
	}
}

func TestRetryClassification(t *testing.T) {
	tests := []struct {
		name     string
		call     callFn
		steps    []step
		attempts int
		want     outcome
		reason   string
	}{
		{"read-503", readCall, []step{status(503), status(503), ok()}, 3, okOutcome, "reads retry on 503"},
		{"read-429", readCall, []step{status(429), ok()}, 2, okOutcome, "reads retry on 429"},
		{"read-500", readCall, []step{status(500), ok()}, 2, okOutcome, "reads retry on any 5xx"},
		{"read-drop", readCall, []step{drop(), ok()}, 2, okOutcome, "reads retry on a dropped connection"},
		{"read-503-exhausted", readCall, []step{status(503)}, 4, apiOutcome, "MaxRetries 3: four attempts, then the 503"},
		{"read-api-error", readCall, []step{apiErr("10006")}, 1, apiOutcome, "API errors are answers, not retried"},
		{"read-400", readCall, []step{status(400), ok()}, 1, apiOutcome, "4xx other than 429 is not retried"},
		{"price-drop", priceCall, []step{drop(), ok()}, 2, okOutcome, "QueryVmPrice is a POST without side effect"},
		{"mutation-503", deleteCall, []step{status(503), ok()}, 1, unknownOutcome, "the reference gives 503 no meaning: it may follow the work"},
		{"mutation-429-envelope", deleteCall, []step{apiStatus(429, "Throttling"), apiStatus(429, "Throttling"), ok()}, 3, okOutcome,
			"a 429 carrying an error envelope is the server's refusal: nothing was done"},
		{"mutation-429-no-envelope", deleteCall, []step{status(429), ok()}, 1, unknownOutcome,
			"a 429 without an envelope is not the server's word that nothing was done"},
		{"mutation-500", deleteCall, []step{status(500), ok()}, 1, unknownOutcome, "a 5xx other than 503 may have acted"},
		{"mutation-502", deleteCall, []step{status(502), ok()}, 1, unknownOutcome, "a gateway error may hide a done request"},
		{"mutation-drop", deleteCall, []step{drop(), ok()}, 1, unknownOutcome, "connection dropped after the request was sent"},
		{"mutation-400", deleteCall, []step{status(400), ok()}, 1, apiOutcome, "client errors are definite"},
		{"mutation-api-error", deleteCall, []step{apiErr("13002"), ok()}, 1, apiOutcome, "API errors are definite"},
		{"rebuild-drop", rebuildCall, []step{drop(), ok()}, 1, unknownOutcome, "RebuildVm is a mutation even over GET"},
		{"rebuild-504", rebuildCall, []step{status(504), ok()}, 1, unknownOutcome, "RebuildVm is a mutation even over GET"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := scripted(t, tc.steps...)
			c, sl := newTestClient(t, f.srv.URL, nil)
			err := tc.call(context.Background(), c)
			checkOutcome(t, err, tc.want, tc.reason)
			reqs := f.requests()
			if len(reqs) != tc.attempts {
				t.Fatalf("%d attempts, want %d (%s)", len(reqs), tc.attempts, tc.reason)
			}
			if sl.count() != tc.attempts-1 {
				t.Errorf("%d backoff sleeps for %d attempts", sl.count(), tc.attempts)
			}
			nonces := map[string]bool{}
			for i, r := range reqs {
				if !r.sigValid {
					t.Errorf("attempt %d: signature invalid: each retry is re-signed", i+1)
				}
				nonces[r.query.Get("SignatureNonce")] = true
			}
			if len(nonces) != len(reqs) {
				t.Errorf("nonces %v: want a fresh nonce per attempt", nonces)
			}
		})
	}
}

func TestBackoffFullJitter(t *testing.T) {
	f := scripted(t, status(503))
	c, sl := newTestClient(t, f.srv.URL, func(cfg *Config) {
		cfg.MaxRetries = 5
		cfg.BaseBackoff = 100 * time.Millisecond
		cfg.MaxBackoff = 500 * time.Millisecond
		cfg.Rand = func() float64 { return 0.5 }
	})
	_ = readCall(context.Background(), c)
	want := []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 250 * time.Millisecond, 250 * time.Millisecond}
	if len(sl.d) != len(want) {
		t.Fatalf("sleeps %v, want %v", sl.d, want)
	}
	for i := range want {
		if sl.d[i] != want[i] {
			t.Errorf("sleep %d = %v, want %v: rand * min(max, base*2^retry)", i, sl.d[i], want[i])
		}
	}
}

func TestConnectionRefusedIsRetriedEvenForMutations(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	endpoint := srv.URL
	srv.Close() // nothing listens any more: dial fails, certainly before the server acted
	tests := []struct {
		name   string
		call   callFn
		reason string
	}{
		{"read", readCall, "reads retry"},
		{"mutation", deleteCall, "a dial error means nothing was sent"},
		{"rebuild", rebuildCall, "a dial error means nothing was sent"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, sl := newTestClient(t, endpoint, nil)
			err := tc.call(context.Background(), c)
			if err == nil || provider.IsUnknownOutcome(err) {
				t.Fatalf("err = %v, want a plain transport error (%s)", err, tc.reason)
			}
			if sl.count() != 3 {
				t.Errorf("%d retries, want 3 (%s)", sl.count(), tc.reason)
			}
		})
	}
}

// blockFirst blocks the first request until the client goes away, then answers OK.
func blockFirst(t *testing.T, arrived chan<- struct{}) *fake {
	return newFake(t, func(n int, r *http.Request, w http.ResponseWriter) {
		if n == 1 {
			if arrived != nil {
				arrived <- struct{}{}
			}
			<-r.Context().Done()
			return
		}
		ok()(w)
	})
}

func TestAttemptTimeout(t *testing.T) {
	tests := []struct {
		name     string
		call     callFn
		attempts int
		want     outcome
		reason   string
	}{
		{"read", readCall, 2, okOutcome, "a read that timed out is retried"},
		{"mutation", deleteCall, 1, unknownOutcome, "a mutation that timed out after sending is unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := blockFirst(t, nil)
			c, _ := newTestClient(t, f.srv.URL, func(cfg *Config) { cfg.Timeout = 50 * time.Millisecond })
			err := tc.call(context.Background(), c)
			checkOutcome(t, err, tc.want, tc.reason)
			if tc.want == unknownOutcome && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want it to wrap context.DeadlineExceeded", err)
			}
			if n := len(f.requests()); n != tc.attempts {
				t.Errorf("%d attempts, want %d (%s)", n, tc.attempts, tc.reason)
			}
		})
	}
}

func TestContextCancellation(t *testing.T) {
	t.Run("in-flight", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			call   callFn
			want   outcome
			reason string
		}{
			{"read", readCall, -1, "a cancelled read returns the cancellation, no retry"},
			{"mutation", deleteCall, unknownOutcome, "a mutation cancelled after sending is unknown"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				arrived := make(chan struct{}, 1)
				f := blockFirst(t, arrived)
				c, sl := newTestClient(t, f.srv.URL, nil)
				ctx, cancel := context.WithCancel(context.Background())
				go func() { <-arrived; cancel() }()
				err := tc.call(ctx, c)
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("err = %v, want context.Canceled (%s)", err, tc.reason)
				}
				if tc.want == unknownOutcome {
					checkOutcome(t, err, unknownOutcome, tc.reason)
				} else if provider.IsUnknownOutcome(err) {
					t.Errorf("a read is never an unknown outcome")
				}
				if len(f.requests()) != 1 || sl.count() != 0 {
					t.Errorf("%d attempts, %d sleeps: no retry after cancel", len(f.requests()), sl.count())
				}
			})
		}
	})
	t.Run("during-backoff", func(t *testing.T) {
		f := scripted(t, status(503))
		ctx, cancel := context.WithCancel(context.Background())
		c, _ := newTestClient(t, f.srv.URL, func(cfg *Config) {
			cfg.Sleep = func(ctx context.Context, _ time.Duration) error { cancel(); return ctx.Err() }
		})
		err := readCall(ctx, c)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if ae, ok := provider.AsAPIError(err); !ok || ae.HTTPStatus != 503 {
			t.Errorf("err = %v: the last failure is kept", err)
		}
		if len(f.requests()) != 1 {
			t.Errorf("%d attempts, want 1", len(f.requests()))
		}
	})
	t.Run("before", func(t *testing.T) {
		f := scripted(t, ok())
		c, _ := newTestClient(t, f.srv.URL, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := deleteCall(ctx, c)
		if !errors.Is(err, context.Canceled) || provider.IsUnknownOutcome(err) {
			t.Fatalf("err = %v: cancelled before sending is not an unknown outcome", err)
		}
		if len(f.requests()) != 0 {
			t.Errorf("a request was sent")
		}
	})
}

func TestRateLimit(t *testing.T) {
	f := scripted(t, ok())
	c, sl := newTestClient(t, f.srv.URL, func(cfg *Config) { cfg.Rate = 0.001; cfg.Burst = 2 })
	for i := range 2 {
		if err := readCall(context.Background(), c); err != nil {
			t.Fatalf("call %d within the burst: %v", i, err)
		}
	}
	// The next token is ~1000 s away: with a 1 min deadline the limiter refuses at once, sending nothing.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := deleteCall(ctx, c); err == nil || provider.IsUnknownOutcome(err) {
		t.Fatalf("err = %v, want a rate-limit refusal", err)
	}
	if n := len(f.requests()); n != 2 {
		t.Errorf("%d requests reached the server, want 2", n)
	}
	if sl.count() != 0 {
		t.Errorf("a limiter refusal was retried %d times: retrying cannot help", sl.count())
	}
}

func TestConcurrencyBound(t *testing.T) {
	const limit, calls = 2, 6
	var inflight, peak atomic.Int32
	arrived := make(chan struct{}, calls)
	release := make(chan struct{})
	f := newFake(t, func(_ int, _ *http.Request, w http.ResponseWriter) {
		n := inflight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		arrived <- struct{}{}
		<-release
		inflight.Add(-1)
		ok()(w)
	})
	c, _ := newTestClient(t, f.srv.URL, func(cfg *Config) { cfg.MaxConcurrent = limit })
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for range calls {
		wg.Go(func() { errs <- readCall(context.Background(), c) })
	}
	for i := range calls {
		<-arrived
		if i >= limit-1 {
			release <- struct{}{}
		}
	}
	for range limit - 1 {
		release <- struct{}{}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if p := peak.Load(); p > limit {
		t.Errorf("peak in-flight %d > MaxConcurrent %d", p, limit)
	}
}

// TestNoSilentReplayOnReusedConnection: net/http re-sends a replayable (GET) request whose reused
// connection dropped before the response. RebuildVm is a GET mutation: it must reach the server once.
func TestNoSilentReplayOnReusedConnection(t *testing.T) {
	tests := []struct {
		name     string
		call     callFn
		attempts int
		want     outcome
		reason   string
	}{
		{"rebuild", rebuildCall, 1, unknownOutcome, "a GET mutation is sent once, then unknown"},
		{"delete", deleteCall, 1, unknownOutcome, "a POST is never replayed by net/http"},
		{"read", readCall, 2, okOutcome, "reads may be replayed: here by our own retry or net/http's"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Request 1 (a read) succeeds and leaves a keep-alive connection; request 2 is dropped.
			f := scripted(t, ok(), drop(), ok())
			c, _ := newTestClient(t, f.srv.URL, nil)
			if err := readCall(context.Background(), c); err != nil {
				t.Fatal(err)
			}
			err := tc.call(context.Background(), c)
			checkOutcome(t, err, tc.want, tc.reason)
			if n := len(f.requests()) - 1; n != tc.attempts {
				t.Errorf("%d requests for the call, want %d (%s)", n, tc.attempts, tc.reason)
			}
		})
	}
}

func TestUnreadableSuccessOfMutationIsUnknown(t *testing.T) {
	f := newFake(t, func(_ int, _ *http.Request, w http.ResponseWriter) {
		writeJSON(w, 200, `{"Code":"Success","Data":{"taskId":{"unexpected":true}}}`)
	})
	c, sl := newTestClient(t, f.srv.URL, nil)
	checkOutcome(t, deleteCall(context.Background(), c), unknownOutcome, "Success with unreadable Data: the task id is lost")
	if sl.count() != 0 {
		t.Error("retried")
	}
	_, err := c.QueryTask(context.Background(), provider.QueryTaskRequest{TaskID: "t"})
	if _, ok := provider.AsAPIError(err); !ok || provider.IsUnknownOutcome(err) {
		t.Errorf("read: err = %v, want *APIError", err)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	f := scripted(t, func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "3")
		writeJSON(w, 429, `{}`)
	}, ok())
	c, sl := newTestClient(t, f.srv.URL, func(cfg *Config) { cfg.MaxBackoff = 2 * time.Second })
	if err := readCall(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if len(sl.d) != 1 || sl.d[0] != 2*time.Second {
		t.Errorf("sleeps %v, want [2s]: Retry-After 3s capped by MaxBackoff", sl.d)
	}
}

// TestTruncatedResponse: the status line and headers arrive, then the body is cut short (an
// unexpected EOF): a read is retried, a mutation is an unknown outcome.
func TestTruncatedResponse(t *testing.T) {
	cut := func(w http.ResponseWriter) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"Code\":\"Succ")
		buf.Flush()
		conn.Close()
	}
	tests := []struct {
		name     string
		call     callFn
		attempts int
		want     outcome
		reason   string
	}{
		{"read", readCall, 2, okOutcome, "reads retry"},
		{"mutation", deleteCall, 1, unknownOutcome, "the server answered 200 before the cut: it may have acted"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := scripted(t, cut, ok())
			c, _ := newTestClient(t, f.srv.URL, nil)
			checkOutcome(t, tc.call(context.Background(), c), tc.want, tc.reason)
			if n := len(f.requests()); n != tc.attempts {
				t.Errorf("%d attempts, want %d (%s)", n, tc.attempts, tc.reason)
			}
		})
	}
}

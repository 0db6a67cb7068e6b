package gcw

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider"
)

// TestConnectionsReused: a client that builds its own http.Client keeps as many idle connections as
// requests may be in flight, and opens no more than that, so a long run of calls costs a handful of
// connections (each a TLS handshake on the real API), not one per call.
func TestConnectionsReused(t *testing.T) {
	tests := []struct {
		name          string
		maxConcurrent int // Config.MaxConcurrent
		goroutines    int
		calls         int // per goroutine
		wantMax       int // new connections, at most
		reason        string
	}{
		{"sequential", 8, 1, 50, 1, "one call at a time: one connection, reused"},
		{"parallel-8", 8, 8, 25, 8, "eight callers, eight in flight: eight connections"},
		{"parallel-32-bound-8", 8, 32, 10, 8, "more callers than the bound: the bound, not the callers, sets the connections"},
		{"parallel-default", 0, 16, 10, 8, "the default bound of 8"},
		{"parallel-3", 3, 12, 10, 3, "a bound below the transport's default idle pool of 2 plus one"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var conns atomic.Int32
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				time.Sleep(time.Millisecond) // long enough for the callers to overlap
				writeJSON(w, 200, `{"Code":"Success","Data":{"vmIds":["a"]}}`)
			}))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			srv.Start()
			defer srv.Close()
			c, err := New(Config{Endpoint: srv.URL, AccessKeyID: testAK, Secret: testSecret, MaxConcurrent: tc.maxConcurrent})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdleConnections()
			var wg sync.WaitGroup
			errs := make(chan error, tc.goroutines)
			for range tc.goroutines {
				wg.Go(func() {
					for range tc.calls {
						if _, err := c.QueryVms(context.Background(), provider.QueryVmsRequest{}); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if n := int(conns.Load()); n > tc.wantMax {
				t.Errorf("%d calls opened %d connections, want at most %d (%s)", tc.goroutines*tc.calls, n, tc.wantMax, tc.reason)
			}
		})
	}
}

// TestCallerHTTPClientKept: a caller's http.Client keeps its own transport.
func TestCallerHTTPClientKept(t *testing.T) {
	tr := &http.Transport{}
	c, err := New(Config{Endpoint: "http://gcw.test", AccessKeyID: testAK, Secret: testSecret,
		HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	if c.http.Transport != tr {
		t.Errorf("transport %T replaced", c.http.Transport)
	}
}

// TestThrottleSignals: every form of throttle the client recognises lowers the shared rate and is
// counted in RateStats; other refusals and failures are not throttles.
func TestThrottleSignals(t *testing.T) {
	tests := []struct {
		name      string
		first     step
		call      callFn
		throttled bool
		reason    string
	}{
		{"429-envelope", apiStatus(429, "Throttling"), readCall, true, "the API's own 429"},
		{"429-page", status(429), readCall, true, "a gateway's 429 without an envelope: still too many requests"},
		{"200-throttle-code", apiErr("Throttling.User"), readCall, true, "a throttle Code in a 200 envelope"},
		{"400-throttle-code", apiStatus(400, "RequestLimitExceeded"), readCall, true, "a throttle Code in a 4xx envelope"},
		{"429-mutation", apiStatus(429, "Throttling"), deleteCall, true, "a mutation refused by a throttle (retried: nothing was done)"},
		{"503", status(503), readCall, false, "a 5xx is a failure, not a throttle"},
		{"other-code", apiErr("10006"), readCall, false, "the server's refusal of the request itself"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := scripted(t, tc.first, ok())
			c, _ := newTestClient(t, f.srv.URL, func(cfg *Config) { cfg.Rate = 0 })
			_ = tc.call(context.Background(), c)
			s := c.RateStats()
			if !s.Adaptive || s.Requests != len(f.requests()) {
				t.Errorf("stats %+v: want adaptive, Requests = %d (%s)", s, len(f.requests()), tc.reason)
			}
			if got := s.Throttled == 1 && s.Decreases == 1 && s.Limit > 0; got != tc.throttled {
				t.Errorf("stats %+v: throttled = %v, want %v (%s)", s, got, tc.throttled, tc.reason)
			}
			if !tc.throttled && (s.Throttled != 0 || s.Limit != 0) {
				t.Errorf("stats %+v: want no throttle and no limit (%s)", s, tc.reason)
			}
			if n, rate := c.Throttling(); n != s.Throttled || rate != s.Limit {
				t.Errorf("Throttling() = %d, %g; RateStats says %d, %g (%s)", n, rate, s.Throttled, s.Limit, tc.reason)
			}
		})
	}
}

// TestRateBoundIsReported: with Rate set and no throttle, the limit in force is the bound.
func TestRateBoundIsReported(t *testing.T) {
	f := scripted(t, ok())
	c, _ := newTestClient(t, f.srv.URL, func(cfg *Config) { cfg.Rate = 50 })
	if err := readCall(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if s := c.RateStats(); s.Bound != 50 || s.Limit != 50 || s.Throttled != 0 || s.Requests != 1 {
		t.Errorf("stats %+v: want Bound and Limit 50, one request", s)
	}
}

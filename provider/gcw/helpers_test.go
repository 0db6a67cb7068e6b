package gcw

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider"
)

const (
	testAK     = "testAK"
	testSecret = "testSK"
)

// seen is one request as the fake server received it.
type seen struct {
	method      string
	path        string
	query       url.Values
	body        []byte
	contentType string
	sigValid    bool
}

// fake is a small scripted GCW server: each request is recorded, its signature verified with
// provider.Sign, and answered by respond (default: a Success envelope with null Data).
type fake struct {
	t       *testing.T
	secret  string
	srv     *httptest.Server
	mu      sync.Mutex
	reqs    []seen
	respond func(n int, r *http.Request, w http.ResponseWriter)
}

func newFake(t *testing.T, respond func(n int, r *http.Request, w http.ResponseWriter)) *fake {
	t.Helper()
	f := &fake{t: t, secret: testSecret, respond: respond}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	q := r.URL.Query()
	params := url.Values{}
	for k, v := range q {
		if k != "Signature" {
			params[k] = v
		}
	}
	s := seen{method: r.Method, path: r.URL.Path, query: q, body: body, contentType: r.Header.Get("Content-Type"),
		sigValid: q.Get("Signature") == provider.Sign(r.Method, params, f.secret)}
	f.mu.Lock()
	f.reqs = append(f.reqs, s)
	n := len(f.reqs)
	f.mu.Unlock()
	if f.respond != nil {
		f.respond(n, r, w)
		return
	}
	writeJSON(w, 200, `{"Code":"Success","Message":"","Data":null}`)
}

func (f *fake) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// hijackClose drops the connection after reading the whole request: the server may have acted.
func hijackClose(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

// sleeps records the backoffs asked for, without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.d)
}

// newTestClient returns a client pointed at endpoint with deterministic clock, nonces and request ids,
// no rate limit, and backoff recorded instead of slept.
func newTestClient(t *testing.T, endpoint string, mod func(*Config)) (*Client, *sleeps) {
	t.Helper()
	var nonce atomic.Int64
	sl := &sleeps{}
	cfg := Config{
		Endpoint: endpoint, AccessKeyID: testAK, Secret: testSecret,
		Rate: -1, MaxRetries: 3, BaseBackoff: time.Millisecond, MaxBackoff: 8 * time.Millisecond,
		Clock:        func() time.Time { return time.Date(2022, 6, 1, 0, 0, 0, 0, time.UTC) },
		Nonce:        func() string { return fmt.Sprintf("nonce-%d", nonce.Add(1)) },
		NewRequestID: func() string { return "generated-rid" },
		Rand:         func() float64 { return 0.5 },
		Sleep:        sl.sleep,
		Timeout:      5 * time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, sl
}

// bodyMap decodes a POST body into generic JSON.
func bodyMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", b, err)
	}
	return m
}

// debugLogger returns a logger writing every level to buf.
func debugLogger(buf *bytes.Buffer, mu *sync.Mutex) *slog.Logger {
	return slog.New(slog.NewTextHandler(lockedWriter{buf, mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type lockedWriter struct {
	buf *bytes.Buffer
	mu  *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

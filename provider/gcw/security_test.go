package gcw

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider"
)

const canary = "CANARY-SECRET-9f8e7d"

// sigRecorder records the Signature of every request the client sends, before the network.
type sigRecorder struct {
	mu   sync.Mutex
	sigs []string
	next http.RoundTripper
}

func (r *sigRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.sigs = append(r.sigs, req.URL.Query().Get("Signature"))
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func (r *sigRecorder) forbidden() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := []string{canary}
	for _, s := range r.sigs {
		out = append(out, s, url.QueryEscape(s), provider.PercentEncode(s))
	}
	return out
}

// TestCanarySecretNeverLeaks provokes every error path with debug logging on and checks that neither
// the secret nor any Signature value appears in error texts (%v, %+v, %#v) or in the log.
func TestCanarySecretNeverLeaks(t *testing.T) {
	// A server that echoes everything it can back: the query (with the Signature) and a secret-looking
	// text, in error bodies and messages.
	echo := func(w http.ResponseWriter, r *http.Request, status int) {
		msg := fmt.Sprintf("bad signature for %s (key %s)", r.URL.RawQuery, canary)
		writeJSON(w, status, fmt.Sprintf(`{"Code":"SignatureDoesNotMatch","Message":%q,"Data":%q}`, msg, r.URL.String()))
	}
	handlers := map[string]http.HandlerFunc{
		"non-200":     func(w http.ResponseWriter, r *http.Request) { echo(w, r, 403) },
		"api-error":   func(w http.ResponseWriter, r *http.Request) { echo(w, r, 200) },
		"5xx-unknown": func(w http.ResponseWriter, r *http.Request) { echo(w, r, 500) },
		"503":         func(w http.ResponseWriter, r *http.Request) { echo(w, r, 503) },
		"drop":        func(w http.ResponseWriter, r *http.Request) { hijackClose(w) },
		"timeout": func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body) // the server notices the client leaving only once the body is read
			<-r.Context().Done()
		},
		"malformed": func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(r.URL.String())) },
		"redirect-loop": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, r.URL.String(), http.StatusFound)
		},
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()

	type target struct {
		name     string
		endpoint string
	}
	targets := []target{{"dial-error", deadURL}}
	for name, h := range handlers {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		targets = append(targets, target{name, srv.URL + "/gcw"})
	}
	calls := []struct {
		name string
		call callFn
	}{
		{"read", readCall},
		{"mutation-post", deleteCall},
		{"mutation-get", rebuildCall},
	}
	for _, tg := range targets {
		for _, cl := range calls {
			t.Run(tg.name+"/"+cl.name, func(t *testing.T) {
				var buf bytes.Buffer
				var mu sync.Mutex
				rec := &sigRecorder{next: http.DefaultTransport}
				c, _ := newTestClient(t, tg.endpoint, func(cfg *Config) {
					cfg.Secret = canary
					cfg.Nonce = nil // real random nonces
					cfg.Clock = nil
					cfg.Timeout = 50 * time.Millisecond
					cfg.MaxRetries = 1
					cfg.HTTPClient = &http.Client{Transport: rec}
					cfg.Logger = debugLogger(&buf, &mu)
				})
				err := cl.call(context.Background(), c)
				if err == nil {
					t.Fatal("want an error")
				}
				texts := []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)}
				if ae, ok := provider.AsAPIError(err); ok {
					texts = append(texts, ae.Body, ae.Message, ae.Code, fmt.Sprintf("%#v", *ae))
				}
				mu.Lock()
				texts = append(texts, buf.String())
				logged := buf.Len()
				mu.Unlock()
				if logged == 0 {
					t.Error("debug log is empty: the test would prove nothing")
				}
				forbidden := rec.forbidden()
				if len(forbidden) < 2 {
					t.Fatal("no signature recorded")
				}
				for _, text := range texts {
					for _, f := range forbidden {
						if f != "" && strings.Contains(text, f) {
							t.Errorf("%q leaks %q", text, f)
						}
					}
				}
			})
		}
	}
}

func TestConfigAndClientHideSecret(t *testing.T) {
	cfg := Config{Endpoint: "http://127.0.0.1:1", AccessKeyID: "ak", Secret: canary}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	var mu sync.Mutex
	debugLogger(&buf, &mu).Info("config", "cfg", cfg, "client", c)
	for _, s := range []string{fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg),
		fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), buf.String()} {
		if strings.Contains(s, canary) {
			t.Errorf("%q shows the secret", s)
		}
	}
}

func TestCredentialsFromEnv(t *testing.T) {
	tests := []struct {
		name, id, key string
		wantErr       bool
		reason        string
	}{
		{"both", "ak", "sk", false, "both set"},
		{"no-key", "ak", "", true, "secret missing"},
		{"no-id", "", "sk", true, "id missing"},
		{"none", "", "", true, "both missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvAccessKeyID, tc.id)
			t.Setenv(EnvSecret, tc.key)
			id, key, err := CredentialsFromEnv()
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v (%s)", err, tc.reason)
			}
			if err != nil {
				msg := err.Error()
				if !strings.Contains(msg, EnvAccessKeyID) || !strings.Contains(msg, EnvSecret) {
					t.Errorf("%q must name both variables (%s)", msg, tc.reason)
				}
				if tc.key != "" && strings.Contains(msg, tc.key) {
					t.Errorf("%q shows a value", msg)
				}
				return
			}
			if id != tc.id || key != tc.key {
				t.Errorf("got %q %q", id, key)
			}
		})
	}
}

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
		reason  string
	}{
		{"default-endpoint", Config{AccessKeyID: "a", Secret: "s"}, false, "empty endpoint is the vendor's"},
		{"any-endpoint", Config{Endpoint: "http://127.0.0.1:8088/", AccessKeyID: "a", Secret: "s"}, false, "an emulator URL"},
		{"no-secret", Config{AccessKeyID: "a"}, true, "credentials required"},
		{"relative", Config{Endpoint: "gcw", AccessKeyID: "a", Secret: "s"}, true, "not absolute"},
		{"query", Config{Endpoint: "http://h/gcw?x=1", AccessKeyID: "a", Secret: "s"}, true, "a query would break signing"},
	}
	for _, tc := range tests {
		if _, err := New(tc.cfg); (err != nil) != tc.wantErr {
			t.Errorf("%s: err = %v (%s)", tc.name, err, tc.reason)
		}
	}
}

// TestDecodeErrorsScrubbed: errors about an unreadable envelope or Data quote the server's values (a
// Code that is not a string, a number field holding text) and keep the Data as Body; a server echoing
// the signed query or the secret there must not make them leak (found by FuzzDecodeResponse).
func TestDecodeErrorsScrubbed(t *testing.T) {
	tests := []struct {
		name   string
		reason string
		body   func(sig string) string
		call   func(*Client) error
	}{
		{"read-data-field", "a read's decoder quotes the field value it refuses, here the echoed signature", func(sig string) string { return `{"Code":"Success","Data":{"bw":"` + sig + `"}}` },
			func(c *Client) error {
				_, err := c.QueryVm(context.Background(), provider.QueryVmRequest{VmID: "v"})
				return err
			}},
		{"mutation-data-body", "a mutation's unreadable Data is kept as the Body of the unknown outcome's APIError", func(string) string { return `{"Code":"Success","Data":{"successVmIds":{"` + testSecret + `":1}}}` },
			func(c *Client) error {
				_, err := c.UpdateOrder(context.Background(), provider.UpdateOrderRequest{VmIDs: []string{"v"}})
				return err
			}},
		{"envelope-code", "an envelope whose Code is not a string is quoted in the malformed-response error", func(string) string { return `{"Code":["` + testSecret + `"]}` },
			func(c *Client) error {
				_, err := c.UpdateOrder(context.Background(), provider.UpdateOrderRequest{VmIDs: []string{"v"}})
				return err
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var sig string
			f := newFake(t, func(_ int, r *http.Request, w http.ResponseWriter) {
				sig = r.URL.Query().Get("Signature")
				writeJSON(w, 200, tc.body(sig))
			})
			c, _ := newTestClient(t, f.srv.URL, func(cfg *Config) { cfg.MaxRetries = -1 })
			err := tc.call(c)
			ae, ok := provider.AsAPIError(err)
			if !ok {
				t.Fatalf("err = %v (%T), want an *APIError in the chain (%s)", err, err, tc.reason)
			}
			for _, s := range []string{err.Error(), ae.Message, ae.Body} {
				if strings.Contains(s, testSecret) || (sig != "" && strings.Contains(s, sig)) {
					t.Errorf("credential in %q (%s)", s, tc.reason)
				}
			}
			if !strings.Contains(err.Error()+ae.Body, redacted) {
				t.Errorf("error %q (body %q) does not show where the credential was (%s)", err, ae.Body, tc.reason)
			}
		})
	}
}

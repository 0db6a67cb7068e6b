package gcw

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/deskfleet/deskfleet/provider"
)

// TestRedirectsNeverFollowed: an endpoint that answers with a redirect gets no second request sent
// anywhere, whoever built the http.Client (the client's default, or one the caller passes, which used
// to follow redirects), for a read and for a mutation; the error names where the redirect pointed.
func TestRedirectsNeverFollowed(t *testing.T) {
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.Write([]byte(`{"Code":"Success","Message":"ok","Data":{}}`))
	}))
	defer other.Close()
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect} {
		endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/gcw/?stolen=1", status)
		}))
		defer endpoint.Close()
		cases := []struct {
			name, reason string
			mod          func(*Config)
			call         func(*Client) error
		}{
			{"default client, read", "the default http.Client refuses redirects", nil,
				func(c *Client) error {
					_, err := c.QuerySites(context.Background(), provider.QuerySitesRequest{})
					return err
				}},
			{"caller's client, read", "an http.Client from the caller follows redirects unless New stops it",
				func(cfg *Config) { cfg.HTTPClient = &http.Client{} },
				func(c *Client) error {
					_, err := c.QuerySites(context.Background(), provider.QuerySitesRequest{})
					return err
				}},
			{"caller's client, mutation", "a redirected POST would be re-sent as a GET elsewhere",
				func(cfg *Config) { cfg.HTTPClient = &http.Client{} },
				func(c *Client) error {
					_, err := c.ChangeVmName(context.Background(), provider.ChangeVmNameRequest{VmID: "vm-1", Name: "x"})
					return err
				}},
		}
		for _, tc := range cases {
			t.Run(http.StatusText(status)+"/"+tc.name, func(t *testing.T) {
				c, _ := newTestClient(t, endpoint.URL+"/gcw", tc.mod)
				before := elsewhere.Load()
				err := tc.call(c)
				if got := elsewhere.Load() - before; got != 0 {
					t.Fatalf("%s: %d requests reached the redirect's target", tc.reason, got)
				}
				host := strings.TrimPrefix(other.URL, "http://")
				if err == nil || !strings.Contains(err.Error(), "never follows a redirect") || !strings.Contains(err.Error(), host) {
					t.Fatalf("%s: want an error naming %s and saying redirects are not followed, got %v", tc.reason, host, err)
				}
				if provider.IsUnknownOutcome(err) {
					t.Errorf("%s: a redirect is a refusal, not an unknown outcome: %v", tc.reason, err)
				}
			})
		}
	}
}

package gcw

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/deskfleet/deskfleet/provider"
)

// TestMutatingGetNotReplayedOnReusedConnection: net/http's Transport silently re-sends a GET (an
// "idempotent" method) when a reused keep-alive connection closes before any response. RebuildVm is
// a mutation sent as GET: the server may have rebuilt the desktop before the connection dropped, so
// the request must reach it once and the caller must get an UnknownOutcomeError (found by the
// provider/contract suite: against the emulator the replay came back as a 403 SignatureNonceUsed, or
// as a silent second RebuildVm).
func TestMutatingGetNotReplayedOnReusedConnection(t *testing.T) {
	f := newFake(t, func(n int, r *http.Request, w http.ResponseWriter) {
		if provider.Action(r.URL.Query().Get("Action")) == provider.ActionRebuildVm {
			hijackClose(w)
			return
		}
		writeJSON(w, 200, `{"Code":"Success","Message":"","Data":[]}`)
	})
	c, _ := newTestClient(t, f.srv.URL, nil)
	ctx := context.Background()
	// A read first, so that RebuildVm goes out on a reused keep-alive connection.
	if _, err := c.QuerySites(ctx, provider.QuerySitesRequest{}); err != nil {
		t.Fatal(err)
	}
	_, err := c.RebuildVm(ctx, provider.RebuildVmRequest{RequestID: "rid-r", VmID: "v", ImageID: "i"})
	if !provider.IsUnknownOutcome(err) {
		t.Fatalf("RebuildVm: %v, want an unknown outcome", err)
	}
	n := 0
	for _, s := range f.requests() {
		if provider.Action(s.query.Get("Action")) == provider.ActionRebuildVm {
			n++
			if len(s.body) != 0 {
				t.Errorf("RebuildVm carried a body: %q", s.body)
			}
		}
	}
	if n != 1 {
		t.Fatalf("the server received RebuildVm %d times, want 1", n)
	}
}

// TestReadRetriedWithFreshNonceAfterDrop: when a reused connection drops after the server has seen a
// read, net/http would re-send the very same signed URL, nonce included; a server that remembers
// nonces (as it must: docs/api-readings.md, a fresh SignatureNonce per HTTP attempt) refuses that
// replay with a 403 and the read fails. Every attempt must come from the client's own retry loop,
// freshly signed. (Found by the provider/contract suite: QueryVm + the emulator's drop-after fault
// gave a 403 SignatureNonceUsed.)
func TestReadRetriedWithFreshNonceAfterDrop(t *testing.T) {
	var mu sync.Mutex
	seenNonce := map[string]bool{}
	drops := 0
	f := newFake(t, func(n int, r *http.Request, w http.ResponseWriter) {
		mu.Lock()
		nonce := r.URL.Query().Get("SignatureNonce")
		replay := seenNonce[nonce]
		seenNonce[nonce] = true
		drop := provider.Action(r.URL.Query().Get("Action")) == provider.ActionQueryVm && drops == 0
		if drop {
			drops++
		}
		mu.Unlock()
		switch {
		case replay:
			writeJSON(w, 403, `{"Code":"SignatureNonceUsed","Message":"replay","Data":null}`)
		case drop:
			hijackClose(w)
		case provider.Action(r.URL.Query().Get("Action")) == provider.ActionQueryVm:
			writeJSON(w, 200, `{"Code":"Success","Message":"","Data":{"vmName":"v"}}`)
		default:
			writeJSON(w, 200, `{"Code":"Success","Message":"","Data":[]}`)
		}
	})
	c, _ := newTestClient(t, f.srv.URL, nil)
	ctx := context.Background()
	if _, err := c.QuerySites(ctx, provider.QuerySitesRequest{}); err != nil { // warm a keep-alive connection
		t.Fatal(err)
	}
	d, err := c.QueryVm(ctx, provider.QueryVmRequest{VmID: "v"})
	if err != nil || d.Name != "v" {
		t.Fatalf("QueryVm after a dropped connection: %+v, %v", d, err)
	}
	nonces := map[string]int{}
	for _, s := range f.requests() {
		nonces[s.query.Get("SignatureNonce")]++
	}
	for n, k := range nonces {
		if k > 1 {
			t.Errorf("nonce %s sent %d times", n, k)
		}
	}
}

package gcw

import (
	"context"
	"net/http"
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
		if r.URL.Query().Get("Action") == provider.ActionRebuildVm {
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
		if s.query.Get("Action") == provider.ActionRebuildVm {
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

package contract_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/provider/gcw"
	"github.com/deskfleet/deskfleet/provider/sim"
)

// TestSignatures: the emulator rejects each kind of bad signature with HTTP 403 and the client
// surfaces it as a typed *provider.APIError carrying the HTTP status and the emulator's reason, without
// retrying it; the correctly signed call succeeds. The reference documents no shape for signature
// failures (docs/api-readings.md, "Unknowns"): the 403 + Code reason is the reading recorded there.
func TestSignatures(t *testing.T) {
	cases := []struct {
		name, reason string
		cfg          func(e *env, c *gcw.Config)
		calls        int // calls made: one when the first already fails, two for the nonce case
		code         string
	}{
		{"right", "the configured key, secret, fresh nonce and current timestamp are accepted",
			func(*env, *gcw.Config) {}, 1, ""},
		{"wrong secret", "a signature made with another secret does not match",
			func(_ *env, c *gcw.Config) { c.Secret = "not-the-secret" }, 1, "SignatureDoesNotMatch"},
		{"unknown key", "an AccessKeyId the emulator does not know",
			func(_ *env, c *gcw.Config) { c.AccessKeyID = "nobody" }, 1, "InvalidAccessKeyId"},
		{"stale timestamp", "a Timestamp 20 minutes behind the emulator's clock is outside the window",
			func(e *env, c *gcw.Config) {
				c.Clock = func() time.Time { return e.clock.Now().Add(-20 * time.Minute) }
			},
			1, "InvalidTimestamp"},
		{"reused nonce", "a constant SignatureNonce: the first call passes, the second is a replay",
			func(_ *env, c *gcw.Config) { c.Nonce = func() string { return "1f1e2d3c-0000-4000-8000-000000000001" } },
			2, "SignatureNonceUsed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil, nil)
			cfg := e.cfg
			tc.cfg(e, &cfg)
			c := e.newClient(cfg)
			var err error
			for i := range tc.calls {
				_, err = c.QuerySites(ctx, provider.QuerySitesRequest{})
				if i < tc.calls-1 && err != nil {
					t.Fatalf("%s: call %d failed: %v", tc.reason, i+1, err)
				}
			}
			if got := e.sim.Calls()["QuerySites"]; got != tc.calls {
				t.Errorf("%s: %d calls reached the emulator, want %d (a 403 is not retried)", tc.reason, got, tc.calls)
			}
			// A mutation signed the same way must not change anything.
			_, merr := c.ChangeSubAccountName(ctx, provider.ChangeSubAccountNameRequest{Email: seedAccountEml, Name: "renamed"})
			renamed := e.account(seedAccountEml).Name == "renamed"
			if tc.code == "" {
				if err != nil || merr != nil || !renamed {
					t.Fatalf("%s: %v / %v (renamed %v)", tc.reason, err, merr, renamed)
				}
				return
			}
			ae, ok := provider.AsAPIError(err)
			if !ok {
				t.Fatalf("%s: %T %v, want *provider.APIError", tc.reason, err, err)
			}
			if ae.HTTPStatus != http.StatusForbidden || ae.Code != tc.code || ae.Action != provider.ActionQuerySites {
				t.Fatalf("%s: %+v, want HTTP 403 code %s", tc.reason, ae, tc.code)
			}
			if mae, ok := provider.AsAPIError(merr); !ok || mae.HTTPStatus != http.StatusForbidden || mae.Code != tc.code || renamed {
				t.Fatalf("%s: mutation: %v (renamed %v)", tc.reason, merr, renamed)
			}
			if provider.IsUnknownOutcome(merr) {
				t.Fatalf("%s: a refused signature is not an unknown outcome", tc.reason)
			}
		})
	}
}

// TestSignedSpecialCharacters: GET parameters with a space, '*', '~', '/', '+' and Chinese text are
// signed by the client and verified by the emulator identically (the third signing test vector of
// docs/api-readings.md is the case several vendor SDKs get wrong), and the filter still matches.
func TestSignedSpecialCharacters(t *testing.T) {
	e := newEnv(t, nil, nil)
	const vpcName = "保定-云桌面 默认VPC*~/+"
	vpc := sim.VPC{ID: "vpc-special", SiteID: sim.SiteSuqianA, Name: vpcName, Segment: "192.168.0.0/16",
		Subnets: []sim.Net{{ID: "subnet-special", Name: "s", IPAddress: "192.168.0.0", Gateway: "192.168.0.1", Mask: 16, VlanID: "1999"}}}
	if err := e.sim.AddVPC(vpc); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sim.AddAccount(sim.Account{ID: "acc-plus", Name: "plus", Email: "a+b@x.com"}); err != nil {
		t.Fatal(err)
	}
	r := vmReq("special")
	r.VpcID, r.SubnetNetID, r.VGatewayNetID, r.VGatewayConfID = vpc.ID, "subnet-special", "", ""
	id := e.createVms(r)[0]
	if _, err := e.c.ChangeAccount(ctx, provider.ChangeAccountRequest{VmID: id, AccountID: "acc-plus"}); err != nil {
		t.Fatal(err)
	}
	e.createVm("other")
	vms, err := e.c.QueryVms(ctx, provider.QueryVmsRequest{VpcName: vpcName, Email: "a+b@x.com"})
	if err != nil {
		t.Fatalf("QueryVms with special characters: %v", err)
	}
	if len(vms.VmIDs) != 1 || vms.VmIDs[0] != id {
		t.Fatalf("QueryVms = %v, want [%s]", vms.VmIDs, id)
	}
	if d := e.vm(id); d.VpcName != vpcName || d.AccountEmail != "a+b@x.com" {
		t.Fatalf("desktop = %+v", d)
	}
}

package contract_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/provider/gcw"
	"github.com/deskfleet/deskfleet/provider/sim"
)

const (
	canarySecret = "CANARY-SECRET-5b7c"
	canaryWrong  = "CANARY-WRONG-SECRET-e41a"
)

// TestCanarySecret drives every error path of this suite with a canary secret and debug logging, then
// checks that neither the secret (nor a wrong one tried) nor any Signature the emulator received
// appears in any error text (%v, %+v) or log line.
func TestCanarySecret(t *testing.T) {
	e := newEnv(t, func(o *sim.Options) {
		o.Keys = map[string]string{testAK: canarySecret}
		o.Faults.SlowDelay = 300 * time.Millisecond
	}, func(c *gcw.Config) {
		c.Secret = canarySecret
		c.Timeout = 50 * time.Millisecond
	})
	var errs []error
	keep := func(err error) {
		if err == nil {
			t.Errorf("error path %d succeeded", len(errs))
		}
		errs = append(errs, err)
	}
	vm := e.createVm("canary")

	// Signatures.
	for _, mod := range []func(*gcw.Config){
		func(c *gcw.Config) { c.Secret = canaryWrong },
		func(c *gcw.Config) { c.AccessKeyID = "nobody" },
		func(c *gcw.Config) { c.Clock = func() time.Time { return e.clock.Now().Add(-20 * time.Minute) } },
	} {
		cfg := e.cfg
		mod(&cfg)
		c := e.newClient(cfg)
		_, err := c.QuerySites(ctx, provider.QuerySitesRequest{})
		keep(err)
		_, err = c.ChangeVmName(ctx, provider.ChangeVmNameRequest{VmID: vm, Name: "x"})
		keep(err)
	}
	cfg := e.cfg
	cfg.Nonce = func() string { return "canary-nonce" }
	nc := e.newClient(cfg)
	if _, err := nc.QuerySites(ctx, provider.QuerySitesRequest{}); err != nil {
		t.Fatal(err)
	}
	_, err := nc.QuerySites(ctx, provider.QuerySitesRequest{})
	keep(err)

	// API errors (rules).
	_, err = e.c.RebuildVm(ctx, provider.RebuildVmRequest{VmID: vm, ImageID: sim.ImageWin10})
	keep(err)
	_, err = e.c.QueryVm(ctx, provider.QueryVmRequest{VmID: "missing"})
	keep(err)
	_, err = e.c.CreateSubAccount(ctx, provider.CreateSubAccountRequest{Email: "c@example.com", Name: "c", Remark: strings.Repeat("x", 31)})
	keep(err)

	// Faults: exhaust the retries so that the refusal itself is the error, then the unknown outcomes.
	e.sim.FailNext(provider.ActionQuerySites, sim.Fault5xx, 4)
	_, err = e.c.QuerySites(ctx, provider.QuerySitesRequest{})
	keep(err)
	e.sim.FailNext(provider.ActionChangeVmName, sim.FaultThrottle, 4)
	_, err = e.c.ChangeVmName(ctx, provider.ChangeVmNameRequest{VmID: vm, Name: "y"})
	keep(err)
	e.sim.FailNext(provider.ActionQueryVm, sim.FaultDropBefore, 8)
	_, err = e.c.QueryVm(ctx, provider.QueryVmRequest{VmID: vm})
	keep(err)
	e.sim.ResetCalls()
	for _, k := range []sim.FaultKind{sim.FaultDropBefore, sim.FaultDropAfter} {
		e.sim.FailNext(provider.ActionCreateVm, k, 1)
		_, err = e.c.CreateVm(ctx, vmReq("canary-"+k.String()))
		keep(err)
		e.sim.FailNext(provider.ActionChangeVmName, k, 1)
		_, err = e.c.ChangeVmName(ctx, provider.ChangeVmNameRequest{VmID: vm, Name: "z"})
		keep(err)
	}
	e.power(provider.PowerOff, vm)
	e.sim.FailNext(provider.ActionRebuildVm, sim.FaultDropAfter, 1)
	_, err = e.c.RebuildVm(ctx, provider.RebuildVmRequest{VmID: vm, ImageID: sim.ImageWin10})
	keep(err)
	e.sim.FailNext(provider.ActionQueryVm, sim.FaultSlow, 4)
	_, err = e.c.QueryVm(ctx, provider.QueryVmRequest{VmID: vm})
	keep(err)
	e.sim.FailNext(provider.ActionChangeVmName, sim.FaultSlow, 1)
	_, err = e.c.ChangeVmName(ctx, provider.ChangeVmNameRequest{VmID: vm, Name: "slow"})
	keep(err)
	e.sim.FailNext(provider.ActionCreateVm, sim.FaultTaskFailed, 1)
	resp, err := e.c.CreateVm(ctx, vmReq("canary-doomed"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.wait(resp.TaskID, resp.RequestID)
	keep(err)

	secrets := []string{canarySecret, canaryWrong}
	sigs := e.signatures()
	if len(sigs) < 30 {
		t.Fatalf("only %d signatures captured", len(sigs))
	}
	var needles []string
	for _, s := range append(secrets, sigs...) {
		needles = append(needles, s, url.QueryEscape(s), url.PathEscape(s))
	}
	logs := e.logBuf.String()
	if !strings.Contains(logs, "gcw attempt") {
		t.Fatalf("debug log is empty: the check would prove nothing")
	}
	for i, err := range errs {
		for _, text := range []string{fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err)} {
			for _, n := range needles {
				if strings.Contains(text, n) {
					t.Errorf("error %d leaks %q: %s", i, n, text)
				}
			}
		}
	}
	for _, n := range needles {
		if strings.Contains(logs, n) {
			t.Errorf("debug log leaks %q", n)
		}
	}
	t.Logf("%d error paths, %d signatures, %d bytes of debug log checked", len(errs), len(sigs), len(logs))
}

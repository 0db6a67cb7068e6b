package contract_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/provider/gcw"
	"github.com/deskfleet/deskfleet/provider/sim"
)

// The tests of this file hold the client to the worst cases the emulator takes where the reference
// is silent (docs/emulator.md, "Where the reference is silent"), and the emulator to the reference
// where it is not.

// TestServerErrors: HTTP 500, 502, 503 and 504, each before any work or after the work was done and
// saved. The reference gives a 5xx no meaning: a mutation answered with any of them is an unknown
// outcome after one call, whether the work was done or not; a read is retried and answered.
func TestServerErrors(t *testing.T) {
	cases := []struct {
		name, reason string
		kind         sim.FaultKind
		status       int
		code         string // the envelope's Code, "" for a gateway's HTML page
		after        bool
	}{
		{"500 before", "an internal error in the API's envelope, nothing done", sim.Fault500, 500, "InternalError", false},
		{"502 before", "a gateway's HTML page, nothing done", sim.Fault502, 502, "", false},
		{"503 before", "the API's 503 envelope, nothing done", sim.Fault503, 503, "ServiceUnavailable", false},
		{"504 before", "a gateway's timeout page, nothing done", sim.Fault504, 504, "", false},
		{"500 after", "the work done and saved, then a 500 instead of the answer", sim.Fault500After, 500, "InternalError", true},
		{"502 after", "the work done, then the gateway's 502 page", sim.Fault502After, 502, "", true},
		{"503 after", "the work done, then a 503: a 503 does not prove that nothing was done", sim.Fault503After, 503, "ServiceUnavailable", true},
		{"504 after", "the work done, the gateway gave up waiting", sim.Fault504After, 504, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil, nil)
			id := e.createVm("v")

			e.sim.FailNext(provider.ActionChangeVmName, tc.kind, 1)
			_, err := e.c.ChangeVmName(ctx, provider.ChangeVmNameRequest{VmID: id, Name: "renamed", RequestID: faultRequestID})
			var ue *provider.UnknownOutcomeError
			if !errors.As(err, &ue) || ue.RequestID != faultRequestID {
				t.Fatalf("%s: mutation: %T %v, want an unknown outcome", tc.reason, err, err)
			}
			ae, ok := provider.AsAPIError(err)
			if !ok || ae.HTTPStatus != tc.status || ae.Code != tc.code {
				t.Fatalf("%s: mutation: the unknown outcome carries %+v, want HTTP %d code %q", tc.reason, ae, tc.status, tc.code)
			}
			if n := e.sim.Calls()[provider.ActionChangeVmName]; n != 1 {
				t.Errorf("%s: %d ChangeVmName calls, want 1 (never resent)", tc.reason, n)
			}
			if done := e.vm(id).Name == "renamed"; done != tc.after {
				t.Errorf("%s: work done = %v, want %v", tc.reason, done, tc.after)
			}

			e.sim.FailNext(provider.ActionQueryVm, tc.kind, 1)
			before := e.sim.Calls()[provider.ActionQueryVm]
			if _, err := e.c.QueryVm(ctx, provider.QueryVmRequest{VmID: id}); err != nil {
				t.Fatalf("%s: read: %v, want retried and answered", tc.reason, err)
			}
			if n := e.sim.Calls()[provider.ActionQueryVm] - before; n != 2 {
				t.Errorf("%s: read: %d QueryVm calls, want 2", tc.reason, n)
			}
		})
	}
}

// TestThrottleForms: throttling as HTTP 429 and as an HTTP-200 envelope whose Code is Throttling
// (the reference documents neither). Both say that nothing was done: a mutation is sent again and
// done once; when every attempt is throttled the caller gets the refusal, never an unknown outcome.
func TestThrottleForms(t *testing.T) {
	cases := []struct {
		name, reason string
		kind         sim.FaultKind
		status       int
	}{
		{"429", "HTTP 429 with Retry-After and the error envelope", sim.FaultThrottle, 429},
		{"envelope", "HTTP 200 with {\"Code\":\"Throttling\"}: the refusal is in the envelope only", sim.FaultThrottleEnvelope, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil, func(c *gcw.Config) { c.MaxRetries = 2 })
			id := e.createVm("v")
			e.sim.FailNext(provider.ActionChangeVmName, tc.kind, 1)
			if _, err := e.c.ChangeVmName(ctx, provider.ChangeVmNameRequest{VmID: id, Name: "once"}); err != nil {
				t.Fatalf("%s: throttled once: %v, want sent again and done", tc.reason, err)
			}
			if n := e.sim.Calls()[provider.ActionChangeVmName]; n != 2 || e.vm(id).Name != "once" {
				t.Fatalf("%s: %d calls, name %q; want 2 calls and the rename done", tc.reason, n, e.vm(id).Name)
			}

			e.sim.FailNext(provider.ActionChangeVmName, tc.kind, 3)
			_, err := e.c.ChangeVmName(ctx, provider.ChangeVmNameRequest{VmID: id, Name: "never"})
			ae, ok := provider.AsAPIError(err)
			if !ok || ae.HTTPStatus != tc.status || ae.Code != "Throttling" || provider.IsUnknownOutcome(err) {
				t.Fatalf("%s: throttled on every attempt: %T %v", tc.reason, err, err)
			}
			// A throttle that outlasts the retries is recognised in both forms (HTTP 429, and the
			// Throttling code in an HTTP-200 envelope), so hints and task waits treat it as one.
			if !provider.IsThrottled(err) {
				t.Fatalf("%s: IsThrottled false", tc.reason)
			}
			if n := e.sim.Calls()[provider.ActionChangeVmName]; n != 5 || e.vm(id).Name != "once" {
				t.Fatalf("%s: %d calls in all, name %q; want 2+3 calls and nothing done", tc.reason, n, e.vm(id).Name)
			}

			// The lower-case actions carry the throttle in code/msg.
			e.sim.FailNext(provider.ActionQueryImages, tc.kind, 1)
			if _, err := e.c.QueryImages(ctx, provider.QueryImagesRequest{}); err != nil {
				t.Fatalf("%s: QueryImages throttled once: %v", tc.reason, err)
			}
		})
	}
}

// TestFailedCreates: what a failed CreateVm task leaves. The default keeps the first half running
// and removes the rest; FailedCreateError (and FaultTaskFailedError) leave every desktop in status
// "error": they exist, count against the quota, refuse power and binding, and can be deleted.
func TestFailedCreates(t *testing.T) {
	cases := []struct {
		name, reason string
		faults       sim.Faults
		kind         sim.FaultKind
		wantLeft     int
		wantStatus   provider.Status
	}{
		{"default", "the default (FailedCreateError): every desktop left in error, the worst case",
			sim.Faults{}, sim.FaultTaskFailed, 4, provider.StatusFailed},
		{"half by profile", "Faults.FailedCreate = FailedCreateHalf: the first half kept running, the rest removed",
			sim.Faults{FailedCreate: sim.FailedCreateHalf}, sim.FaultTaskFailed, 2, provider.StatusRunning},
		{"error by profile", "Faults.FailedCreate = FailedCreateError: every desktop left in error",
			sim.Faults{FailedCreate: sim.FailedCreateError}, sim.FaultTaskFailed, 4, provider.StatusFailed},
		{"error by kind", "FaultTaskFailedError, whatever the profile says",
			sim.Faults{}, sim.FaultTaskFailedError, 4, provider.StatusFailed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(o *sim.Options) { o.OnDemandQuota = 5 }, nil)
			e.sim.SetFaults(tc.faults)
			e.sim.FailNext(provider.ActionCreateVm, tc.kind, 1)
			r := vmReq("doomed")
			r.Num = 4
			resp, err := e.c.CreateVm(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			var tf *provider.TaskFailedError
			if _, err := e.wait(resp.TaskID, resp.RequestID); !errors.As(err, &tf) {
				t.Fatalf("%s: %v, want a failed task", tc.reason, err)
			}
			vms, err := e.c.QueryVms(ctx, provider.QueryVmsRequest{})
			if err != nil || len(vms.VmIDs) != tc.wantLeft {
				t.Fatalf("%s: %v desktops left (%v), want %d", tc.reason, vms, err, tc.wantLeft)
			}
			for _, id := range vms.VmIDs {
				if d := e.vm(id); d.Status != tc.wantStatus {
					t.Fatalf("%s: desktop %s status %v (%s), want %v", tc.reason, d.Name, d.Status, d.RawStatus, tc.wantStatus)
				}
			}
			if tc.wantStatus != provider.StatusFailed {
				return
			}
			id := vms.VmIDs[0]
			_, err = e.c.CreateVm(ctx, func() provider.CreateVmRequest { r := vmReq("more"); r.Num = 2; return r }())
			wantCode(t, err, provider.CodeOnDemandQuota, provider.IsQuota)
			_, err = e.c.OperateVm(ctx, provider.OperateVmRequest{Action: provider.PowerOn, VmIDs: []string{id}})
			wantCode(t, err, provider.CodeOperationFailed, provider.IsWrongState)
			_, err = e.c.BindAccounts(ctx, provider.BindAccountsRequest{VmIDs: []string{id}, AccountID: seedAccountID})
			wantCode(t, err, provider.CodeBindFailed, nil)
			del, err := e.c.DeleteVm(ctx, provider.DeleteVmRequest{VmID: id})
			if err != nil {
				t.Fatalf("%s: DeleteVm of a desktop in error: %v", tc.reason, err)
			}
			e.mustWait(del.TaskID, del.RequestID)
			if _, err := e.c.QueryVm(ctx, provider.QueryVmRequest{VmID: id}); !provider.IsNotFound(err) {
				t.Fatalf("%s: the deleted desktop in error: %v", tc.reason, err)
			}
		})
	}
}

// raw sends one request signed as the client would, with the parameters where the case puts them,
// and returns the HTTP status and the decoded envelope.
func (e *env) raw(method, action string, query url.Values, ctype, body string) (int, map[string]any) {
	e.t.Helper()
	params := url.Values{"Action": {action}, "AccessKeyId": {testAK}, "SignatureMethod": {provider.SignatureMethod},
		"SignatureVersion": {provider.SignatureVersion}, "SignatureNonce": {"n-" + time.Now().Format("150405.000000000")},
		"Timestamp": {e.clock.Now().UTC().Format(provider.TimestampLayout)}, "Version": {provider.APIVersion}}
	for k, vs := range query {
		params[k] = append(params[k], vs...)
	}
	params.Set("Signature", provider.Sign(method, params, testSecret))
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+"/gcw/?"+params.Encode(), rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&m); err != nil {
		e.t.Fatalf("%s: body is not JSON: %q", action, b)
	}
	return resp.StatusCode, m
}

// TestStrictRequests: the emulator refuses, with the reference's 10003 (传入参数不符合要求) in an
// HTTP-200 envelope, a request whose method, parameter placement, content type or parameters the
// reference does not allow; a refused mutation does nothing. The real client never sends one (every
// other test of this package passes through the same checks).
func TestStrictRequests(t *testing.T) {
	const js = "application/json"
	q := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	cases := []struct {
		name, reason        string
		method, action      string
		query               func(vm string) url.Values
		ctype               string
		body                func(vm string) string
		wantCode            string
		wantLower, wantNoOp bool
	}{
		{name: "well-formed GET", reason: "control: the query carries a GET action's parameters",
			method: "GET", action: "QueryVm", query: func(vm string) url.Values { return q("vmId", vm) }, wantCode: "Success"},
		{name: "well-formed POST", reason: "control: the JSON body carries a POST action's parameters",
			method: "POST", action: "ChangeVmName", ctype: js,
			body: func(vm string) string { return `{"requestId":"r","vmId":"` + vm + `","name":"ok"}` }, wantCode: "Success"},
		{name: "table spelling of the gateway", reason: "CreateVm lists vGatewayNetId/vGatewayConfId in its table and the lower-case g in its example: both are listed",
			method: "POST", action: "CreateVm", ctype: js, body: func(string) string {
				return `{"requestId":"r","siteId":"` + sim.SiteSuqianA + `","productId":"` + sim.ProductA5000Win + `","name":"t","imageId":"` +
					sim.ImageWin10 + `","qos":"5","vpcId":"` + sim.VPCDefaultSuqianA + `","subnetNetId":"` + subnetSuqianA +
					`","vGatewayNetId":"` + gwTelecomA + `","vGatewayConfId":"` + confTelecom + `"}`
			}, wantCode: "Success"},
		{name: "POST action by GET", reason: "ChangeVmName is a POST",
			method: "GET", action: "ChangeVmName", query: func(vm string) url.Values { return q("requestId", "r", "vmId", vm, "name", "x") },
			wantCode: "10003", wantNoOp: true},
		{name: "GET action by POST", reason: "QueryVm is a GET",
			method: "POST", action: "QueryVm", ctype: js, body: func(vm string) string { return `{"vmId":"` + vm + `"}` }, wantCode: "10003"},
		{name: "RebuildVm by POST", reason: "RebuildVm is a mutation sent as GET",
			method: "POST", action: "RebuildVm", ctype: js, body: func(vm string) string {
				return `{"requestId":"r","vmId":"` + vm + `","imageId":"` + sim.ImageWin10 + `"}`
			},
			wantCode: "10003"},
		{name: "POST parameter in the URL", reason: "a POST's own parameters go in the body; the URL has only the common ones",
			method: "POST", action: "ChangeVmName", query: func(string) url.Values { return q("name", "x") }, ctype: js,
			body: func(vm string) string { return `{"requestId":"r","vmId":"` + vm + `"}` }, wantCode: "10003", wantNoOp: true},
		{name: "POST parameters all in the URL", reason: "an empty body and the parameters in the query",
			method: "POST", action: "ChangeVmName", query: func(vm string) url.Values { return q("requestId", "r", "vmId", vm, "name", "x") },
			ctype: js, wantCode: "10003", wantNoOp: true},
		{name: "GET with a body", reason: "a GET carries its parameters in the query and no body",
			method: "GET", action: "QueryVm", query: func(vm string) url.Values { return q("vmId", vm) }, ctype: js,
			body: func(vm string) string { return `{"vmId":"` + vm + `"}` }, wantCode: "10003"},
		{name: "POST as a form", reason: "the body must be application/json",
			method: "POST", action: "ChangeVmName", ctype: "application/x-www-form-urlencoded",
			body: func(vm string) string { return "requestId=r&vmId=" + vm + "&name=x" }, wantCode: "10003", wantNoOp: true},
		{name: "POST without content type", reason: "a JSON body without Content-Type",
			method: "POST", action: "ChangeVmName",
			body: func(vm string) string { return `{"requestId":"r","vmId":"` + vm + `","name":"x"}` }, wantCode: "10003", wantNoOp: true},
		{name: "unlisted GET parameter", reason: "QueryVm lists vmId only",
			method: "GET", action: "QueryVm", query: func(vm string) url.Values { return q("vmId", vm, "siteId", sim.SiteSuqianA) }, wantCode: "10003"},
		{name: "unlisted POST parameter", reason: "ChangeVmName lists requestId, vmId and name",
			method: "POST", action: "ChangeVmName", ctype: js,
			body: func(vm string) string { return `{"requestId":"r","vmId":"` + vm + `","name":"x","label":"y"}` }, wantCode: "10003", wantNoOp: true},
		{name: "unlisted nested parameter", reason: "createAccountParams items list email, name and remark",
			method: "POST", action: "CreateSubAccounts", ctype: js,
			body: func(string) string {
				return `{"requestId":"r","createAccountParams":[{"email":"p@example.com","name":"p","phone":"1"}]}`
			}, wantCode: "10003"},
		{name: "misspelt parameter", reason: "vmID is not vmId: unlisted, not silently missing",
			method: "GET", action: "QueryVm", query: func(vm string) url.Values { return q("vmID", vm) }, wantCode: "10003"},
		{name: "QueryExpireVms takes none", reason: "QueryExpireVms lists no parameter; its refusal keeps code/msg",
			method: "GET", action: "QueryExpireVms", query: func(string) url.Values { return q("siteId", sim.SiteSuqianA) },
			wantCode: "10003", wantLower: true},
		{name: "repeated parameter", reason: "one value per parameter",
			method: "GET", action: "QueryVm", query: func(vm string) url.Values { return q("vmId", vm, "vmId", vm) }, wantCode: "10003"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil, nil)
			vm := e.createVm("strict")
			var query url.Values
			if tc.query != nil {
				query = tc.query(vm)
			}
			body := ""
			if tc.body != nil {
				body = tc.body(vm)
			}
			status, m := e.raw(tc.method, tc.action, query, tc.ctype, body)
			codeKey, msgKey := "Code", "Message"
			if tc.wantLower {
				codeKey, msgKey = "code", "msg"
			}
			if status != 200 || m[codeKey] != tc.wantCode {
				t.Fatalf("%s: HTTP %d %v, want 200 with %s %s", tc.reason, status, m, codeKey, tc.wantCode)
			}
			if msg, _ := m[msgKey].(string); tc.wantCode == "10003" && !strings.HasPrefix(msg, "传入参数不符合要求") {
				t.Errorf("%s: message %q is not the reference's text for 10003", tc.reason, msg)
			}
			if tc.wantNoOp && e.vm(vm).Name != "strict" {
				t.Errorf("%s: the refused mutation renamed the desktop to %q", tc.reason, e.vm(vm).Name)
			}
		})
	}
}

// TestReferenceCodes: the codes the reference gives where the emulator used to answer another one,
// through the real client.
func TestReferenceCodes(t *testing.T) {
	stopped := func(e *env) string {
		id := e.createVm("r")
		e.power(provider.PowerOff, id)
		return id
	}
	cases := []struct {
		name, reason string
		call         func(e *env) error
		code         string
		is           func(error) bool
	}{
		{"CreateVm with an unknown image", "10006 names the product for CreateVm; an unknown image is a parameter not meeting the requirements (10003)",
			func(e *env) error {
				r := vmReq("x")
				r.ImageID = "0e0f9143-0000-4000-8000-000000000000"
				_, err := e.c.CreateVm(ctx, r)
				return err
			}, provider.CodeBadParameters, provider.IsBadParameters},
		{"RebuildVm with an unknown image", "10006 names the desktop for RebuildVm; the image is a bad parameter (10003)",
			func(e *env) error {
				_, err := e.c.RebuildVm(ctx, provider.RebuildVmRequest{VmID: stopped(e), ImageID: "0e0f9143-0000-4000-8000-000000000000"})
				return err
			}, provider.CodeBadParameters, provider.IsBadParameters},
		{"RebuildVm while starting", "RebuildVm's own code for any state but stopped is 13004, a transition included",
			func(e *env) error {
				id := stopped(e)
				if _, err := e.c.OperateVm(ctx, provider.OperateVmRequest{Action: provider.PowerOn, VmIDs: []string{id}}); err != nil {
					return err
				}
				_, err := e.c.RebuildVm(ctx, provider.RebuildVmRequest{VmID: id, ImageID: sim.ImageWin10})
				return err
			}, provider.CodeRebuildNotStopped, provider.IsWrongState},
		{"GetEipPrice of an unknown line", "no price for that bandwidth conf_id: 获取eip价格失败 (13503)",
			func(e *env) error {
				_, err := e.c.GetEipPrice(ctx, provider.GetEipPriceRequest{SiteID: sim.SiteSuqianA, Size: 1, BandwidthConfID: "99999", QosMbps: 5})
				return err
			}, provider.CodeEipPriceFailed, nil},
		{"GetEipPrice at an unknown site", "参数错误,无对应站点信息 (10006)",
			func(e *env) error {
				_, err := e.c.GetEipPrice(ctx, provider.GetEipPriceRequest{SiteID: "nowhere", Size: 1, BandwidthConfID: confTelecom, QosMbps: 5})
				return err
			}, provider.CodeNotFound, provider.IsNotFound},
		{"CreateVm without a gateway on a VPC with gateways", "the reference requires vGatewayNetId/vGatewayConfId; only a VPC without any (the API's later versions) goes without",
			func(e *env) error {
				r := vmReq("x")
				r.VGatewayNetID, r.VGatewayConfID = "", ""
				_, err := e.c.CreateVm(ctx, r)
				return err
			}, provider.CodeBadParameters, provider.IsBadParameters},
		{"CreateVm with a gateway on a VPC without any", "宿迁B's default net has no gateway: a gateway given there fails the network check",
			func(e *env) error {
				r := vmReq("x")
				r.SiteID, r.VpcID, r.SubnetNetID = sim.SiteSuqianB, sim.VPCDefaultSuqianB, subnetSuqianB
				_, err := e.c.CreateVm(ctx, r)
				return err
			}, provider.CodeNetworkCheckFailed, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil, nil)
			wantCode(t, tc.call(e), tc.code, tc.is)
		})
	}

	t.Run("accepted", func(t *testing.T) {
		for _, tc := range []struct {
			reason string
			req    func() provider.CreateVmRequest
			n      int
		}{
			{"a VPC without gateways goes without gateway parameters", func() provider.CreateVmRequest {
				r := vmReq("b")
				r.SiteID, r.VpcID, r.SubnetNetID, r.VGatewayNetID, r.VGatewayConfID = sim.SiteSuqianB, sim.VPCDefaultSuqianB, subnetSuqianB, "", ""
				return r
			}, 1},
			{"num over 100: the reference states no limit (the spec allows 1,000 per group); only quotas and capacity bound it", func() provider.CreateVmRequest {
				r := vmReq("many")
				r.Num = 150
				return r
			}, 150},
		} {
			e := newEnv(t, nil, nil)
			if ids := e.createVms(tc.req()); len(ids) != tc.n {
				t.Errorf("%s: %d desktops, want %d", tc.reason, len(ids), tc.n)
			}
		}
	})
}

// TestBillingOnBusyDesktops: UpdateOrder and RenewalOrder on a desktop in a transition or in error
// (the reference is silent): a partial success, the busy desktop in failedVmIds with a failedMsg and
// its billing unchanged, the others converted or renewed.
func TestBillingOnBusyDesktops(t *testing.T) {
	cases := []struct {
		name, reason string
		monthly      bool
		upset        func(e *env, id string)
		order        func(e *env, ids []string) (*provider.OrderResponse, error)
	}{
		{"UpdateOrder while stopping", "a desktop in a transition is not converted", false,
			func(e *env, id string) {
				if _, err := e.c.OperateVm(ctx, provider.OperateVmRequest{Action: provider.PowerOff, VmIDs: []string{id}}); err != nil {
					t.Fatal(err)
				}
			},
			func(e *env, ids []string) (*provider.OrderResponse, error) {
				return e.c.UpdateOrder(ctx, provider.UpdateOrderRequest{VmIDs: ids})
			}},
		{"UpdateOrder in error", "a desktop in error is not converted", false,
			func(e *env, id string) { _ = e.sim.ConsoleSetStatus(id, "error") },
			func(e *env, ids []string) (*provider.OrderResponse, error) {
				return e.c.UpdateOrder(ctx, provider.UpdateOrderRequest{VmIDs: ids})
			}},
		{"RenewalOrder while rebooting", "a desktop in a transition is not renewed", true,
			func(e *env, id string) {
				if _, err := e.c.OperateVm(ctx, provider.OperateVmRequest{Action: provider.PowerReboot, VmIDs: []string{id}}); err != nil {
					t.Fatal(err)
				}
			},
			func(e *env, ids []string) (*provider.OrderResponse, error) {
				return e.c.RenewalOrder(ctx, provider.RenewalOrderRequest{VmIDs: ids, Duration: 2})
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil, nil)
			req := vmReq("b")
			if tc.monthly {
				req = monthlyReq("b")
			}
			req.Num = 2
			ids := e.createVms(req)
			before := e.vm(ids[1])
			tc.upset(e, ids[1])
			r, err := tc.order(e, ids)
			if err != nil {
				t.Fatalf("%s: %v, want a partial success", tc.reason, err)
			}
			if !slices.Equal(r.SuccessVmIDs, ids[:1]) || !slices.Equal(r.FailedVmIDs, ids[1:]) || r.FailedMsg == "" {
				t.Fatalf("%s: %+v", tc.reason, r)
			}
			after := e.vm(ids[1])
			if after.BillMethod != before.BillMethod || !after.ExpireTime.Time.Equal(before.ExpireTime.Time) {
				t.Errorf("%s: the failed desktop's billing changed: %v %v -> %v %v", tc.reason,
					before.BillMethod, before.ExpireTime, after.BillMethod, after.ExpireTime)
			}
		})
	}
}

// TestExpiredDesktops: a monthly desktop past its term without auto-renewal reads asMonthExpired
// (QueryVm and QueryExpireVms), and the rules judge that status, not the one it had before: stopped
// before its expiry, it can no longer be powered on, rebuilt or unbound until it is renewed.
func TestExpiredDesktops(t *testing.T) {
	e := newEnv(t, nil, nil)
	id := e.createVms(monthlyReq("exp"))[0]
	if _, err := e.c.BindAccounts(ctx, provider.BindAccountsRequest{VmIDs: []string{id}, AccountID: seedAccountID}); err != nil {
		t.Fatal(err)
	}
	e.power(provider.PowerOff, id)
	e.clock.Advance(40 * 24 * time.Hour)
	if d := e.vm(id); d.Status != provider.StatusExpired || d.RawStatus != "asMonthExpired" {
		t.Fatalf("expired desktop reads %v (%s)", d.Status, d.RawStatus)
	}
	exp, err := e.c.QueryExpireVms(ctx, provider.QueryExpireVmsRequest{})
	if err != nil || len(exp) != 1 || exp[0].Name != "exp" || exp[0].Status != provider.StatusExpired {
		t.Fatalf("QueryExpireVms: %+v %v", exp, err)
	}
	refused := []struct {
		reason string
		code   string
		call   func() error
	}{
		{"an expired desktop is not stopped: no power on (13002)", provider.CodeOperationFailed, func() error {
			_, err := e.c.OperateVm(ctx, provider.OperateVmRequest{Action: provider.PowerOn, VmIDs: []string{id}})
			return err
		}},
		{"no rebuild (13004)", provider.CodeRebuildNotStopped, func() error {
			_, err := e.c.RebuildVm(ctx, provider.RebuildVmRequest{VmID: id, ImageID: sim.ImageWin10})
			return err
		}},
		{"no unbinding (13012)", provider.CodeUnbindNotStopped, func() error {
			_, err := e.c.UnbindAccounts(ctx, provider.UnbindAccountsRequest{VmIDs: []string{id}})
			return err
		}},
	}
	for _, r := range refused {
		if err := r.call(); !provider.IsWrongState(err) {
			t.Errorf("%s: %v", r.reason, err)
		} else {
			wantCode(t, err, r.code, provider.IsWrongState)
		}
	}
	r, err := e.c.RenewalOrder(ctx, provider.RenewalOrderRequest{VmIDs: []string{id}})
	if err != nil || !slices.Equal(r.SuccessVmIDs, []string{id}) {
		t.Fatalf("renewing an expired desktop: %+v %v", r, err)
	}
	if d := e.vm(id); d.Status != provider.StatusStopped {
		t.Fatalf("renewed desktop reads %v (%s), want stopped again", d.Status, d.RawStatus)
	}
	e.power(provider.PowerOn, id)
}

// TestQuotas: a test world has quotas by default (sim.DefaultOnDemandQuota per-minute and
// sim.DefaultMonthlyQuota monthly desktops, room for the project's largest fleets), counted over
// live desktops; a negative quota is unlimited.
func TestQuotas(t *testing.T) {
	many := func(name string, n int, monthly bool) provider.CreateVmRequest {
		r := vmReq(name)
		if monthly {
			r = monthlyReq(name)
		}
		r.Num = n
		return r
	}
	cases := []struct {
		name, reason string
		simOpt       func(*sim.Options)
		fill         []provider.CreateVmRequest
		over         provider.CreateVmRequest
		code         string
	}{
		{"default per-minute", "the default per-minute quota is reached and refused with 12502", nil,
			[]provider.CreateVmRequest{many("a", 1000, false), many("b", sim.DefaultOnDemandQuota-1000, false)}, many("c", 1, false), provider.CodeOnDemandQuota},
		{"default monthly", "the default monthly quota is reached and refused with 12501", nil,
			[]provider.CreateVmRequest{many("m", sim.DefaultMonthlyQuota, true)}, many("n", 1, true), provider.CodeMonthlyQuota},
		{"unlimited", "a negative quota is unlimited", func(o *sim.Options) { o.OnDemandQuota = -1 },
			[]provider.CreateVmRequest{many("a", 1000, false), many("b", sim.DefaultOnDemandQuota-1000, false)}, many("c", 1, false), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.simOpt, nil)
			for _, r := range tc.fill {
				if _, err := e.c.CreateVm(ctx, r); err != nil {
					t.Fatalf("%s: filling: %v", tc.reason, err)
				}
			}
			_, err := e.c.CreateVm(ctx, tc.over)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("%s: %v", tc.reason, err)
				}
				return
			}
			wantCode(t, err, tc.code, provider.IsQuota)
		})
	}
}

// TestNetsWithoutGateways: by default CreateDefaultNet makes a subnet and two gateways (the
// reference's example); with Options.NetsWithoutGateways (the API's later versions) a subnet only,
// and desktops go on it without gateway parameters and without EIP.
func TestNetsWithoutGateways(t *testing.T) {
	for _, tc := range []struct {
		reason   string
		without  bool
		gateways int
	}{
		{"default: the reference's example, a 电信 and a 移动 gateway", false, 2},
		{"NetsWithoutGateways: subnet only", true, 0},
	} {
		e := newEnv(t, func(o *sim.Options) { o.NetsWithoutGateways = tc.without }, nil)
		resp, err := e.c.CreateDefaultNet(ctx, provider.CreateDefaultNetRequest{SiteID: sim.SiteXiangyang})
		if err != nil {
			t.Fatal(err)
		}
		e.mustWait(resp.TaskID, resp.RequestID)
		n, err := e.c.GetDefaultNet(ctx, provider.GetDefaultNetRequest{SiteID: sim.SiteXiangyang})
		if err != nil || n == nil || len(n.Subnets) != 1 || len(n.VGateways) != tc.gateways {
			t.Fatalf("%s: %+v %v", tc.reason, n, err)
		}
		if !tc.without {
			continue
		}
		r := provider.CreateVmRequest{SiteID: sim.SiteXiangyang, ProductID: sim.ProductA5000Linux, ImageID: sim.ImageUbuntu, Name: "nogw",
			QosMbps: 5, VpcID: n.VpcID, SubnetNetID: n.Subnets[0].ID}
		ids := e.createVms(r)
		if d := e.vm(ids[0]); d.EIP != "" || d.Status != provider.StatusRunning {
			t.Fatalf("%s: desktop %+v", tc.reason, d)
		}
	}
}

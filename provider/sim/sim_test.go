package sim

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider"
)

func TestSignature(t *testing.T) {
	tests := []struct {
		name       string
		reason     string
		prep       func(e *env)
		wantStatus int
		wantCode   string
	}{
		{"valid", "a correctly signed request passes", func(e *env) {}, 200, "Success"},
		{"wrong-signature", "a signature made with another secret", func(e *env) { e.sk = "wrong" }, 403, "SignatureDoesNotMatch"},
		{"unknown-key", "an AccessKeyId the emulator does not know", func(e *env) { e.ak, e.sk = "nobody", testSK }, 403, "InvalidAccessKeyId"},
		{"old-timestamp", "a timestamp 20 minutes old is outside the 15-minute window",
			func(e *env) { e.ts = e.clock.Now().Add(-20 * time.Minute).UTC().Format("2006-01-02T15:04:05Z") }, 403, "InvalidTimestamp"},
		{"future-timestamp", "a timestamp 20 minutes ahead is refused too",
			func(e *env) { e.ts = e.clock.Now().Add(20 * time.Minute).UTC().Format("2006-01-02T15:04:05Z") }, 403, "InvalidTimestamp"},
		{"reused-nonce", "a nonce seen within the window",
			func(e *env) {
				e.nonceOverride = "same"
				e.must(e.get("QuerySites", nil))
				e.nonceOverride = "same"
			}, 403, "SignatureNonceUsed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			tc.prep(e)
			r := e.get("QuerySites", nil)
			if r.status != tc.wantStatus || r.code() != tc.wantCode {
				t.Errorf("%s: got %d %v", tc.reason, r.status, r.raw)
			}
		})
	}
	t.Run("nonce-expires", func(t *testing.T) {
		e := newEnv(t, Options{})
		e.nonceOverride = "n1"
		e.must(e.get("QuerySites", nil))
		e.clock.Advance(16 * time.Minute)
		e.nonceOverride = "n1"
		e.must(e.get("QuerySites", nil)) // reason: a nonce is only remembered for the window
	})
	t.Run("unsigned-without-keys", func(t *testing.T) {
		s, err := New(Options{Clock: NewManualClock(t0)})
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/gcw/", "/gcw", "/"} {
			rec := serve(s, "GET", path+"?Action=QuerySites", "", "")
			if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"Code":"Success"`) {
				t.Errorf("unsigned request at %s (no keys configured): %d %s", path, rec.Code, rec.Body)
			}
		}
	})
}

func TestWire(t *testing.T) {
	s, _ := New(Options{Clock: NewManualClock(t0)})
	tests := []struct {
		name, reason, method, target, ctype, body string
		wantStatus                                int
		wantBody                                  string
	}{
		{"upper", "most actions use Code/Message/Data", "GET", "/gcw/?Action=QuerySites", "", "", 200, `"Code":"Success","Data":[`},
		{"lower-images", "QueryImages uses code/msg/data", "GET", "/gcw/?Action=QueryImages", "", "", 200, `"code":"Success","data":[`},
		{"lower-expire", "QueryExpireVms uses code/msg/data", "GET", "/gcw/?Action=QueryExpireVms", "", "", 200, `"code":"Success","data":[],"msg":null,"requestId":null,"status":0`},
		{"lower-error", "an error of QueryImages keeps its spelling", "GET", "/gcw/?Action=QueryImages&productId=nope", "", "", 200, `"code":"10006"`},
		{"error", "an error is HTTP 200 with the code and the Chinese text", "GET", "/gcw/?Action=QueryVm&vmId=nope", "", "", 200, `"Code":"10006","Data":null,"Message":"参数错误，对应云桌面不存在"`},
		{"wrong-method", "a GET action called with POST: the reference's 10003", "POST", "/gcw/?Action=QueryVm", "application/json", `{"vmId":"x"}`, 200, `"Code":"10003"`},
		{"rebuild-post", "RebuildVm is a GET", "POST", "/gcw/?Action=RebuildVm", "application/json", `{}`, 200, `"Code":"10003"`},
		{"lower-wrong-method", "a refusal of QueryImages keeps its spelling", "POST", "/gcw/?Action=QueryImages", "application/json", `{}`, 200, `"code":"10003"`},
		{"post-param-in-url", "a POST action's parameters go in the body, only common ones in the URL", "POST", "/gcw/?Action=ChangeVmName&vmId=x", "application/json", `{"requestId":"r","name":"n"}`, 200, `"Code":"10003"`},
		{"get-with-body", "a GET carries no body", "GET", "/gcw/?Action=QueryVm&vmId=x", "application/json", `{"vmId":"x"}`, 200, `"Code":"10003"`},
		{"unlisted-get", "a parameter the reference does not list", "GET", "/gcw/?Action=QuerySites&region=x", "", "", 200, `"Code":"10003"`},
		{"unlisted-post", "a body parameter the reference does not list", "POST", "/gcw/?Action=ChangeVmName", "application/json", `{"requestId":"r","vmId":"x","name":"n","force":"1"}`, 200, `"Code":"10003"`},
		{"repeated", "a parameter given twice", "GET", "/gcw/?Action=QuerySites&siteId=a&siteId=b", "", "", 200, `"Code":"10003"`},
		{"trailing", "a body with more than one JSON value", "POST", "/gcw/?Action=ChangeVmName", "application/json", `{"requestId":"r"} {}`, 200, `"Code":"10003"`},
		{"unknown-action", "an action the API does not have", "GET", "/gcw/?Action=Nope", "", "", 400, `"Code":"InvalidAction"`},
		{"no-json", "a POST body must be JSON", "POST", "/gcw/?Action=ChangeVmName", "text/plain", `vmId=x`, 200, `"Code":"10003"`},
		{"array-not-string", "vmIds elements must be strings", "POST", "/gcw/?Action=UpdateVmLabels", "application/json", `{"requestId":"r","vmIds":[1],"label":"x"}`, 200, `"Code":"10003"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(s, tc.method, tc.target, tc.ctype, tc.body)
			if rec.Code != tc.wantStatus || !strings.Contains(rec.Body.String(), tc.wantBody) {
				t.Errorf("%s: got %d %s, want %d containing %s", tc.reason, rec.Code, rec.Body, tc.wantStatus, tc.wantBody)
			}
		})
	}
}

func TestCreateVmNaming(t *testing.T) {
	tests := []struct {
		name, reason string
		hostNo       string
		want         []string
	}{
		{"default", "first desktop bare, then _001, _002 (the reference's example)", "", []string{"测试", "测试_001", "测试_002"}},
		{"hostno-5", "hostNo numbers the second desktop", "5", []string{"测试", "测试_005", "测试_006"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			extra := map[string]any{}
			if tc.hostNo != "" {
				extra["hostNo"] = tc.hostNo
			}
			ids := e.createVms("测试", 3, extra)
			for i, id := range ids {
				r := e.must(e.get("QueryVm", map[string]string{"vmId": id}))
				if r.obj()["vmName"] != tc.want[i] {
					t.Errorf("%s: desktop %d named %v, want %s", tc.reason, i, r.obj()["vmName"], tc.want[i])
				}
			}
		})
	}
}

func TestTaskLifecycle(t *testing.T) {
	e := newEnv(t, Options{TaskDuration: 30 * time.Second, TaskDurations: map[provider.Action]time.Duration{"DeleteVm": 2 * time.Minute}})
	body := map[string]any{"requestId": "req-1", "siteId": SiteSuqianB, "productId": ProductT4Win, "name": "life", "imageId": ImageWin10,
		"qos": "5", "vpcId": VPCDefaultSuqianB, "subnetNetId": "b36b43a8-e706-11ec-8171-32f9a7e748fc"}
	r := e.must(e.post("CreateVm", body))
	task, vm := r.obj()["taskId"].(string), r.obj()["vmIds"].([]any)[0].(string)
	status := func() string {
		return e.must(e.get("QueryVm", map[string]string{"vmId": vm})).obj()["status"].(string)
	}
	taskStatus := func() map[string]any {
		return e.must(e.get("QueryTask", map[string]string{"taskId": task, "requestId": "req-1"})).obj()
	}
	if taskStatus()["status"] != "Running" || status() != "configuring" {
		t.Fatalf("a new task runs and the desktop is configuring")
	}
	if r := e.post("DeleteVm", map[string]any{"requestId": "d", "vmId": vm}); r.code() != "13002" {
		t.Errorf("a configuring desktop refuses deletion with 13002: %v", r.raw)
	}
	e.clock.Advance(29 * time.Second)
	if taskStatus()["status"] != "Running" {
		t.Errorf("still running 1 s before its deadline")
	}
	e.clock.Advance(time.Second)
	if taskStatus()["status"] != "Completed" || status() != "using" {
		t.Errorf("completed at its deadline, desktop running (gateway-less network works)")
	}
	if q := e.must(e.get("QueryVm", map[string]string{"vmId": vm})).obj(); q["eip"] != "" || q["publicIp"] != "" {
		t.Errorf("a desktop without gateway has no EIP: %v", q)
	}
	e.must(e.post("OperateVm", map[string]any{"requestId": "req-2", "action": "off", "vmIds": []any{vm}}))
	if status() != "stoping" {
		t.Errorf("power off passes through stoping")
	}
	e.clock.Advance(30 * time.Second)
	if status() != "stop" {
		t.Errorf("then stop")
	}
	e.sim.FailNext("OperateVm", FaultTaskFailed, 1)
	r = e.must(e.post("OperateVm", map[string]any{"requestId": "req-3", "action": "on", "vmIds": []any{vm}}))
	task = r.obj()["taskId"].(string)
	e.clock.Advance(30 * time.Second)
	ts := e.must(e.get("QueryTask", map[string]string{"taskId": task, "requestId": "req-3"})).obj()
	if ts["status"] != "Failed" || ts["failReason"] == "" || status() != "stop" {
		t.Errorf("a failed task says why and leaves the desktop as it was: %v %s", ts, status())
	}
	e.must(e.post("DeleteVm", map[string]any{"requestId": "req-4", "vmId": vm}))
	e.clock.Advance(time.Minute)
	if status() != "deleteing" {
		t.Errorf("per-action duration: DeleteVm still running after 1 min")
	}
	e.clock.Advance(time.Minute)
	if r := e.get("QueryVm", map[string]string{"vmId": vm}); r.code() != "10006" {
		t.Errorf("deleted desktop is gone: %v", r.raw)
	}

	// Sub-accounts: creating, then create.
	e.must(e.post("CreateSubAccount", map[string]any{"requestId": "r", "email": "n@x.com", "name": "n"}))
	if a, _ := e.sim.AccountByEmail("n@x.com"); a.Status != AccountCreating {
		t.Errorf("new account is creating: %+v", a)
	}
	e.clock.Advance(30 * time.Second)
	if a, _ := e.sim.AccountByEmail("n@x.com"); a.Status != AccountCreated {
		t.Errorf("then create: %+v", a)
	}
}

func TestFailedCreateIsPartial(t *testing.T) {
	e := newEnv(t, Options{})
	e.sim.SetFaults(Faults{FailedCreate: FailedCreateHalf})
	e.sim.FailNext("CreateVm", FaultTaskFailed, 1)
	ids := e.createVms("f", 4, nil)
	var kept int
	for _, id := range ids {
		if _, ok := e.sim.Desktop(id); ok {
			kept++
		}
	}
	if kept != 2 {
		t.Errorf("a failed CreateVm of 4 keeps the first 2, kept %d", kept)
	}
}

// outcome describes what a client saw, for comparing fault sequences.
func outcome(r result) string {
	if r.err != nil {
		return "drop"
	}
	return fmt.Sprintf("%d/%s", r.status, r.code())
}

func TestFaultDeterminism(t *testing.T) {
	faults := Faults{HTTP5xx: 0.1, Throttle: 0.1, DropBefore: 0.05, DropAfter: 0.05, Slow: 0.02, SlowDelay: time.Millisecond, TaskFailed: 0.2}
	run := func(seed uint64) []string {
		e := newEnv(t, Options{Seed: seed, Faults: faults, TaskDuration: time.Second})
		var seq []string
		for i := range 60 {
			if i%3 == 0 {
				r := e.post("CreateSubAccount", map[string]any{"requestId": "r", "email": fmt.Sprintf("u%d@x.com", i), "name": "u"})
				seq = append(seq, outcome(r))
			} else {
				seq = append(seq, outcome(e.get("QuerySites", nil)))
			}
		}
		e.clock.Advance(time.Minute)
		for _, a := range e.sim.Accounts() {
			seq = append(seq, a.Email+"="+a.Status)
		}
		return seq
	}
	a, b, c := run(7), run(7), run(8)
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Errorf("same seed, same requests: different faults\n%v\n%v", a, b)
	}
	if strings.Join(a, ",") == strings.Join(c, ",") {
		t.Errorf("different seeds gave the same 60 outcomes")
	}
	kinds := map[string]bool{}
	for _, o := range a {
		kinds[o] = true
	}
	for _, k := range []string{"503/ServiceUnavailable", "429/Throttling", "200/Throttling", "drop", "200/Success"} {
		if !kinds[k] {
			t.Errorf("seed 7 produced no %s in 60 requests: %v", k, a)
		}
	}
}

func TestTargetedFaults(t *testing.T) {
	tests := []struct {
		name     string
		reason   string
		kind     FaultKind
		want     string
		accounts int
	}{
		{"5xx", "503 before anything is done", Fault5xx, "503/ServiceUnavailable", 1},
		{"throttle", "429, nothing done", FaultThrottle, "429/Throttling", 1},
		{"drop-before", "connection closed, nothing done", FaultDropBefore, "drop", 1},
		{"drop-after", "connection closed after the work is done", FaultDropAfter, "drop", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			e.sim.FailNext("CreateSubAccount", tc.kind, 1)
			r := e.post("CreateSubAccount", map[string]any{"requestId": "r", "email": "d@x.com", "name": "d"})
			if outcome(r) != tc.want || len(e.sim.Accounts()) != tc.accounts {
				t.Errorf("%s: got %s with %d accounts", tc.reason, outcome(r), len(e.sim.Accounts()))
			}
			if e.sim.Calls()["CreateSubAccount"] != 1 || e.sim.MutatingCalls() != 1 {
				t.Errorf("faulted calls are counted: %v", e.sim.Calls())
			}
			e.must(e.post("ChangeSubAccountRemark", map[string]any{"requestId": "r", "emails": []any{"17716313367@163.com"}, "remark": "ok"}))
		})
	}
}

func TestOutOfBand(t *testing.T) {
	e := newEnv(t, Options{})
	vm := e.createVms("oob", 2, nil)
	const acc = "7e7ba91e-4357-470a-9609-ce60d9d7e38f"
	steps := []struct {
		reason string
		do     func() error
		check  func(q map[string]any) bool
	}{
		{"rename", func() error { return e.sim.ConsoleRename(vm[0], "新名") }, func(q map[string]any) bool { return q["vmName"] == "新名" }},
		{"relabel", func() error { return e.sim.ConsoleSetLabel(vm[0], "lbl") }, func(q map[string]any) bool { return q["label"] == "lbl" }},
		{"power off", func() error { return e.sim.ConsolePower(vm[0], false) }, func(q map[string]any) bool { return q["status"] == "stop" }},
		{"bind", func() error { return e.sim.ConsoleBind(vm[0], acc) }, func(q map[string]any) bool { return q["accountName"] == "miao123" }},
		{"unbind", func() error { return e.sim.ConsoleBind(vm[0], "") }, func(q map[string]any) bool { return q["accountName"] == "" }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatal(err)
		}
		if q := e.must(e.get("QueryVm", map[string]string{"vmId": vm[0]})).obj(); !s.check(q) {
			t.Errorf("%s: %v", s.reason, q)
		}
	}
	if err := e.sim.ConsoleDelete(vm[1]); err != nil {
		t.Fatal(err)
	}
	id, _ := e.sim.AddDesktop(Desktop{Name: "unmanaged", SiteID: SiteSuqianA, ProductID: ProductA5000Win, VPCID: VPCDefaultSuqianA})
	r := e.must(e.get("QueryVms", nil))
	ids := r.obj()["vmIds"].([]any)
	if len(ids) != 2 || ids[0] != vm[0] || ids[1] != id {
		t.Errorf("after console delete and an unmanaged add: %v", ids)
	}
	if e.sim.MutatingCalls() != 1 {
		t.Errorf("console changes are not API calls: %v", e.sim.Calls())
	}
	e.sim.ResetCalls()
	if len(e.sim.Calls()) != 0 {
		t.Errorf("ResetCalls")
	}
}

func TestPersistence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cloud.json")
	clock := NewManualClock(t0)
	e := newEnv(t, Options{DataFile: file, Clock: clock, Seed: 3})
	body := map[string]any{"requestId": "req-p", "siteId": SiteSuqianA, "productId": ProductA5000Win, "name": "keep", "imageId": ImageWin10,
		"qos": "5", "vpcId": VPCDefaultSuqianA, "subnetNetId": "73d2c7ec-cdcb-11ec-a318-ee97882ecf7d",
		"vgatewayNetId": "80587138-cdcb-11ec-a318-ee97882ecf7d", "vgatewayConfId": "10298"}
	r := e.must(e.post("CreateVm", body))
	task, vm := r.obj()["taskId"].(string), r.obj()["vmIds"].([]any)[0].(string)
	if err := e.sim.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(file)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("data file mode: %v %v", st, err)
	}

	// A second process: same file, the task started by the first one completes for it.
	e2 := newEnv(t, Options{DataFile: file, Clock: clock, Seed: 3})
	e2.nonce = e.nonce // the nonces e used are remembered in the file and would be refused
	if ts := e2.must(e2.get("QueryTask", map[string]string{"taskId": task, "requestId": "req-p"})).obj(); ts["status"] != "Running" {
		t.Errorf("task still running after reload: %v", ts)
	}
	clock.Advance(time.Minute)
	if ts := e2.must(e2.get("QueryTask", map[string]string{"taskId": task, "requestId": "req-p"})).obj(); ts["status"] != "Completed" {
		t.Errorf("task completes after reload: %v", ts)
	}
	if q := e2.must(e2.get("QueryVm", map[string]string{"vmId": vm})).obj(); q["vmName"] != "keep" || q["status"] != "using" {
		t.Errorf("desktop after reload: %v", q)
	}
	// Ids continue the seeded sequence rather than restarting it.
	r = e2.must(e2.post("CreateVm", body))
	if r.obj()["vmIds"].([]any)[0] == vm {
		t.Errorf("id generator restarted after reload")
	}
}

func TestScale(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 desktops")
	}
	e := newEnv(t, Options{})
	const n = 10000
	for i := range n {
		if _, err := e.sim.AddDesktop(Desktop{Name: fmt.Sprintf("d%05d", i), SiteID: SiteSuqianA, ProductID: ProductA5000Win,
			VPCID: VPCDefaultSuqianA, Monthly: i%2 == 0, ExpireTime: t0.AddDate(1, 0, 0)}); err != nil {
			t.Fatal(err)
		}
	}
	r := e.must(e.get("QueryVms", nil))
	ids := r.obj()["vmIds"].([]any)
	if len(ids) != n {
		t.Fatalf("QueryVms returned %d", len(ids))
	}
	if r := e.must(e.get("QueryVms", map[string]string{"billMethod": "1"})); len(r.obj()["vmIds"].([]any)) != n/2 {
		t.Errorf("billMethod filter")
	}
	for _, i := range []int{0, n / 2, n - 1} {
		q := e.must(e.get("QueryVm", map[string]string{"vmId": ids[i].(string)})).obj()
		if q["vmName"] != fmt.Sprintf("d%05d", i) {
			t.Errorf("QueryVm %d: %v", i, q)
		}
	}
	for i := 0; i < n; i += 2 {
		_ = e.sim.ConsoleDelete(ids[i].(string))
	}
	if r := e.must(e.get("QueryVms", nil)); len(r.obj()["vmIds"].([]any)) != n/2 {
		t.Errorf("after deleting half")
	}
}

func serve(s *Sim, method, target, ctype, body string) *httptest.ResponseRecorder {
	req, _ := http.NewRequest(method, "http://sim"+target, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

func TestGatewaySpellings(t *testing.T) {
	tests := []struct {
		name, reason string
		extra        map[string]any
		wantEIP      string
	}{
		{"table", "the table's vGatewayNetId/vGatewayConfId", map[string]any{"vgatewayNetId": nil, "vgatewayConfId": nil,
			"vGatewayNetId": "8054ab84-cdcb-11ec-a318-ee97882ecf7d", "vGatewayConfId": "10289"}, "电信:"},
		{"example", "the example's vgatewayNetId/vgatewayConfId", nil, "移动:"},
		{"none-gateway-less", "no gateway on a VPC that has none (宿迁B): the API's later versions", map[string]any{"vgatewayNetId": nil, "vgatewayConfId": nil,
			"siteId": SiteSuqianB, "vpcId": VPCDefaultSuqianB, "subnetNetId": "b36b43a8-e706-11ec-8171-32f9a7e748fc"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			extra := map[string]any{}
			for k, v := range tc.extra {
				if v != nil {
					extra[k] = v
				}
			}
			body := map[string]any{"requestId": "r", "siteId": SiteSuqianA, "productId": ProductA5000Win, "name": "g", "imageId": ImageWin10,
				"qos": "5", "vpcId": VPCDefaultSuqianA, "subnetNetId": "73d2c7ec-cdcb-11ec-a318-ee97882ecf7d"}
			if tc.name == "example" {
				body["vgatewayNetId"], body["vgatewayConfId"] = "80587138-cdcb-11ec-a318-ee97882ecf7d", "10298"
			}
			for k, v := range extra {
				body[k] = v
			}
			r := e.must(e.post("CreateVm", body))
			q := e.must(e.get("QueryVm", map[string]string{"vmId": r.obj()["vmIds"].([]any)[0].(string)})).obj()
			eip := q["eip"].(string)
			if (tc.wantEIP == "" && eip != "") || !strings.HasPrefix(eip, tc.wantEIP) {
				t.Errorf("%s: eip %q", tc.reason, eip)
			}
		})
	}
}

func TestConcurrentClients(t *testing.T) {
	e := newEnv(t, Options{Keys: map[string]string{}})
	vm := e.createVms("c", 4, nil)
	done := make(chan struct{})
	for w := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 20 {
				id := vm[(w+i)%len(vm)]
				serve(e.sim, "GET", "/gcw/?Action=QueryVm&vmId="+id, "", "")
				serve(e.sim, "POST", "/gcw/?Action=UpdateVmLabels", "application/json",
					fmt.Sprintf(`{"requestId":"r","vmIds":[%q],"label":"w%d"}`, id, w))
				e.sim.Desktops()
			}
		}()
	}
	for range 8 {
		<-done
	}
	if got := e.sim.Calls()["UpdateVmLabels"]; got != 160 {
		t.Errorf("calls counted under concurrency: %d", got)
	}
}

// BenchmarkQueryVms10k lists 10,000 desktops over HTTP (go test -bench QueryVms ./provider/sim/).
func BenchmarkQueryVms10k(b *testing.B) {
	s, err := New(Options{Clock: NewManualClock(t0)})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 10000 {
		_, _ = s.AddDesktop(Desktop{Name: fmt.Sprintf("d%05d", i), SiteID: SiteSuqianA, ProductID: ProductA5000Win, VPCID: VPCDefaultSuqianA})
	}
	b.ResetTimer()
	for b.Loop() {
		if rec := serve(s, "GET", "/gcw/?Action=QueryVms", "", ""); rec.Code != 200 {
			b.Fatal(rec.Body)
		}
	}
}

// TestFaultMix: HTTP5xx spreads over 500, 502, 503 and 504, a share of them after the work was done
// (HTTP5xxAfter), and Throttle over 429 and the HTTP-200 envelope (ThrottleEnvelope), with the same
// two draws per request.
func TestFaultMix(t *testing.T) {
	tests := []struct {
		name, reason string
		faults       Faults
		check        func(kinds map[string]int, accounts int) string
	}{
		{"default shares", "every status appears; some 5xx come after the work, not all", Faults{HTTP5xx: 0.6, Throttle: 0.4},
			func(k map[string]int, acc int) string {
				n5 := k["500/InternalError"] + k["502/html"] + k["503/ServiceUnavailable"] + k["504/html"]
				for _, s := range []string{"500/InternalError", "502/html", "503/ServiceUnavailable", "504/html", "429/Throttling", "200/Throttling"} {
					if k[s] == 0 {
						return "no " + s
					}
				}
				if acc == 0 || acc >= n5 {
					return fmt.Sprintf("%d accounts made under %d 5xx, want some but not all", acc, n5)
				}
				return ""
			}},
		{"all after", "HTTP5xxAfter 1: every 5xx follows the work", Faults{HTTP5xx: 1, HTTP5xxAfter: 1},
			func(k map[string]int, acc int) string {
				if acc != 200 {
					return fmt.Sprintf("%d accounts, want 200", acc)
				}
				return ""
			}},
		{"none after, 429 only", "negative shares: every 5xx before the work, every throttle a 429", Faults{HTTP5xx: 0.5, Throttle: 0.5, HTTP5xxAfter: -1, ThrottleEnvelope: -1},
			func(k map[string]int, acc int) string {
				if acc != 0 || k["200/Throttling"] != 0 || k["429/Throttling"] == 0 {
					return fmt.Sprintf("%d accounts, outcomes %v", acc, k)
				}
				return ""
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{Seed: 5, Faults: tc.faults})
			kinds := map[string]int{}
			for i := range 200 {
				kinds[outcome(e.post("CreateSubAccount", map[string]any{"requestId": "r", "email": fmt.Sprintf("m%d@x.com", i), "name": "m"}))]++
			}
			if msg := tc.check(kinds, len(e.sim.Accounts())-1); msg != "" {
				t.Errorf("%s: %s (%v)", tc.reason, msg, kinds)
			}
		})
	}
}

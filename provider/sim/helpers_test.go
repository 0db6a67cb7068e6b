package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider"
)

const (
	testAK = "testAK"
	testSK = "testSK"
)

var t0 = time.Date(2026, 6, 22, 4, 19, 8, 0, time.UTC)

// env is a signed test client over raw HTTP against one Sim.
type env struct {
	t     *testing.T
	sim   *Sim
	srv   *httptest.Server
	clock *ManualClock
	nonce int
	// overrides for the next call only
	ak, sk, ts, nonceOverride string
}

func newEnv(t *testing.T, opt Options) *env {
	t.Helper()
	clock := NewManualClock(t0)
	if opt.Clock == nil {
		opt.Clock = clock
	} else if mc, ok := opt.Clock.(*ManualClock); ok {
		clock = mc
	}
	if opt.Keys == nil {
		opt.Keys = map[string]string{testAK: testSK}
	}
	s, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &env{t: t, sim: s, srv: srv, clock: clock}
}

// result is one HTTP exchange.
type result struct {
	status int
	raw    map[string]any
	err    error // transport error (dropped connection)
}

func (r result) code() string {
	if c, ok := r.raw["Code"].(string); ok {
		return c
	}
	c, _ := r.raw["code"].(string)
	return c
}

func (r result) data() any {
	if d, ok := r.raw["Data"]; ok {
		return d
	}
	return r.raw["data"]
}

func (r result) obj() map[string]any {
	m, _ := r.data().(map[string]any)
	return m
}

func (r result) list() []any {
	l, _ := r.data().([]any)
	return l
}

// do signs and sends a request: GET params go in the signed query, POST body as JSON.
func (e *env) do(method, action string, query map[string]string, body any) result {
	e.t.Helper()
	e.nonce++
	q := url.Values{
		"Action": {action}, "AccessKeyId": {testAK}, "SignatureMethod": {provider.SignatureMethod},
		"SignatureVersion": {provider.SignatureVersion}, "SignatureNonce": {fmt.Sprintf("nonce-%d", e.nonce)},
		"Timestamp": {e.clock.Now().UTC().Format(provider.TimestampLayout)}, "Version": {provider.APIVersion},
	}
	sk := testSK
	if e.ak != "" {
		q.Set("AccessKeyId", e.ak)
	}
	if e.sk != "" {
		sk = e.sk
	}
	if e.ts != "" {
		q.Set("Timestamp", e.ts)
	}
	if e.nonceOverride != "" {
		q.Set("SignatureNonce", e.nonceOverride)
	}
	e.ak, e.sk, e.ts, e.nonceOverride = "", "", "", ""
	for k, v := range query {
		q.Set(k, v)
	}
	q.Set("Signature", provider.Sign(method, q, sk))
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.srv.URL+"/gcw/?"+q.Encode(), rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := result{status: resp.StatusCode}
	if err := json.Unmarshal(b, &r.raw); err != nil {
		if resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusGatewayTimeout {
			// An injected gateway error: an HTML page, no envelope.
			r.raw = map[string]any{"Code": "html"}
			return r
		}
		e.t.Fatalf("%s: body is not JSON: %q", action, b)
	}
	return r
}

func (e *env) get(action string, q map[string]string) result {
	e.t.Helper()
	return e.do("GET", action, q, nil)
}
func (e *env) post(action string, b map[string]any) result {
	e.t.Helper()
	return e.do("POST", action, nil, b)
}

// must fails the test unless the call succeeded.
func (e *env) must(r result) result {
	e.t.Helper()
	if r.err != nil || r.status != 200 || r.code() != "Success" {
		e.t.Fatalf("call failed: err=%v status=%d body=%v", r.err, r.status, r.raw)
	}
	return r
}

// createVms creates n desktops at 宿迁A (default net with the 移动 gateway) and waits for the task.
func (e *env) createVms(name string, n int, extra map[string]any) []string {
	e.t.Helper()
	body := map[string]any{"requestId": "req-create-" + name, "siteId": SiteSuqianA, "productId": ProductA5000Win,
		"name": name, "num": fmt.Sprint(n), "imageId": ImageWin10, "qos": "5", "vpcId": VPCDefaultSuqianA,
		"subnetNetId": "73d2c7ec-cdcb-11ec-a318-ee97882ecf7d", "vgatewayNetId": "80587138-cdcb-11ec-a318-ee97882ecf7d",
		"vgatewayConfId": "10298"}
	for k, v := range extra {
		body[k] = v
	}
	r := e.must(e.post("CreateVm", body))
	e.clock.Advance(time.Minute)
	var ids []string
	for _, v := range r.obj()["vmIds"].([]any) {
		ids = append(ids, v.(string))
	}
	return ids
}

// power turns desktops on or off and waits for the task.
func (e *env) power(op string, ids ...string) {
	e.t.Helper()
	e.must(e.post("OperateVm", map[string]any{"requestId": "req-op", "action": op, "vmIds": toAny(ids)}))
	e.clock.Advance(time.Minute)
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

package sim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

// fuzzCreateBody creates the two desktops every FuzzServeHTTP input starts with (ids are derived from
// the seed, so the corpus can name them).
const fuzzCreateBody = `{"requestId":"req-fuzz-setup","siteId":"` + SiteSuqianA + `","productId":"` + ProductA5000Win +
	`","name":"fz","num":"2","imageId":"` + ImageWin10 + `","qos":"5","vpcId":"` + VPCDefaultSuqianA +
	`","subnetNetId":"73d2c7ec-cdcb-11ec-a318-ee97882ecf7d","vgatewayNetId":"80587138-cdcb-11ec-a318-ee97882ecf7d","vgatewayConfId":"10298"}`

// fuzzRequest builds a request to the emulator without going through a socket; query is appended
// to the Action parameter as is.
func fuzzRequest(method, action, query string, body []byte) *http.Request {
	r := &http.Request{Method: method, URL: &url.URL{Path: "/gcw/", RawQuery: "Action=" + url.QueryEscape(action) + "&" + query},
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{}, Host: "sim.test",
		Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body))}
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	return r
}

// fuzzServe serves one request and checks the reply is a JSON envelope; it returns the envelope.
func fuzzServe(t *testing.T, s *Sim, r *http.Request) map[string]any {
	t.Helper()
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, r)
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("%s %s: reply %d is not a JSON object: %q", r.Method, r.URL.RawQuery, rec.Code, rec.Body.Bytes())
	}
	code, ok := m["Code"].(string)
	if !ok {
		code, ok = m["code"].(string)
	}
	if !ok || code == "" {
		t.Fatalf("%s %s: reply %d without a Code: %q", r.Method, r.URL.RawQuery, rec.Code, rec.Body.Bytes())
	}
	if rec.Code < 200 || rec.Code > 599 {
		t.Fatalf("%s %s: HTTP status %d", r.Method, r.URL.RawQuery, rec.Code)
	}
	return m
}

// FuzzServeHTTP sends an arbitrary Action, method, query and body to an unsigned emulator (faults
// off) holding two desktops. ServeHTTP must not panic, must answer a JSON envelope with a Code, and
// the world must stay consistent: after the tasks have run, QueryVms succeeds and QueryVm succeeds for
// every id it lists. The seed corpus is the f.Add cases below and testdata/fuzz/FuzzServeHTTP (run as
// ordinary tests by `go test`).
func FuzzServeHTTP(f *testing.F) {
	f.Add("QueryVms", "GET", "", []byte(nil))
	f.Add("QueryVm", "GET", "vmId=x", []byte(nil))
	f.Add("CreateVm", "POST", "", []byte(fuzzCreateBody))
	f.Add("OperateVm", "POST", "", []byte(`{"requestId":"r","action":"off","vmIds":["a",1,null]}`))
	f.Add("DeleteVm", "POST", "", []byte(`{"requestId":"r","vmId":{}}`))
	f.Add("RebuildVm", "GET", "vmId=&imageId=%ff&requestId=r", []byte(nil))
	f.Add("CreateSubAccounts", "POST", "", []byte(`{"requestId":"r","createAccountParams":[{"email":"a@b.c","name":"a"},"x"]}`))
	f.Add("UpdateOrder", "POST", "", []byte(`{"requestId":"r","vmIds":[],"duration":"99999999999999999999"}`))
	f.Add("Nope", "PATCH", "%zz=1&&=", []byte("\xff"))
	f.Add("QueryImages", "POST", "", []byte(`[]`))
	f.Fuzz(func(t *testing.T, action, method, query string, body []byte) {
		clock := NewManualClock(t0)
		s, err := New(Options{Clock: clock, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if m := fuzzServe(t, s, fuzzRequest("POST", "CreateVm", "", []byte(fuzzCreateBody))); m["Code"] != "Success" {
			t.Fatalf("setup CreateVm: %v", m)
		}
		clock.Advance(time.Minute)

		fuzzServe(t, s, fuzzRequest(method, action, query, body))
		clock.Advance(time.Hour)

		m := fuzzServe(t, s, fuzzRequest("GET", "QueryVms", "", nil))
		if m["Code"] != "Success" {
			t.Fatalf("QueryVms after %s %s: %v", method, action, m)
		}
		data, _ := m["Data"].(map[string]any)
		ids, _ := data["vmIds"].([]any)
		for _, id := range ids {
			sid, ok := id.(string)
			if !ok || sid == "" {
				t.Fatalf("QueryVms lists %#v", id)
			}
			if m := fuzzServe(t, s, fuzzRequest("GET", "QueryVm", "vmId="+url.QueryEscape(sid), nil)); m["Code"] != "Success" {
				t.Errorf("QueryVm %s after %s %s: %v", sid, method, action, m)
			}
		}
	})
}

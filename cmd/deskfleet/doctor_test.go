package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider/sim"
)

const (
	doctorAK     = "doctorAK"
	doctorSecret = "doctor-secret-7f3a9c"
)

// alter rewrites one reply of the emulator: its status, headers and decoded JSON body (nil: left as
// it came). It returns false to leave the reply untouched.
type alter func(action string, status *int, h http.Header, body *map[string]any) bool

// alteredSim serves the emulator through fn: the emulator answers first, then fn rewrites the reply
// the real client reads.
func alteredSim(t *testing.T, fn alter) string {
	t.Helper()
	s, err := sim.New(sim.Options{Keys: map[string]string{doctorAK: doctorSecret}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddDesktop(sim.Desktop{Name: "ws", SiteID: sim.SiteSuqianA, ProductID: sim.ProductT4Win}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, r)
		status, h := rec.Code, rec.Header().Clone()
		h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
		body := rec.Body.Bytes()
		var m map[string]any
		if json.Unmarshal(body, &m) == nil && fn != nil && fn(r.URL.Query().Get("Action"), &status, h, &m) {
			if m == nil {
				body = nil
			} else {
				body, _ = json.Marshal(m)
			}
		}
		for k, v := range h {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if n := s.MutatingCalls(); n != 0 {
			t.Errorf("doctor reads only: want no mutating call, got %d (%v)", n, s.Calls())
		}
	})
	return srv.URL + "/gcw"
}

// onAction applies fn to the replies of one action only.
func onAction(action string, fn func(status *int, h http.Header, m map[string]any) map[string]any) alter {
	return func(a string, status *int, h http.Header, body *map[string]any) bool {
		if a != action {
			return false
		}
		*body = fn(status, h, *body)
		return true
	}
}

// eachItem applies fn to every object of the reply's Data list.
func eachItem(m map[string]any, fn func(item map[string]any)) map[string]any {
	for _, k := range []string{"Data", "data"} {
		if l, ok := m[k].([]any); ok {
			for _, it := range l {
				if o, ok := it.(map[string]any); ok {
					fn(o)
				}
			}
		}
	}
	return m
}

// renameEnvelope respells the envelope's three keys.
func renameEnvelope(code, msg, data string) alter {
	return func(_ string, _ *int, _ http.Header, body *map[string]any) bool {
		m := *body
		out := map[string]any{}
		for k, v := range m {
			switch strings.ToLower(k) {
			case "code":
				out[code] = v
			case "message", "msg":
				out[msg] = v
			case "data":
				out[data] = v
			default:
				out[k] = v
			}
		}
		*body = out
		return true
	}
}

// shiftDate moves every reply's Date header by d.
func shiftDate(d time.Duration) alter {
	return func(_ string, _ *int, h http.Header, _ *map[string]any) bool {
		h.Set("Date", time.Now().Add(d).UTC().Format(http.TimeFormat))
		return false
	}
}

type doctorJSON struct {
	OK          bool `json:"ok"`
	Credentials struct {
		Status, Detail, Hint string
	} `json:"credentials"`
	Clock struct {
		Status      string  `json:"status"`
		Known       bool    `json:"known"`
		SkewSeconds float64 `json:"skew_seconds"`
	} `json:"clock"`
	Throttling struct {
		Seen      bool `json:"seen"`
		Throttled int  `json:"throttled"`
	} `json:"throttling"`
	Actions []struct {
		Action     string   `json:"action"`
		Status     string   `json:"status"`
		HTTPStatus int      `json:"http_status"`
		Envelope   string   `json:"envelope"`
		Unknown    []string `json:"unknown_fields"`
		Missing    []string `json:"missing_fields"`
		Mismatch   []string `json:"mismatched"`
	} `json:"actions"`
	Problems []string `json:"problems"`
}

func TestDoctor(t *testing.T) {
	tests := []struct {
		reason   string
		alter    alter
		secret   string // default doctorSecret
		wantCode int
		check    func(t *testing.T, r doctorJSON)
		wantText []string
	}{
		{
			reason:   "the emulator as it is: every read understood, in both envelope spellings the reference shows",
			wantCode: exitOK,
			check: func(t *testing.T, r doctorJSON) {
				want := map[string]string{"QuerySites": "Code/Message/Data", "QueryImages": "code/msg/data",
					"QueryExpireVms": "code/msg/data", "QueryVm": "Code/Message/Data"}
				for _, a := range r.Actions {
					if a.Status != "ok" {
						t.Errorf("%s: status %s, want ok", a.Action, a.Status)
					}
					if w, ok := want[a.Action]; ok && a.Envelope != w {
						t.Errorf("%s: envelope %q, want %q", a.Action, a.Envelope, w)
					}
				}
				if len(r.Actions) != 9 || r.Credentials.Status != "ok" || r.Clock.Status != "ok" || !r.Clock.Known {
					t.Errorf("want 9 reads, credentials and clock ok: %+v", r)
				}
			},
			wantText: []string{"ok   credentials", "ok   QueryVm (vmId ", "Ready for a first apply"},
		},
		{
			reason:   "every reply spelt code/msg/data is read and reported as such",
			alter:    renameEnvelope("code", "msg", "data"),
			wantCode: exitOK,
			check: func(t *testing.T, r doctorJSON) {
				for _, a := range r.Actions {
					if a.Status != "ok" || a.Envelope != "code/msg/data" {
						t.Errorf("%s: %s %q, want ok code/msg/data", a.Action, a.Status, a.Envelope)
					}
				}
			},
		},
		{
			reason:   "an envelope in neither spelling is read (keys match in any case) but noted",
			alter:    renameEnvelope("CODE", "Msg", "DATA"),
			wantCode: exitOK,
			check: func(t *testing.T, r doctorJSON) {
				if a := r.Actions[0]; a.Status != "warn" || a.Envelope != "CODE/Msg/DATA" {
					t.Errorf("QuerySites: %s %q, want warn CODE/Msg/DATA", a.Status, a.Envelope)
				}
			},
			wantText: []string{"envelope: neither Code/Message/Data nor code/msg/data"},
		},
		{
			reason: "a field the client reads, dropped from QuerySites, is flagged missing: exit 1",
			alter: onAction("QuerySites", func(_ *int, _ http.Header, m map[string]any) map[string]any {
				return eachItem(m, func(it map[string]any) { delete(it, "siteName") })
			}),
			wantCode: exitError,
			check: func(t *testing.T, r doctorJSON) {
				if a := r.Actions[0]; a.Status != "fail" || strings.Join(a.Missing, ",") != "siteName" {
					t.Errorf("QuerySites: %s missing %v, want fail [siteName]", a.Status, a.Missing)
				}
			},
			wantText: []string{"missing: siteName", "Not ready: 1 problem"},
		},
		{
			reason: "a nested field dropped (an image's site status) is named with its path",
			alter: onAction("QueryImages", func(_ *int, _ http.Header, m map[string]any) map[string]any {
				return eachItem(m, func(it map[string]any) {
					for _, im := range it["publicImages"].([]any) {
						for _, s := range im.(map[string]any)["imageSites"].([]any) {
							delete(s.(map[string]any), "status")
						}
					}
				})
			}),
			wantCode: exitError,
			check: func(t *testing.T, r doctorJSON) {
				if a := r.Actions[2]; a.Status != "fail" || strings.Join(a.Missing, ",") != "publicImages[].imageSites[].status" {
					t.Errorf("QueryImages: %s missing %v", a.Status, a.Missing)
				}
			},
		},
		{
			reason: "an unknown field is listed, a warning only (the client ignores it)",
			alter: onAction("QueryProducts", func(_ *int, _ http.Header, m map[string]any) map[string]any {
				return eachItem(m, func(it map[string]any) { it["gpuCount"] = 1 })
			}),
			wantCode: exitOK,
			check: func(t *testing.T, r doctorJSON) {
				if a := r.Actions[1]; a.Status != "warn" || strings.Join(a.Unknown, ",") != "gpuCount" {
					t.Errorf("QueryProducts: %s unknown %v, want warn [gpuCount]", a.Status, a.Unknown)
				}
			},
			wantText: []string{"unknown: gpuCount"},
		},
		{
			reason: "Data of another shape (an object for QueryVms' list... a list for its object) fails",
			alter: onAction("QueryVms", func(_ *int, _ http.Header, m map[string]any) map[string]any {
				m["Data"] = []any{}
				return m
			}),
			wantCode: exitError,
			check: func(t *testing.T, r doctorJSON) {
				a := r.Actions[6]
				if a.Action != "QueryVms" || a.Status != "fail" {
					t.Errorf("QueryVms: %+v, want fail", a)
				}
			},
		},
		{
			reason:   "the API's clock 10 minutes ahead: the signature still passes, the clock fails (no documented window)",
			alter:    shiftDate(10 * time.Minute),
			wantCode: exitError,
			check: func(t *testing.T, r doctorJSON) {
				if r.Clock.Status != "fail" || r.Clock.SkewSeconds < 595 || r.Clock.SkewSeconds > 605 {
					t.Errorf("clock: %+v, want fail at about +600s", r.Clock)
				}
				if r.Credentials.Status != "ok" {
					t.Errorf("credentials: %+v, want ok", r.Credentials)
				}
			},
			wantText: []string{"FAIL clock        this machine's clock is 10m behind the API's", "sync this machine's clock"},
		},
		{
			reason:   "2 minutes off is worth fixing but not a failure",
			alter:    shiftDate(-2 * time.Minute),
			wantCode: exitOK,
			check: func(t *testing.T, r doctorJSON) {
				if r.Clock.Status != "warn" || r.Clock.SkewSeconds > -115 {
					t.Errorf("clock: %+v, want warn at about -120s", r.Clock)
				}
			},
			wantText: []string{"ahead of the API's"},
		},
		{
			reason:   "a wrong secret: the emulator's own 403 SignatureDoesNotMatch, with its hint; the rest skipped",
			secret:   "not-the-secret-0000",
			wantCode: exitError,
			check: func(t *testing.T, r doctorJSON) {
				if r.Credentials.Status != "fail" || !strings.Contains(r.Credentials.Detail, "HTTP 403, SignatureDoesNotMatch") ||
					!strings.Contains(r.Credentials.Hint, "CDS_SECRET_KEY") {
					t.Errorf("credentials: %+v", r.Credentials)
				}
				for _, a := range r.Actions[1:] {
					if a.Status != "skipped" {
						t.Errorf("%s: %s, want skipped after the refusal", a.Action, a.Status)
					}
				}
			},
			wantText: []string{"FAIL credentials  the API refused the signed read (HTTP 403, SignatureDoesNotMatch)", "hint: "},
		},
		{
			reason: "a bare 401 from a gateway: credentials fail with the generic hint",
			alter: func(_ string, status *int, _ http.Header, body *map[string]any) bool {
				*status, *body = http.StatusUnauthorized, nil
				return true
			},
			wantCode: exitError,
			check: func(t *testing.T, r doctorJSON) {
				if r.Credentials.Status != "fail" || !strings.Contains(r.Credentials.Detail, "HTTP 401") ||
					!strings.Contains(r.Credentials.Hint, "CDS_SECRET_ID and CDS_SECRET_KEY") {
					t.Errorf("credentials: %+v", r.Credentials)
				}
			},
		},
		{
			reason: "a 403 InvalidTimestamp points at the clock",
			alter: func(_ string, status *int, _ http.Header, body *map[string]any) bool {
				*status, *body = http.StatusForbidden, map[string]any{"Code": "InvalidTimestamp", "Message": "timestamp expired"}
				return true
			},
			wantCode: exitError,
			check: func(t *testing.T, r doctorJSON) {
				if r.Credentials.Status != "fail" || !strings.Contains(r.Credentials.Hint, "clock") {
					t.Errorf("credentials: %+v", r.Credentials)
				}
			},
		},
		{
			reason: "a throttle answered once is retried and reported",
			alter: func() alter {
				n := 0
				return func(a string, status *int, _ http.Header, body *map[string]any) bool {
					if a != "QueryProducts" {
						return false
					}
					if n++; n%2 == 0 {
						return false // the retry passes
					}
					*status, *body = http.StatusTooManyRequests, map[string]any{"Code": "Throttling", "Message": "slow down"}
					return true
				}
			}(),
			wantCode: exitOK,
			check: func(t *testing.T, r doctorJSON) {
				if !r.Throttling.Seen || r.Throttling.Throttled != 1 || r.Actions[1].Status != "warn" {
					t.Errorf("throttling: %+v, QueryProducts %s", r.Throttling, r.Actions[1].Status)
				}
			},
			wantText: []string{"warn throttling   throttled 1 time(s)"},
		},
		{
			reason: "no Date header: the clock cannot be compared, a warning",
			alter: func(_ string, _ *int, h http.Header, _ *map[string]any) bool {
				h["Date"] = nil
				return false
			},
			wantCode: exitOK,
			check: func(t *testing.T, r doctorJSON) {
				if r.Clock.Status != "warn" || r.Clock.Known {
					t.Errorf("clock: %+v, want warn, unknown", r.Clock)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.reason, func(t *testing.T) {
			ep := alteredSim(t, tc.alter)
			secret := doctorSecret
			if tc.secret != "" {
				secret = tc.secret
			}
			t.Setenv("CDS_SECRET_ID", doctorAK)
			t.Setenv("CDS_SECRET_KEY", secret)
			for _, format := range []string{"json", "text"} {
				var out, errb bytes.Buffer
				code := run([]string{"deskfleet", "doctor", "--endpoint", ep, "--format", format}, &out, &errb)
				if code != tc.wantCode {
					t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", format, code, tc.wantCode, out.String(), errb.String())
				}
				if strings.Contains(out.String()+errb.String(), secret) {
					t.Fatalf("%s: the secret is in the output", format)
				}
				if format == "text" {
					for _, w := range tc.wantText {
						if !strings.Contains(out.String(), w) {
							t.Errorf("text output lacks %q:\n%s", w, out.String())
						}
					}
					continue
				}
				var r doctorJSON
				if err := json.Unmarshal(out.Bytes(), &r); err != nil {
					t.Fatalf("json: %v\n%s", err, out.String())
				}
				if r.OK != (tc.wantCode == exitOK) {
					t.Errorf("ok %v with exit %d", r.OK, code)
				}
				if tc.check != nil {
					tc.check(t, r)
				}
			}
		})
	}
}

// TestDoctorSim runs the command as a user types it on the in-process emulator.
func TestDoctorSim(t *testing.T) {
	t.Chdir(t.TempDir())
	var out, errb bytes.Buffer
	if code := run([]string{"deskfleet", "doctor", "--endpoint", "sim"}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	for _, w := range []string{"deskfleet doctor · sim:.deskfleet/sim.db · read-only", "ok   credentials", "GetDefaultNet (site 宿迁A)",
		"Ready for a first apply"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, out.String())
		}
	}
}

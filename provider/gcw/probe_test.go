package gcw

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/provider/sim"
)

func TestCheckFields(t *testing.T) {
	tests := []struct {
		reason string
		action provider.Action
		data   string
		want   FieldCheck
	}{
		{reason: "null Data is reported as such, nothing compared", action: provider.ActionGetDefaultNet, data: `null`,
			want: FieldCheck{Null: true}},
		{reason: "a complete site, one unknown key", action: provider.ActionQuerySites,
			data: `[{"siteId":"s","podName":"p","siteName":"n","regionName":"r","regionId":"1","cityName":"c","cityId":"2","zone":"z"}]`,
			want: FieldCheck{List: true, Items: 1, Unknown: []string{"zone"}}},
		{reason: "keys match in any case, as encoding/json matches them", action: provider.ActionQuerySites,
			data: `[{"SITEID":"s","podName":"p","siteName":"n","regionName":"r","regionId":"1","cityName":"c","cityId":"2"}]`,
			want: FieldCheck{List: true, Items: 1}},
		{reason: "an object without the one key the client reads", action: provider.ActionQueryVms,
			data: `{}`, want: FieldCheck{Items: 1, Missing: []string{"vmIds"}}},
		{reason: "vGateways or vgateways: either spelling satisfies the client; GetCustomNet's optional fields are not missing",
			action: provider.ActionGetCustomNet,
			data:   `[{"vpcId":"v","vpcName":"n","vpcSegment":"10.0.0.0/16","customerId":"c","userId":"u","subnets":[],"vgateways":[]}]`,
			want:   FieldCheck{List: true, Items: 1}},
		{reason: "a nested field is named with its path", action: provider.ActionQueryImages,
			data: `[{"productId":"p","productName":"n","privateImages":[],"publicImages":[{"imageId":"i","imageName":"n","detailName":"d","imageType":"t","osType":"o","imageSize":1,"message":"","imageSites":[{"imageSiteId":"x","siteId":"s","siteName":"n","extra":1}]}]}]`,
			want: FieldCheck{List: true, Items: 1, Unknown: []string{"publicImages[].imageSites[].extra"},
				Missing: []string{"publicImages[].imageSites[].status"}}},
		{reason: "an object where a list is read is a mismatch", action: provider.ActionQuerySites, data: `{"siteId":"s"}`,
			want: FieldCheck{Mismatch: []string{"Data: not a list"}}},
	}
	for _, tc := range tests {
		t.Run(tc.reason, func(t *testing.T) {
			got := CheckFields(tc.action, json.RawMessage(tc.data))
			if got == nil {
				t.Fatal("nil check")
			}
			if got.Null != tc.want.Null || got.List != tc.want.List || got.Items != tc.want.Items ||
				!slices.Equal(got.Unknown, tc.want.Unknown) || !slices.Equal(got.Missing, tc.want.Missing) ||
				!slices.Equal(got.Mismatch, tc.want.Mismatch) {
				t.Errorf("got %+v, want %+v", *got, tc.want)
			}
		})
	}
}

func TestProbe(t *testing.T) {
	const ak, secret = "probeAK", "probe-secret-5b2e"
	s, err := sim.New(sim.Options{Keys: map[string]string{ak: secret}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var echo bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if echo { // a server that echoes the signed query back
			w.Header().Set("Date", time.Now().UTC().Format(http.TimeFormat))
			w.Write([]byte(`{"Code":"Success","Message":"` + r.URL.RawQuery + `","Data":[]}`))
			return
		}
		s.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c, err := New(Config{Endpoint: srv.URL + "/gcw", AccessKeyID: ak, Secret: secret, Rate: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	tests := []struct {
		reason string
		action provider.Action
		params map[string]string
		echo   bool
		check  func(t *testing.T, p *ProbeResult, err error)
	}{
		{reason: "a read: status, Date, latency, envelope and fields", action: provider.ActionQueryImages,
			check: func(t *testing.T, p *ProbeResult, err error) {
				if err != nil || p.Err != nil || p.HTTPStatus != 200 || p.Attempts != 1 {
					t.Fatalf("%v %+v", err, p)
				}
				if p.Date.IsZero() || p.Latency <= 0 || p.Sent.After(p.Received) {
					t.Errorf("Date %v latency %v", p.Date, p.Latency)
				}
				if p.Envelope.Casing() != "code/msg/data" || !p.Envelope.Standard() || !slices.Equal(p.Envelope.Other, []string{"requestId", "status"}) {
					t.Errorf("envelope %+v", p.Envelope)
				}
				if p.Fields == nil || !p.Fields.List || p.Fields.Items == 0 || len(p.Fields.Missing)+len(p.Fields.Unknown) != 0 {
					t.Errorf("fields %+v", p.Fields)
				}
			}},
		{reason: "a mutation is never probed", action: provider.ActionDeleteVm,
			check: func(t *testing.T, p *ProbeResult, err error) {
				if !errors.Is(err, ErrNotProbed) || p != nil {
					t.Errorf("%v %+v", err, p)
				}
			}},
		{reason: "RebuildVm is a mutation sent as GET: refused too", action: provider.ActionRebuildVm,
			check: func(t *testing.T, p *ProbeResult, err error) {
				if !errors.Is(err, ErrNotProbed) {
					t.Errorf("%v", err)
				}
			}},
		{reason: "an API error is in the result, the envelope still read", action: provider.ActionGetDefaultNet,
			params: map[string]string{"siteId": "nope", "requestId": "r1"},
			check: func(t *testing.T, p *ProbeResult, err error) {
				var ae *provider.APIError
				if err != nil || !errors.As(p.Err, &ae) || ae.Code != "10006" || p.Fields != nil || p.Envelope.Code != "Code" {
					t.Errorf("%v %+v", err, p)
				}
			}},
		{reason: "a reply echoing the signed query keeps neither the secret nor the signature", action: provider.ActionQuerySites, echo: true,
			check: func(t *testing.T, p *ProbeResult, err error) {
				if err != nil || p.Err != nil {
					t.Fatalf("%v %+v", err, p)
				}
				if strings.Contains(string(p.Body), "Signature="+redacted) == false || strings.Contains(string(p.Body), secret) {
					t.Errorf("body not scrubbed: %s", p.Body)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.reason, func(t *testing.T) {
			echo = tc.echo
			p, err := c.Probe(ctx, tc.action, tc.params)
			tc.check(t, p, err)
		})
	}
	if n := s.MutatingCalls(); n != 0 {
		t.Errorf("probes made %d mutating calls", n)
	}
}

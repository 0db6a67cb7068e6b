package gcw

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider"
)

// Placeholders a fuzzed body may contain: the transport replaces them with this attempt's signature
// and with the secret before the client reads the body, so that the fuzzer can build servers that
// echo credentials back in any field.
const (
	fuzzSigMark    = "{{SIG}}"
	fuzzSecretMark = "{{SECRET}}"
	fuzzSecret     = "fz-secret-4e1f9a"
)

// fuzzCall is one action exercised by FuzzDecodeResponse; it returns the typed result and the error.
type fuzzCall struct {
	action provider.Action
	call   func(context.Context, *Client) (any, error)
}

// fuzzCalls is indexed by the fuzzer's action byte (modulo its length): append, never reorder, or the
// committed corpus would aim at other actions.
var fuzzCalls = []fuzzCall{
	{provider.ActionQueryVm, func(ctx context.Context, c *Client) (any, error) {
		return c.QueryVm(ctx, provider.QueryVmRequest{VmID: "vm-1"})
	}},
	{provider.ActionQueryVms, func(ctx context.Context, c *Client) (any, error) {
		return c.QueryVms(ctx, provider.QueryVmsRequest{})
	}},
	{provider.ActionQueryImages, func(ctx context.Context, c *Client) (any, error) {
		return c.QueryImages(ctx, provider.QueryImagesRequest{})
	}},
	{provider.ActionGetDefaultNet, func(ctx context.Context, c *Client) (any, error) {
		return c.GetDefaultNet(ctx, provider.GetDefaultNetRequest{SiteID: "s"})
	}},
	{provider.ActionCreateSubAccounts, func(ctx context.Context, c *Client) (any, error) {
		return c.CreateSubAccounts(ctx, provider.CreateSubAccountsRequest{
			Accounts: []provider.NewSubAccount{{Email: "a@example.com", Name: "a"}}})
	}},
	{provider.ActionUpdateOrder, func(ctx context.Context, c *Client) (any, error) {
		return c.UpdateOrder(ctx, provider.UpdateOrderRequest{VmIDs: []string{"vm-1"}, Duration: 1})
	}},
	{provider.ActionCreateVm, func(ctx context.Context, c *Client) (any, error) {
		return c.CreateVm(ctx, provider.CreateVmRequest{SiteID: "s", ProductID: "p", Name: "n", ImageID: "i"})
	}},
	{provider.ActionQueryTask, func(ctx context.Context, c *Client) (any, error) {
		return c.QueryTask(ctx, provider.QueryTaskRequest{TaskID: "t-1"})
	}},
	{provider.ActionQuerySites, func(ctx context.Context, c *Client) (any, error) {
		return c.QuerySites(ctx, provider.QuerySitesRequest{})
	}},
	{provider.ActionQueryProducts, func(ctx context.Context, c *Client) (any, error) {
		return c.QueryProducts(ctx, provider.QueryProductsRequest{})
	}},
	{provider.ActionQueryVmPrice, func(ctx context.Context, c *Client) (any, error) {
		return c.QueryVmPrice(ctx, provider.QueryVmPriceRequest{SiteID: "s", GoodsID: 1})
	}},
	{provider.ActionQuerySubAccounts, func(ctx context.Context, c *Client) (any, error) {
		return c.QuerySubAccounts(ctx, provider.QuerySubAccountsRequest{})
	}},
	{provider.ActionQueryExpireVms, func(ctx context.Context, c *Client) (any, error) {
		return c.QueryExpireVms(ctx, provider.QueryExpireVmsRequest{})
	}},
	{provider.ActionGetCustomNet, func(ctx context.Context, c *Client) (any, error) {
		return c.GetCustomNet(ctx, provider.GetCustomNetRequest{SiteID: "s"})
	}},
	{provider.ActionGetLineBillingScheme, func(ctx context.Context, c *Client) (any, error) {
		return c.GetLineBillingScheme(ctx, provider.GetLineBillingSchemeRequest{SiteID: "s"})
	}},
	{provider.ActionGetEipPrice, func(ctx context.Context, c *Client) (any, error) {
		return c.GetEipPrice(ctx, provider.GetEipPriceRequest{SiteID: "s", Size: 1, QosMbps: 5})
	}},
	{provider.ActionOperateVm, func(ctx context.Context, c *Client) (any, error) {
		return c.OperateVm(ctx, provider.OperateVmRequest{Action: provider.PowerOn, VmIDs: []string{"vm-1"}})
	}},
	{provider.ActionRebuildVm, func(ctx context.Context, c *Client) (any, error) {
		return c.RebuildVm(ctx, provider.RebuildVmRequest{VmID: "vm-1", ImageID: "i"})
	}},
	{provider.ActionDeleteVm, func(ctx context.Context, c *Client) (any, error) {
		return c.DeleteVm(ctx, provider.DeleteVmRequest{VmID: "vm-1"})
	}},
	{provider.ActionCreateDefaultNet, func(ctx context.Context, c *Client) (any, error) {
		return c.CreateDefaultNet(ctx, provider.CreateDefaultNetRequest{SiteID: "s"})
	}},
	{provider.ActionCreateSubAccount, func(ctx context.Context, c *Client) (any, error) {
		return c.CreateSubAccount(ctx, provider.CreateSubAccountRequest{Email: "a@example.com", Name: "a"})
	}},
	{provider.ActionRenewalOrder, func(ctx context.Context, c *Client) (any, error) {
		return c.RenewalOrder(ctx, provider.RenewalOrderRequest{VmIDs: []string{"vm-1"}, Duration: 1})
	}},
}

// fuzzTransport answers every request with the fuzzed status and body, without a socket, after
// substituting the placeholders; it keeps the signatures it saw.
type fuzzTransport struct {
	status int
	body   []byte
	mu     sync.Mutex
	sigs   []string
}

func (t *fuzzTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	sig := req.URL.Query().Get("Signature")
	t.mu.Lock()
	t.sigs = append(t.sigs, sig)
	t.mu.Unlock()
	b := bytes.ReplaceAll(t.body, []byte(fuzzSigMark), []byte(sig))
	b = bytes.ReplaceAll(b, []byte(fuzzSecretMark), []byte(fuzzSecret))
	return &http.Response{StatusCode: t.status, Status: fmt.Sprintf("%d %s", t.status, http.StatusText(t.status)),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(bytes.NewReader(b)),
		ContentLength: int64(len(b)), Request: req}, nil
}

func (t *fuzzTransport) forbidden() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := []string{fuzzSecret}
	for _, s := range t.sigs {
		if s != "" {
			out = append(out, s, url.QueryEscape(s), provider.PercentEncode(s))
		}
	}
	return out
}

// FuzzDecodeResponse feeds arbitrary bytes as the response body, with an arbitrary HTTP status, to
// one of the client's actions. The call must not panic; it returns either a value or an error that is
// an *APIError or (mutations only) an *UnknownOutcomeError; and neither the secret nor the request's
// signature appears in the error's text or kept body. The seed corpus is the f.Add cases below plus
// testdata/fuzz/FuzzDecodeResponse (run as ordinary tests by `go test`).
func FuzzDecodeResponse(f *testing.F) {
	for i, body := range []string{
		`{"Code":"Success","Message":"","Data":{"vmName":"n","status":"running","expireTime":"2022-05-07 14:03:44"}}`,
		`{"code":"Success","msg":null,"data":{"vmIds":["a","b"]},"requestId":null,"status":0}`,
		`{"code":"Success","msg":null,"data":[{"productId":"p","publicImages":[{"imageId":"i","imageSize":0.0,"imageSites":[{"siteId":"s"}]}]}]}`,
		`{"Code":"Success","Message":null,"Data":null}`,
		`{"Code":"Success","Data":{"failedNum":"1","successNum":0,"failedMsgs":[{"email":"x","messsage":"dup"}]}}`,
		`{"Code":"Success","Data":{"successVmIds":["vm-1"],"failedVmIds":null,"requestId":"r"}}`,
		`{"Code":"Success","Data":{"taskId":"t","vmIds":"a,b"}}`,
		`{"Code":"Success","Data":{"taskId":"t","status":"Failed","failReason":"x"}}`,
	} {
		f.Add([]byte(body), 200, uint8(i))
	}
	f.Add([]byte(`{"Code":"10006","Message":"参数错误 {{SIG}} {{SECRET}}","Data":"{{SIG}}"}`), 200, uint8(0))
	f.Add([]byte(`{"Code":["{{SECRET}}"]}`), 200, uint8(5))
	f.Add([]byte(`{"Code":"Success","Data":{"bw":"{{SIG}}"}}`), 200, uint8(0))
	f.Add([]byte(`{"Code":"Success","Data":{"successVmIds":{"{{SECRET}}":1}}}`), 200, uint8(5))
	f.Add([]byte(`<html>{{SIG}}</html>`), 502, uint8(6))
	f.Add([]byte(`{"code":13004,"msg":"当前状态无法重装"}`), 503, uint8(1))
	f.Add([]byte("\xff\xfe{\"Code\":\"Success\"}"), 200, uint8(2))
	f.Add([]byte(`{"Code":"Success","Data":{"id":1e400,"mask":99999999999999999999}}`), 200, uint8(3))

	f.Fuzz(func(t *testing.T, body []byte, status int, which uint8) {
		if status < 100 || status > 999 {
			status = 200
		}
		fc := fuzzCalls[int(which)%len(fuzzCalls)]
		info, ok := provider.LookupAction(fc.action)
		if !ok {
			t.Fatalf("unknown action %s", fc.action)
		}
		tr := &fuzzTransport{status: status, body: body}
		n := 0
		c, err := New(Config{Endpoint: "http://gcw.test/gcw", AccessKeyID: "fuzzAK", Secret: fuzzSecret,
			HTTPClient: &http.Client{Transport: tr,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
			Rate: -1, MaxRetries: 2, Timeout: 5 * time.Second,
			Clock:        func() time.Time { return time.Date(2022, 6, 1, 0, 0, 0, 0, time.UTC) },
			Nonce:        func() string { n++; return fmt.Sprintf("nonce-%d", n) },
			NewRequestID: func() string { return "rid-fuzz" },
			Rand:         func() float64 { return 0 },
			Sleep:        func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := fc.call(context.Background(), c)
		if err == nil {
			if status != http.StatusOK {
				t.Fatalf("%s: HTTP %d accepted as a success", fc.action, status)
			}
			if isNilResult(got) && reflect.ValueOf(got).Kind() == reflect.Pointer && fc.action != provider.ActionGetDefaultNet {
				t.Fatalf("%s: nil result without an error", fc.action)
			}
			return
		}
		if got != nil && !isNilResult(got) {
			t.Errorf("%s: both a result and an error (%v)", fc.action, err)
		}
		var unknown *provider.UnknownOutcomeError
		var apiErr *provider.APIError
		switch {
		case errors.As(err, &unknown):
			if !info.Mutating {
				t.Errorf("%s: a read returned %T: %v", fc.action, err, err)
			}
		case errors.As(err, &apiErr):
		default:
			t.Errorf("%s: error %T is neither *APIError nor *UnknownOutcomeError: %v", fc.action, err, err)
		}
		texts := []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)}
		if errors.As(err, &apiErr) {
			texts = append(texts, apiErr.Body, apiErr.Message, apiErr.Code)
		}
		for _, s := range texts {
			for _, bad := range tr.forbidden() {
				if strings.Contains(s, bad) {
					t.Fatalf("%s: credential %q leaked in %q", fc.action, bad, s)
				}
			}
		}
	})
}

// isNilResult reports a nil pointer or slice inside got.
func isNilResult(got any) bool {
	if got == nil {
		return true
	}
	v := reflect.ValueOf(got)
	return (v.Kind() == reflect.Pointer || v.Kind() == reflect.Slice) && v.IsNil()
}

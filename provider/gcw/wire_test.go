package gcw

import (
	"context"
	"reflect"
	"sort"
	"testing"

	"github.com/deskfleet/deskfleet/provider"
)

var commonKeys = []string{"AccessKeyId", "Action", "Signature", "SignatureMethod", "SignatureNonce",
	"SignatureVersion", "Timestamp", "Version"}

// TestWireFormat checks, for every action, the HTTP method, the path, the signature (verified with
// provider.Sign), where the parameters travel and that POST bodies carry strings (arrays where the
// reference has arrays).
func TestWireFormat(t *testing.T) {
	ctx := context.Background()
	monthly := provider.BillMethodMonthly
	type kv = map[string]any
	tests := []struct {
		action string
		call   func(c *Client) error
		want   kv // GET: query parameters besides the common ones; POST: the JSON body
		reason string
	}{
		{"QueryTask", func(c *Client) error {
			_, err := c.QueryTask(ctx, provider.QueryTaskRequest{TaskID: "t1", RequestID: "r1"})
			return err
		}, kv{"taskId": "t1", "requestId": "r1"}, "GET with the creating call's requestId"},
		{"QuerySites", func(c *Client) error { _, err := c.QuerySites(ctx, provider.QuerySitesRequest{}); return err },
			kv{}, "optional filter left out when empty"},
		{"QueryProducts", func(c *Client) error {
			_, err := c.QueryProducts(ctx, provider.QueryProductsRequest{SiteID: "s1"})
			return err
		}, kv{"siteId": "s1"}, "GET filter"},
		{"QueryImages", func(c *Client) error {
			_, err := c.QueryImages(ctx, provider.QueryImagesRequest{SiteID: "s1", ProductID: "p1"})
			return err
		}, kv{"siteId": "s1", "productId": "p1"}, "GET filters"},
		{"QueryVmPrice", func(c *Client) error {
			_, err := c.QueryVmPrice(ctx, provider.QueryVmPriceRequest{SiteID: "s1", GoodsID: 15273, Num: 2,
				BillCycle: provider.BillCycleMonthly, Duration: 3, IsToMonth: true})
			return err
		}, kv{"requestId": "generated-rid", "siteId": "s1", "goodsId": "15273", "num": "2", "billCycle": "month",
			"duration": "3", "isToMonth": "1"}, "POST read: numbers as strings, requestId generated"},
		{"UpdateOrder", func(c *Client) error {
			_, err := c.UpdateOrder(ctx, provider.UpdateOrderRequest{RequestID: "r1", VmIDs: []string{"v1", "v2"}, Duration: 1})
			return err
		}, kv{"requestId": "r1", "vmIds": []any{"v1", "v2"}, "duration": "1", "isToMonth": "0", "isAutoRenewal": "0"},
			"array of ids, booleans as 0/1"},
		{"RenewalOrder", func(c *Client) error {
			_, err := c.RenewalOrder(ctx, provider.RenewalOrderRequest{RequestID: "r1", VmIDs: []string{"v1"},
				IsAutoRenewal: true, PriceToMonth: true})
			return err
		}, kv{"requestId": "r1", "vmIds": []any{"v1"}, "isToMonth": "0", "priceToMonth": "1", "isAutoRenewal": "1"},
			"isAutoRenewal always sent: the server's default is 1"},
		{"QuerySubAccounts", func(c *Client) error {
			_, err := c.QuerySubAccounts(ctx, provider.QuerySubAccountsRequest{Email: "a+b@x.com", Name: "n", Remark: "保定 *~"})
			return err
		}, kv{"email": "a+b@x.com", "name": "n", "remark": "保定 *~"}, "GET values with characters the signature encodes specially"},
		{"CreateSubAccount", func(c *Client) error {
			_, err := c.CreateSubAccount(ctx, provider.CreateSubAccountRequest{Email: "e@x", Name: "n", Remark: "r"})
			return err
		}, kv{"requestId": "generated-rid", "email": "e@x", "name": "n", "remark": "r"}, "POST, requestId generated"},
		{"CreateSubAccounts", func(c *Client) error {
			_, err := c.CreateSubAccounts(ctx, provider.CreateSubAccountsRequest{RequestID: "r1",
				Accounts: []provider.NewSubAccount{{Email: "a@x", Name: "a", Remark: "ra"}, {Email: "b@x", Name: "b"}}})
			return err
		}, kv{"requestId": "r1", "createAccountParams": []any{
			kv{"email": "a@x", "name": "a", "remark": "ra"}, kv{"email": "b@x", "name": "b"}}}, "list of objects of strings"},
		{"ChangeSubAccountName", func(c *Client) error {
			_, err := c.ChangeSubAccountName(ctx, provider.ChangeSubAccountNameRequest{RequestID: "r1", Email: "e@x", Name: "m"})
			return err
		}, kv{"requestId": "r1", "email": "e@x", "name": "m"}, "POST"},
		{"ChangeSubAccountRemark", func(c *Client) error {
			_, err := c.ChangeSubAccountRemark(ctx, provider.ChangeSubAccountRemarkRequest{RequestID: "r1", Emails: []string{"e@x"}, Remark: "r"})
			return err
		}, kv{"requestId": "r1", "emails": []any{"e@x"}, "remark": "r"}, "array of emails"},
		{"CreateDefaultNet", func(c *Client) error {
			_, err := c.CreateDefaultNet(ctx, provider.CreateDefaultNetRequest{RequestID: "r1", SiteID: "s1"})
			return err
		}, kv{"requestId": "r1", "siteId": "s1"}, "async POST"},
		{"SupplyDefaultNet", func(c *Client) error {
			_, err := c.SupplyDefaultNet(ctx, provider.SupplyDefaultNetRequest{RequestID: "r1", SiteID: "s1"})
			return err
		}, kv{"requestId": "r1", "siteId": "s1"}, "async POST"},
		{"GetDefaultNet", func(c *Client) error {
			_, err := c.GetDefaultNet(ctx, provider.GetDefaultNetRequest{SiteID: "s1"})
			return err
		}, kv{"requestId": "generated-rid", "siteId": "s1"}, "GET with a generated requestId"},
		{"GetCustomNet", func(c *Client) error {
			_, err := c.GetCustomNet(ctx, provider.GetCustomNetRequest{RequestID: "r1", SiteID: "s1"})
			return err
		}, kv{"requestId": "r1", "siteId": "s1"}, "GET"},
		{"GetLineBillingScheme", func(c *Client) error {
			_, err := c.GetLineBillingScheme(ctx, provider.GetLineBillingSchemeRequest{RequestID: "r1", SiteID: "s1"})
			return err
		}, kv{"requestId": "r1", "siteId": "s1"}, "GET"},
		{"GetEipPrice", func(c *Client) error {
			_, err := c.GetEipPrice(ctx, provider.GetEipPriceRequest{RequestID: "r1", SiteID: "s1", Size: 1, BandwidthConfID: "1069", QosMbps: 5})
			return err
		}, kv{"requestId": "r1", "siteId": "s1", "size": "1", "bandwidthConfId": "1069", "qos": "5"}, "GET numbers as strings"},
		{"QueryVms", func(c *Client) error {
			_, err := c.QueryVms(ctx, provider.QueryVmsRequest{SiteID: "s1", BillMethod: &monthly, VpcName: "保定-云桌面 默认VPC*~/+"})
			return err
		}, kv{"siteId": "s1", "billMethod": "1", "vpcName": "保定-云桌面 默认VPC*~/+"}, "GET; billMethod 1 is monthly"},
		{"QueryVm", func(c *Client) error { _, err := c.QueryVm(ctx, provider.QueryVmRequest{VmID: "gcw-0123"}); return err },
			kv{"vmId": "gcw-0123"}, "GET; ids are not validated as UUIDs"},
		{"QueryExpireVms", func(c *Client) error {
			_, err := c.QueryExpireVms(ctx, provider.QueryExpireVmsRequest{})
			return err
		}, kv{}, "GET without parameters"},
		{"CreateVm", func(c *Client) error {
			_, err := c.CreateVm(ctx, provider.CreateVmRequest{RequestID: "r1", SiteID: "s1", ProductID: "p1", ImageID: "i1",
				Name: "ws", Num: 3, HostNo: 1, BillCycle: provider.BillCycleMonthly, Duration: 1, IsAutoRenewal: true,
				QosMbps: 5, VpcID: "vpc", SubnetNetID: "sn", VGatewayNetID: "gw", VGatewayConfID: "10298"})
			return err
		}, kv{"requestId": "r1", "siteId": "s1", "productId": "p1", "imageId": "i1", "name": "ws", "num": "3", "hostNo": "1",
			"billCycle": "month", "duration": "1", "isToMonth": "0", "isAutoRenewal": "1", "priceToMonth": "0", "qos": "5",
			"vpcId": "vpc", "subnetNetId": "sn", "vgatewayNetId": "gw", "vgatewayConfId": "10298"},
			"lower-case g gateway keys; monthly terms sent for monthly billing"},
		{"OperateVm", func(c *Client) error {
			_, err := c.OperateVm(ctx, provider.OperateVmRequest{RequestID: "r1", Action: provider.PowerOff, VmIDs: []string{"v1"}})
			return err
		}, kv{"requestId": "r1", "action": "off", "vmIds": []any{"v1"}}, "typed power action to its wire string"},
		{"RebuildVm", func(c *Client) error {
			_, err := c.RebuildVm(ctx, provider.RebuildVmRequest{RequestID: "r1", VmID: "v1", ImageID: "i1"})
			return err
		}, kv{"requestId": "r1", "vmId": "v1", "imageId": "i1"}, "a mutation over GET: parameters signed in the query"},
		{"DeleteVm", func(c *Client) error {
			_, err := c.DeleteVm(ctx, provider.DeleteVmRequest{RequestID: "r1", VmID: "v1"})
			return err
		}, kv{"requestId": "r1", "vmId": "v1"}, "POST"},
		{"ChangeVmName", func(c *Client) error {
			_, err := c.ChangeVmName(ctx, provider.ChangeVmNameRequest{RequestID: "r1", VmID: "v1", Name: "新"})
			return err
		}, kv{"requestId": "r1", "vmId": "v1", "name": "新"}, "POST"},
		{"UpdateVmLabels", func(c *Client) error {
			_, err := c.UpdateVmLabels(ctx, provider.UpdateVmLabelsRequest{RequestID: "r1", VmIDs: nil, Label: "l"})
			return err
		}, kv{"requestId": "r1", "vmIds": []any{}, "label": "l"}, "an empty id list is [] not null"},
		{"ChangeAccount", func(c *Client) error {
			_, err := c.ChangeAccount(ctx, provider.ChangeAccountRequest{RequestID: "r1", VmID: "v1", AccountID: "a1"})
			return err
		}, kv{"requestId": "r1", "vmId": "v1", "accountId": "a1"}, "POST"},
		{"UnbindAccounts", func(c *Client) error {
			_, err := c.UnbindAccounts(ctx, provider.UnbindAccountsRequest{RequestID: "r1", VmIDs: []string{"v1"}})
			return err
		}, kv{"requestId": "r1", "vmIds": []any{"v1"}}, "POST"},
		{"BindAccounts", func(c *Client) error {
			_, err := c.BindAccounts(ctx, provider.BindAccountsRequest{RequestID: "r1", VmIDs: []string{"v1"}, AccountID: "a1"})
			return err
		}, kv{"requestId": "r1", "vmIds": []any{"v1"}, "accountId": "a1"}, "POST"},
	}
	covered := map[string]bool{}
	for _, tc := range tests {
		covered[tc.action] = true
		t.Run(tc.action, func(t *testing.T) {
			f := newFake(t, nil)
			c, _ := newTestClient(t, f.srv.URL+"/gcw", nil)
			if err := tc.call(c); err != nil {
				t.Fatalf("call: %v", err)
			}
			reqs := f.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			info, _ := provider.LookupAction(provider.Action(tc.action))
			if r.method != info.Method || r.path != "/gcw/" || r.query.Get("Action") != tc.action {
				t.Fatalf("got %s %s Action=%s, want %s /gcw/ %s", r.method, r.path, r.query.Get("Action"), info.Method, tc.action)
			}
			if !r.sigValid {
				t.Errorf("signature does not verify with provider.Sign (%s)", tc.reason)
			}
			if r.query.Get("Timestamp") != "2022-06-01T00:00:00Z" || r.query.Get("Version") != provider.APIVersion {
				t.Errorf("common parameters wrong: %v", r.query)
			}
			var keys []string
			for k := range r.query {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			wantKeys := append([]string(nil), commonKeys...)
			if info.Method == "GET" {
				for k, v := range tc.want {
					wantKeys = append(wantKeys, k)
					if r.query.Get(k) != v {
						t.Errorf("query %s = %q, want %q (%s)", k, r.query.Get(k), v, tc.reason)
					}
				}
				if len(r.body) != 0 {
					t.Errorf("GET with a body %q", r.body)
				}
			} else {
				if r.contentType != "application/json" {
					t.Errorf("Content-Type %q", r.contentType)
				}
				got := bodyMap(t, r.body)
				if !reflect.DeepEqual(got, map[string]any(tc.want)) {
					t.Errorf("body = %v\nwant   %v (%s)", got, tc.want, tc.reason)
				}
				assertStringLeaves(t, "body", got)
			}
			sort.Strings(wantKeys)
			if !reflect.DeepEqual(keys, wantKeys) {
				t.Errorf("query keys = %v, want %v (POST: common parameters only)", keys, wantKeys)
			}
		})
	}
	for _, a := range provider.Actions {
		if !covered[string(a.Name)] {
			t.Errorf("action %s has no wire-format case", a.Name)
		}
	}
}

// assertStringLeaves fails on any JSON number, boolean or null in v: the wire takes strings.
func assertStringLeaves(t *testing.T, path string, v any) {
	t.Helper()
	switch x := v.(type) {
	case string:
	case map[string]any:
		for k, e := range x {
			assertStringLeaves(t, path+"."+k, e)
		}
	case []any:
		for _, e := range x {
			assertStringLeaves(t, path+"[]", e)
		}
	default:
		t.Errorf("%s is %T (%v), want a string", path, v, v)
	}
}

func TestCreateVmOmitsEmptyGatewayAndMonthlyTerms(t *testing.T) {
	f := newFake(t, nil)
	c, _ := newTestClient(t, f.srv.URL, nil)
	_, err := c.CreateVm(context.Background(), provider.CreateVmRequest{RequestID: "r1", SiteID: "s", ProductID: "p",
		ImageID: "i", Name: "n", QosMbps: 5, VpcID: "v", SubnetNetID: "sn", IsAutoRenewal: true})
	if err != nil {
		t.Fatal(err)
	}
	body := bodyMap(t, f.requests()[0].body)
	for _, k := range []string{"vgatewayNetId", "vgatewayConfId", "vGatewayNetId", "vGatewayConfId", "isAutoRenewal",
		"duration", "num", "hostNo", "billCycle"} {
		if _, ok := body[k]; ok {
			t.Errorf("body has %s: a network without gateway and per-minute billing send none (%v)", k, body)
		}
	}
}

package gcw

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider"
)

func serveBody(t *testing.T, status int, body string) *Client {
	t.Helper()
	f := newFake(t, func(_ int, _ *http.Request, w http.ResponseWriter) { writeJSON(w, status, body) })
	c, _ := newTestClient(t, f.srv.URL, func(cfg *Config) { cfg.MaxRetries = -1 })
	return c
}

func TestEnvelopeSpellings(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		reason string
	}{
		{"upper", `{"Code":"Success","Message":"","Data":{"vmIds":["a"]}}`, "documented spelling"},
		{"lower", `{"code":"Success","msg":null,"data":{"vmIds":["a"]},"requestId":null,"status":0}`, "QueryImages/QueryExpireVms examples"},
		{"case", `{"code":"SUCCESS","message":"","data":{"vmIds":["a"]}}`, "Code compared case-insensitively"},
		{"mixed", `{"CODE":"success","MSG":"","DATA":{"vmIds":["a"]}}`, "any case of the key names"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := serveBody(t, 200, tc.body)
			got, err := c.QueryVms(context.Background(), provider.QueryVmsRequest{})
			if err != nil {
				t.Fatalf("err %v (%s)", err, tc.reason)
			}
			if !reflect.DeepEqual(got.VmIDs, []string{"a"}) {
				t.Errorf("VmIDs = %v (%s)", got.VmIDs, tc.reason)
			}
		})
	}
}

func TestAPIErrorMapping(t *testing.T) {
	long := strings.Repeat("x", 5000)
	tests := []struct {
		name       string
		status     int
		body       string
		wantCode   string
		wantMsg    string
		wantHTTP   int
		check      func(error) bool
		maxBodyLen int
		reason     string
	}{
		{"string-code", 200, `{"Code":"10006","Message":"参数错误","Data":null}`, "10006", "参数错误", 200,
			provider.IsNotFound, 0, "assumed error shape: numeric code as a string"},
		{"number-code", 200, `{"code":13004,"msg":"当前状态无法重装"}`, "13004", "当前状态无法重装", 200,
			provider.IsWrongState, 0, "a number where a string is expected is tolerated"},
		{"word-code", 200, `{"Code":"Failed","Message":"nope"}`, "Failed", "nope", 200,
			func(err error) bool { _, ok := provider.AsAPIError(err); return ok }, 0, "anything but Success is an error"},
		{"http-400", 400, `<html>bad request</html>`, "", "Bad Request", 400,
			func(err error) bool { _, ok := provider.AsAPIError(err); return ok }, 0, "non-200 keeps status and body"},
		{"http-403-envelope", 403, `{"Code":"10007","Message":"权限不足"}`, "10007", "权限不足", 403,
			provider.IsPermission, 0, "a non-200 body that is an envelope gives its code"},
		{"http-404-long", 404, long, "", "Not Found", 404,
			func(err error) bool { return true }, maxErrorBody + len("...(truncated)"), "long bodies are truncated"},
		{"malformed", 200, `not json`, "", "", 200,
			func(err error) bool { _, ok := provider.AsAPIError(err); return ok }, 0, "a 200 that is not an envelope is an error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := serveBody(t, tc.status, tc.body)
			_, err := c.QueryVm(context.Background(), provider.QueryVmRequest{VmID: "v"})
			ae, ok := provider.AsAPIError(err)
			if !ok {
				t.Fatalf("err = %v (%T), want *APIError (%s)", err, err, tc.reason)
			}
			if !tc.check(err) {
				t.Errorf("helper check failed for %v (%s)", err, tc.reason)
			}
			if ae.Code != tc.wantCode || (tc.wantMsg != "" && ae.Message != tc.wantMsg) || ae.HTTPStatus != tc.wantHTTP {
				t.Errorf("got code %q msg %q http %d, want %q %q %d (%s)", ae.Code, ae.Message, ae.HTTPStatus,
					tc.wantCode, tc.wantMsg, tc.wantHTTP, tc.reason)
			}
			if ae.Action != "QueryVm" || ae.Body == "" {
				t.Errorf("Action %q Body %q: both kept", ae.Action, ae.Body)
			}
			if tc.maxBodyLen > 0 && len(ae.Body) > tc.maxBodyLen {
				t.Errorf("Body length %d > %d", len(ae.Body), tc.maxBodyLen)
			}
		})
	}
}

func TestMutationAPIErrorCarriesRequestID(t *testing.T) {
	c := serveBody(t, 200, `{"Code":"13012","Message":"仅支持已关机状态"}`)
	_, err := c.UnbindAccounts(context.Background(), provider.UnbindAccountsRequest{RequestID: "rid-7", VmIDs: []string{"v"}})
	ae, ok := provider.AsAPIError(err)
	if !ok || ae.RequestID != "rid-7" || !provider.IsWrongState(err) {
		t.Fatalf("err = %v", err)
	}
}

func TestDecodeQueryVm(t *testing.T) {
	c := serveBody(t, 200, `{"Code":"Success","Data":{"accountEmail":"","accountName":"","billMethod":"1","bw":"5",
		"eip":"移动:120.226.84.70","expireTime":"2098-12-31T16:00:00.000+0000","label":"l","privateIp":"vlan1704:10.1.0.14",
		"productId":"p","publicIp":"10.3.0.4","siteId":"s","status":"stoping","vmName":"openapi_test_2","vpcId":"vpc",
		"vpcName":"娄底-云桌面默认VPC"},"Message":""}`)
	d, err := c.QueryVm(context.Background(), provider.QueryVmRequest{VmID: "gcw-0123456789abcdef0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	want := provider.Desktop{ID: "gcw-0123456789abcdef0123456789abcdef", Name: "openapi_test_2", SiteID: "s", ProductID: "p",
		BillMethod: provider.BillMethodMonthly, VpcID: "vpc", VpcName: "娄底-云桌面默认VPC", EIP: "移动:120.226.84.70",
		PrivateIP: "vlan1704:10.1.0.14", PublicIP: "10.3.0.4", BandwidthMbps: 5, Label: "l",
		ExpireTime: provider.TimeValue{Time: time.Date(2098, 12, 31, 16, 0, 0, 0, time.UTC), Raw: "2098-12-31T16:00:00.000+0000"},
		Status:     provider.StatusBusy, RawStatus: "stoping"}
	if !d.ExpireTime.Time.Equal(want.ExpireTime.Time) {
		t.Errorf("ExpireTime %v", d.ExpireTime)
	}
	d.ExpireTime.Time, want.ExpireTime.Time = time.Time{}, time.Time{}
	if !reflect.DeepEqual(*d, want) {
		t.Errorf("got  %+v\nwant %+v (numbers sent as strings tolerated)", *d, want)
	}
}

func TestDecodeDefaultNetSpellings(t *testing.T) {
	seg := `{"conf_id":"10289","conf_name":"电信","dns":"[\"119.29.29.29\",\"114.114.114.114\"]","gateway":"10.2.0.1",
		"id":"gw1","ip_address":"10.2.0.0","ip_type":"virtual_gateway","mask":16,"name":"电信默认网关","not_used":65520,
		"used_num":16,"status":"ok","status_str":"正常","vlan_id":"1431"}`
	sub := `{"dns":["8.8.8.8"],"gateway":"10.1.0.1","id":"sn1","ip_address":"10.1.0.0","ip_type":"subnet","mask":"16",
		"name":"子网1","not_used":"65520","used_num":16,"status":"ok","vlan_id":1704}`
	tests := []struct {
		name   string
		key    string
		reason string
	}{
		{"example", "vgateways", "the examples' spelling"},
		{"table", "vGateways", "the table's spelling"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := serveBody(t, 200, `{"Code":"Success","Data":{"id":476,"createTime":"2022-05-07 14:03:44","deleteFlag":false,
				"subnets":[`+sub+`],"`+tc.key+`":[`+seg+`],"vpcId":"vpc","vpcName":"n","vpcSegment":"10.0.0.0/8"}}`)
			n, err := c.GetDefaultNet(context.Background(), provider.GetDefaultNetRequest{SiteID: "s"})
			if err != nil {
				t.Fatal(err)
			}
			if len(n.VGateways) != 1 || n.VGateways[0].ConfID != "10289" || n.VGateways[0].Type != provider.NetVirtualGateway {
				t.Fatalf("VGateways = %+v (%s)", n.VGateways, tc.reason)
			}
			if !reflect.DeepEqual(n.VGateways[0].DNS, []string{"119.29.29.29", "114.114.114.114"}) {
				t.Errorf("dns inside a string: %v", n.VGateways[0].DNS)
			}
			s := n.Subnets[0]
			if s.Mask != 16 || s.NotUsed != 65520 || s.VlanID != "1704" || !reflect.DeepEqual(s.DNS, []string{"8.8.8.8"}) {
				t.Errorf("subnet = %+v: loose numbers and a plain dns array are tolerated", s)
			}
			if n.ID != 476 || n.CreateTime.IsZero() || n.CreateTime.Time.UTC().Hour() != 6 {
				t.Errorf("network = %+v: createTime taken as UTC+8", n)
			}
		})
	}
}

func TestDecodeNullDefaultNet(t *testing.T) {
	c := serveBody(t, 200, `{"Code":"Success","Data":null}`)
	n, err := c.GetDefaultNet(context.Background(), provider.GetDefaultNetRequest{SiteID: "s"})
	if err != nil || n != nil {
		t.Fatalf("got %+v, %v: no default network is (nil, nil)", n, err)
	}
}

func TestDecodeCreateSubAccountsMesssage(t *testing.T) {
	c := serveBody(t, 200, `{"Code":"Success","Data":{"failedNum":1,"successNum":"0","failedMsgs":[{"name":"m",
		"email":"e@x","remark":"long","messsage":"备注过长"}]},"Message":""}`)
	r, err := c.CreateSubAccounts(context.Background(), provider.CreateSubAccountsRequest{RequestID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	want := &provider.CreateSubAccountsResponse{RequestID: "r1", FailedNum: 1,
		Failed: []provider.FailedSubAccount{{Name: "m", Email: "e@x", Remark: "long", Message: "备注过长"}}}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("got %+v, want %+v (three-s messsage)", r, want)
	}
}

func TestDecodeLinesAndOrders(t *testing.T) {
	c := serveBody(t, 200, `{"Code":"Success","Data":[{"billing_scheme":[{"billing_cycle_id":"minute","billing_items":[
		{"id":"i","key":"Bandwidth","name":"固定带宽-电信"}],"billing_method":"0","billing_scheme_id":"bs","billing_scheme_name":"n",
		"billing_type":"number","goods_id":"16319"}],"conf_id":10289,"conf_name":"电信"}]}`)
	lines, err := c.GetLineBillingScheme(context.Background(), provider.GetLineBillingSchemeRequest{SiteID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || lines[0].ConfID != "10289" || lines[0].BillingSchemes[0].GoodsID != "16319" ||
		lines[0].BillingSchemes[0].Items[0].Key != "Bandwidth" {
		t.Errorf("lines = %+v: conf_id number kept as a string", lines)
	}
	c = serveBody(t, 200, `{"Code":"Success","Data":{"failedMsg":"x","failedVmIds":["b"],"requestId":"r9","successVmIds":["a"]}}`)
	o, err := c.RenewalOrder(context.Background(), provider.RenewalOrderRequest{RequestID: "r9", VmIDs: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(o.SuccessVmIDs, []string{"a"}) || !reflect.DeepEqual(o.FailedVmIDs, []string{"b"}) || o.FailedMsg != "x" {
		t.Errorf("order = %+v: partial success reported per desktop", o)
	}
}

func TestDecodeTaskAndCreate(t *testing.T) {
	c := serveBody(t, 200, `{"Code":"Success","Data":{"requestId":"r1","taskId":"t1","vmIds":["v1","v2"]}}`)
	r, err := c.CreateVm(context.Background(), provider.CreateVmRequest{RequestID: "r1"})
	if err != nil || r.TaskID != "t1" || !reflect.DeepEqual(r.VmIDs, []string{"v1", "v2"}) {
		t.Fatalf("CreateVm = %+v, %v", r, err)
	}
	c = serveBody(t, 200, `{"Code":"Success","Data":{"failReason":"x","requestId":"r1","status":"Failed","taskId":"t1"}}`)
	task, err := c.QueryTask(context.Background(), provider.QueryTaskRequest{TaskID: "t1", RequestID: "r1"})
	if err != nil || task.Status != provider.TaskFailed || task.FailReason != "x" {
		t.Fatalf("QueryTask = %+v, %v", task, err)
	}
}

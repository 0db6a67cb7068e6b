package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider"
)

// TestActionsHappyPath runs every action once, in an order that makes each one meaningful, over
// raw signed HTTP.
func TestActionsHappyPath(t *testing.T) {
	e := newEnv(t, Options{Seed: 1})
	vm := e.createVms("happy", 2, nil)
	acc := "7e7ba91e-4357-470a-9609-ce60d9d7e38f"
	var lastTask, lastReq string

	tests := []struct {
		reason string
		method string
		action string
		query  map[string]string
		body   map[string]any
		check  func(t *testing.T, r result)
	}{
		{"sites are listed with the reference's keys", "GET", "QuerySites", nil, nil, func(t *testing.T, r result) {
			if len(r.list()) != 3 || r.list()[0].(map[string]any)["siteName"] != "宿迁A" {
				t.Errorf("sites: %v", r.list())
			}
		}},
		{"siteId filters the sites", "GET", "QuerySites", map[string]string{"siteId": SiteXiangyang}, nil, func(t *testing.T, r result) {
			if len(r.list()) != 1 {
				t.Errorf("sites: %v", r.list())
			}
		}},
		{"products carry goodsId and prices", "GET", "QueryProducts", map[string]string{"siteId": SiteSuqianB}, nil, func(t *testing.T, r result) {
			p := r.list()[0].(map[string]any)
			if p["goodsId"].(float64) != 15264 || p["requirePrice"].(float64) != 0.1868333333 || len(r.list()) != 2 {
				t.Errorf("products: %v", r.list())
			}
		}},
		{"images are grouped by product into public and private", "GET", "QueryImages", map[string]string{"productId": ProductA5000Win}, nil, func(t *testing.T, r result) {
			p := r.list()[0].(map[string]any)
			if len(p["publicImages"].([]any)) != 1 || len(p["privateImages"].([]any)) != 1 {
				t.Errorf("images: %v", p)
			}
		}},
		{"per-minute price is per hour", "POST", "QueryVmPrice", nil, map[string]any{"requestId": "r1", "siteId": SiteSuqianA, "goodsId": "15264"}, func(t *testing.T, r result) {
			if r.obj()["tradeAmount"].(float64) != 11.21 {
				t.Errorf("price: %v", r.obj())
			}
		}},
		{"monthly price is the period's total", "POST", "QueryVmPrice", nil, map[string]any{"requestId": "r1", "siteId": SiteSuqianA, "goodsId": "15264", "billCycle": "month", "duration": "2", "num": "2"}, func(t *testing.T, r result) {
			if r.obj()["tradeAmount"].(float64) != 3364*4 {
				t.Errorf("price: %v", r.obj())
			}
		}},
		{"sub-accounts list with status", "GET", "QuerySubAccounts", map[string]string{"email": "17716313367@163.com"}, nil, func(t *testing.T, r result) {
			if len(r.list()) != 1 || r.list()[0].(map[string]any)["status"] != "create" {
				t.Errorf("accounts: %v", r.list())
			}
		}},
		{"a sub-account is created", "POST", "CreateSubAccount", nil, map[string]any{"requestId": "r2", "email": "a@x.com", "name": "a", "remark": "备注"}, nil},
		{"batch creation reports failures with the key messsage", "POST", "CreateSubAccounts", nil, map[string]any{"requestId": "r3", "createAccountParams": []any{
			map[string]any{"email": "b@x.com", "name": "b"},
			map[string]any{"email": "c@x.com", "name": "c", "remark": strings.Repeat("长", 31)},
		}}, func(t *testing.T, r result) {
			d := r.obj()
			if d["successNum"].(float64) != 1 || d["failedNum"].(float64) != 1 {
				t.Errorf("batch: %v", d)
			}
			if _, ok := d["failedMsgs"].([]any)[0].(map[string]any)["messsage"]; !ok {
				t.Errorf("failedMsgs lacks messsage: %v", d)
			}
		}},
		{"a sub-account is renamed by email", "POST", "ChangeSubAccountName", nil, map[string]any{"requestId": "r4", "email": "a@x.com", "name": "a2"}, nil},
		{"remarks change in batch", "POST", "ChangeSubAccountRemark", nil, map[string]any{"requestId": "r5", "emails": []any{"a@x.com", "b@x.com"}, "remark": "新备注"}, nil},
		{"宿迁A's default net has its subnet and two gateways, spelled vgateways", "GET", "GetDefaultNet", map[string]string{"siteId": SiteSuqianA, "requestId": "r6"}, nil, func(t *testing.T, r result) {
			if len(r.obj()["subnets"].([]any)) != 1 || len(r.obj()["vgateways"].([]any)) != 2 {
				t.Errorf("net: %v", r.obj())
			}
		}},
		{"襄阳A has no default net yet: Data null", "GET", "GetDefaultNet", map[string]string{"siteId": SiteXiangyang, "requestId": "r6"}, nil, func(t *testing.T, r result) {
			if r.data() != nil {
				t.Errorf("net: %v", r.data())
			}
		}},
		{"CreateDefaultNet returns a task", "POST", "CreateDefaultNet", nil, map[string]any{"requestId": "r7", "siteId": SiteXiangyang}, func(t *testing.T, r result) {
			lastTask, lastReq = r.obj()["taskId"].(string), "r7"
		}},
		{"SupplyDefaultNet returns a task", "POST", "SupplyDefaultNet", nil, map[string]any{"requestId": "r8", "siteId": SiteSuqianB}, nil},
		{"custom VPCs are listed", "GET", "GetCustomNet", map[string]string{"siteId": SiteSuqianA, "requestId": "r9"}, nil, func(t *testing.T, r result) {
			if len(r.list()) != 1 || r.list()[0].(map[string]any)["vpcName"] != "宿迁-渲染VPC" {
				t.Errorf("custom: %v", r.list())
			}
		}},
		{"three lines with billing schemes", "GET", "GetLineBillingScheme", map[string]string{"siteId": SiteSuqianA, "requestId": "r10"}, nil, func(t *testing.T, r result) {
			if len(r.list()) != 3 || r.list()[1].(map[string]any)["conf_id"].(float64) != 10298 {
				t.Errorf("lines: %v", r.list())
			}
		}},
		{"EIP price has three parts", "GET", "GetEipPrice", map[string]string{"siteId": SiteSuqianA, "requestId": "r11", "size": "1", "bandwidthConfId": "10289", "qos": "5"}, nil, func(t *testing.T, r result) {
			if r.obj()["total_price"].(map[string]any)["price_str"] != "2.00" {
				t.Errorf("eip: %v", r.obj())
			}
		}},
		{"QueryVms lists the created desktops", "GET", "QueryVms", map[string]string{"siteId": SiteSuqianA, "billMethod": "0"}, nil, func(t *testing.T, r result) {
			if len(r.obj()["vmIds"].([]any)) != 2 {
				t.Errorf("vms: %v", r.obj())
			}
		}},
		{"QueryVm shows the desktop without image, account id or auto-renewal", "GET", "QueryVm", map[string]string{"vmId": vm[0]}, nil, func(t *testing.T, r result) {
			d := r.obj()
			if d["vmName"] != "happy" || d["status"] != "using" || d["eip"] == "" || d["billMethod"].(float64) != 0 {
				t.Errorf("vm: %v", d)
			}
			for _, k := range []string{"imageId", "accountId", "isAutoRenewal", "autoRenew"} {
				if _, ok := d[k]; ok {
					t.Errorf("QueryVm returns %s", k)
				}
			}
		}},
		{"nothing expires soon", "GET", "QueryExpireVms", nil, nil, func(t *testing.T, r result) {
			if len(r.list()) != 0 {
				t.Errorf("expire: %v", r.list())
			}
		}},
		{"a desktop is renamed", "POST", "ChangeVmName", nil, map[string]any{"requestId": "r12", "vmId": vm[0], "name": "renamed"}, nil},
		{"labels change in batch", "POST", "UpdateVmLabels", nil, map[string]any{"requestId": "r13", "vmIds": toAny(vm), "label": "渲染"}, nil},
		{"an unbound running desktop can be bound", "POST", "ChangeAccount", nil, map[string]any{"requestId": "r14", "vmId": vm[0], "accountId": acc}, nil},
		{"running unbound desktops can be bound in batch", "POST", "BindAccounts", nil, map[string]any{"requestId": "r15", "vmIds": []any{vm[1]}, "accountId": acc}, nil},
		{"per-minute to monthly reports success per desktop", "POST", "UpdateOrder", nil, map[string]any{"requestId": "r16", "vmIds": toAny(vm), "duration": "1", "isToMonth": "1"}, func(t *testing.T, r result) {
			if len(r.obj()["successVmIds"].([]any)) != 2 || len(r.obj()["failedVmIds"].([]any)) != 0 {
				t.Errorf("order: %v", r.obj())
			}
		}},
		{"monthly desktops renew", "POST", "RenewalOrder", nil, map[string]any{"requestId": "r17", "vmIds": []any{vm[0]}, "duration": "3"}, func(t *testing.T, r result) {
			if len(r.obj()["successVmIds"].([]any)) != 1 {
				t.Errorf("renew: %v", r.obj())
			}
		}},
		{"power off returns a task and the vmIds", "POST", "OperateVm", nil, map[string]any{"requestId": "r18", "action": "off", "vmIds": toAny(vm)}, func(t *testing.T, r result) {
			lastTask, lastReq = r.obj()["taskId"].(string), "r18"
			e.clock.Advance(time.Minute)
		}},
		{"the power task completed", "GET", "QueryTask", nil, nil, nil},
		{"stopped desktops unbind", "POST", "UnbindAccounts", nil, map[string]any{"requestId": "r19", "vmIds": toAny(vm)}, nil},
		{"a stopped desktop rebuilds over GET", "GET", "RebuildVm", map[string]string{"requestId": "r20", "vmId": vm[0], "imageId": ImageCustom}, nil, func(t *testing.T, r result) {
			if r.obj()["vmId"] != vm[0] {
				t.Errorf("rebuild: %v", r.obj())
			}
		}},
		{"a desktop is deleted", "POST", "DeleteVm", nil, map[string]any{"requestId": "r21", "vmId": vm[1]}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.action, func(t *testing.T) {
			q, body := tc.query, tc.body
			if tc.action == "QueryTask" {
				q = map[string]string{"taskId": lastTask, "requestId": lastReq}
			}
			r := e.must(e.do(tc.method, tc.action, q, bodyOrNil(body)))
			if tc.action == "QueryTask" && r.obj()["status"] != "Completed" {
				t.Errorf("%s: task %v", tc.reason, r.obj())
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
	e.clock.Advance(time.Minute)
	if d, _ := e.sim.Desktop(vm[0]); d.ImageID != ImageCustom || d.Status != StatusStopped || d.AccountID != "" || !d.Monthly {
		t.Errorf("after rebuild: %+v", d)
	}
	if _, ok := e.sim.Desktop(vm[1]); ok {
		t.Errorf("deleted desktop still there")
	}
	if _, ok := e.sim.DefaultNet(SiteXiangyang); !ok {
		t.Errorf("CreateDefaultNet made no net")
	}
	if v, _ := e.sim.DefaultNet(SiteSuqianB); len(v.Gateways) != 2 {
		t.Errorf("SupplyDefaultNet added no gateways: %+v", v)
	}
	if a, _ := e.sim.AccountByEmail("a@x.com"); a.Name != "a2" || a.Remark != "新备注" || a.Status != AccountCreated {
		t.Errorf("account: %+v", a)
	}
	seen := map[provider.Action]bool{}
	for a := range e.sim.Calls() {
		seen[a] = true
	}
	for _, a := range Actions() {
		if !seen[a] {
			t.Errorf("action %s not exercised", a)
		}
	}
}

func bodyOrNil(b map[string]any) any {
	if b == nil {
		return nil
	}
	return b
}

package sim

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRules checks each rule of the reference with its error code, on a fresh cloud per case.
func TestRules(t *testing.T) {
	const acc = "7e7ba91e-4357-470a-9609-ce60d9d7e38f"
	createBody := func(mod map[string]any) map[string]any {
		b := map[string]any{"requestId": "r", "siteId": SiteSuqianA, "productId": ProductA5000Win, "name": "x",
			"imageId": ImageWin10, "qos": "5", "vpcId": VPCDefaultSuqianA, "subnetNetId": "73d2c7ec-cdcb-11ec-a318-ee97882ecf7d",
			"vgatewayNetId": "80587138-cdcb-11ec-a318-ee97882ecf7d", "vgatewayConfId": "10298"}
		for k, v := range mod {
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
		}
		return b
	}
	type call struct {
		method, action string
		query          map[string]string
		body           func(e *env, vm []string) map[string]any
	}
	tests := []struct {
		name     string
		reason   string
		opt      Options
		setup    func(e *env, vm []string)
		call     call
		wantCode string
	}{
		{"rebuild-running", "RebuildVm only on a stopped desktop", Options{}, nil,
			call{"GET", "RebuildVm", nil, nil}, "13004"},
		{"rebuild-busy", "a desktop in a transitional status is not stopped: RebuildVm's 13004, not OperateVm's 13002", Options{},
			func(e *env, vm []string) {
				e.must(e.post("OperateVm", map[string]any{"requestId": "r", "action": "off", "vmIds": toAny(vm)}))
			},
			call{"GET", "RebuildVm", nil, nil}, "13004"},
		{"rebuild-image-unavailable", "only Available/Using images rebuild", Options{},
			func(e *env, vm []string) {
				e.power("off", vm...)
				_ = e.sim.SetImageStatus(ImageCustom, SiteSuqianA, ImageError)
			},
			call{"GET", "RebuildVm", map[string]string{"imageId": ImageCustom}, nil}, "10003"},
		{"unbind-running", "UnbindAccounts only on stopped desktops", Options{},
			func(e *env, vm []string) { _ = e.sim.ConsoleBind(vm[0], acc) },
			call{"POST", "UnbindAccounts", nil, func(_ *env, vm []string) map[string]any { return map[string]any{"requestId": "r", "vmIds": toAny(vm)} }}, "13012"},
		{"rebind-running", "a bound desktop re-binds only when stopped", Options{},
			func(e *env, vm []string) {
				id, _ := e.sim.AddAccount(Account{ID: "other", Name: "o", Email: "o@x.com"})
				_ = e.sim.ConsoleBind(vm[0], id)
			},
			call{"POST", "ChangeAccount", nil, func(_ *env, vm []string) map[string]any {
				return map[string]any{"requestId": "r", "vmId": vm[0], "accountId": acc}
			}}, "13011"},
		{"bind-creating-account", "an account still creating cannot be bound", Options{},
			func(e *env, vm []string) {
				e.must(e.post("CreateSubAccount", map[string]any{"requestId": "r", "email": "n@x.com", "name": "n"}))
			},
			call{"POST", "BindAccounts", nil, func(e *env, vm []string) map[string]any {
				a, _ := e.sim.AccountByEmail("n@x.com")
				return map[string]any{"requestId": "r", "vmIds": toAny(vm), "accountId": a.ID}
			}}, "13013"},
		{"update-monthly", "UpdateOrder converts per-minute only", Options{},
			func(e *env, vm []string) {
				e.must(e.post("UpdateOrder", map[string]any{"requestId": "r", "vmIds": toAny(vm)}))
			},
			call{"POST", "UpdateOrder", nil, func(_ *env, vm []string) map[string]any { return map[string]any{"requestId": "r", "vmIds": toAny(vm)} }}, "12503"},
		{"renew-per-minute", "RenewalOrder works on monthly desktops only", Options{}, nil,
			call{"POST", "RenewalOrder", nil, func(_ *env, vm []string) map[string]any { return map[string]any{"requestId": "r", "vmIds": toAny(vm)} }}, "12504"},
		{"quota-monthly", "monthly quota", Options{MonthlyQuota: 1}, nil,
			call{"POST", "CreateVm", nil, func(*env, []string) map[string]any {
				return createBody(map[string]any{"billCycle": "month", "num": "2"})
			}}, "12501"},
		{"quota-monthly-update", "monthly quota also caps UpdateOrder", Options{MonthlyQuota: 1},
			func(e *env, vm []string) {
				e.must(e.post("UpdateOrder", map[string]any{"requestId": "r", "vmIds": toAny(vm)}))
			},
			call{"POST", "UpdateOrder", nil, func(e *env, _ []string) map[string]any {
				return map[string]any{"requestId": "r", "vmIds": toAny(e.createVms("w", 1, nil))}
			}}, "12501"},
		{"quota-on-demand", "on-demand quota", Options{OnDemandQuota: 2}, nil,
			call{"POST", "CreateVm", nil, func(*env, []string) map[string]any { return createBody(map[string]any{"num": "2"}) }}, "12502"},
		{"capacity", "no resources left", Options{},
			func(e *env, vm []string) {
				_ = e.sim.AddProduct(Product{ID: ProductA5000Win, SiteID: SiteSuqianA, Name: "图形处理型", GoodsID: 15264, OS: "windows", Capacity: 1})
			},
			call{"POST", "CreateVm", nil, func(*env, []string) map[string]any { return createBody(nil) }}, "13000"},
		{"image-synchronizing", "an image Synchronizing at the site cannot create", Options{}, nil,
			call{"POST", "CreateVm", nil, func(*env, []string) map[string]any {
				return createBody(map[string]any{"siteId": SiteSuqianB, "imageId": ImageCustom, "vpcId": VPCDefaultSuqianB, "subnetNetId": "b36b43a8-e706-11ec-8171-32f9a7e748fc"})
			}}, "10003"},
		{"unknown-product", "a product not offered at the site", Options{}, nil,
			call{"POST", "CreateVm", nil, func(*env, []string) map[string]any {
				return createBody(map[string]any{"productId": ProductT4Win, "siteId": SiteXiangyang})
			}}, "10006"},
		{"bad-network", "a subnet outside the VPC", Options{}, nil,
			call{"POST", "CreateVm", nil, func(*env, []string) map[string]any { return createBody(map[string]any{"subnetNetId": "nope"}) }}, "13505"},
		{"bad-gateway-conf", "a gateway conf_id that does not match", Options{}, nil,
			call{"POST", "CreateVm", nil, func(*env, []string) map[string]any {
				return createBody(map[string]any{"vGatewayNetId": "80587138-cdcb-11ec-a318-ee97882ecf7d", "vGatewayConfId": "10289"})
			}}, "13505"},
		{"missing-required", "a required parameter is missing", Options{}, nil,
			call{"POST", "CreateVm", nil, func(*env, []string) map[string]any { return createBody(map[string]any{"imageId": nil}) }}, "10003"},
		{"non-string", "a string parameter sent as a number", Options{}, nil,
			call{"POST", "CreateVm", nil, func(*env, []string) map[string]any { return createBody(map[string]any{"num": 1}) }}, "10003"},
		{"hostno-zero", "hostNo must be greater than 0", Options{}, nil,
			call{"POST", "CreateVm", nil, func(*env, []string) map[string]any { return createBody(map[string]any{"hostNo": "0"}) }}, "10003"},
		{"remark-long", "a remark over 30 characters", Options{}, nil,
			call{"POST", "CreateSubAccount", nil, func(*env, []string) map[string]any {
				return map[string]any{"requestId": "r", "email": "l@x.com", "name": "l", "remark": strings.Repeat("a", 31)}
			}}, "10003"},
		{"remark-long-change", "a remark over 30 characters, changed", Options{}, nil,
			call{"POST", "ChangeSubAccountRemark", nil, func(*env, []string) map[string]any {
				return map[string]any{"requestId": "r", "emails": []any{"17716313367@163.com"}, "remark": strings.Repeat("长", 31)}
			}}, "10003"},
		{"email-taken", "emails are unique", Options{}, nil,
			call{"POST", "CreateSubAccount", nil, func(*env, []string) map[string]any {
				return map[string]any{"requestId": "r", "email": "17716313367@163.com", "name": "dup"}
			}}, "11000"},
		{"task-unknown", "QueryTask for another requestId", Options{}, nil,
			call{"GET", "QueryTask", map[string]string{"taskId": "t", "requestId": "r"}, nil}, "10006"},
		{"vm-unknown", "QueryVm of an unknown desktop", Options{}, nil,
			call{"GET", "QueryVm", map[string]string{"vmId": "gcw-0123"}, nil}, "10006"},
		{"billmethod-2", "QueryVms billMethod is 0 or 1", Options{}, nil,
			call{"GET", "QueryVms", map[string]string{"billMethod": "2"}, nil}, "10003"},
		{"operate-unknown-op", "OperateVm action must be on/off/reboot", Options{}, nil,
			call{"POST", "OperateVm", nil, func(_ *env, vm []string) map[string]any {
				return map[string]any{"requestId": "r", "action": "suspend", "vmIds": toAny(vm)}
			}}, "10006"},
		{"default-net-twice", "CreateDefaultNet on a site that has one", Options{}, nil,
			call{"POST", "CreateDefaultNet", nil, func(*env, []string) map[string]any { return map[string]any{"requestId": "r", "siteId": SiteSuqianA} }}, "13500"},
		{"supply-without-net", "SupplyDefaultNet on a site without a default net", Options{}, nil,
			call{"POST", "SupplyDefaultNet", nil, func(*env, []string) map[string]any { return map[string]any{"requestId": "r", "siteId": SiteXiangyang} }}, "13506"},
		{"price-cycle", "QueryVmPrice billCycle is minute, month or year", Options{}, nil,
			call{"POST", "QueryVmPrice", nil, func(*env, []string) map[string]any {
				return map[string]any{"requestId": "r", "siteId": SiteSuqianA, "goodsId": "15264", "billCycle": "week"}
			}}, "10003"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opt)
			vm := e.createVms("v", 1, nil)
			if tc.setup != nil {
				tc.setup(e, vm)
			}
			q := map[string]string{}
			var body any
			if tc.call.method == "GET" && tc.call.action == "RebuildVm" {
				q = map[string]string{"requestId": "r", "vmId": vm[0], "imageId": ImageWin10}
			}
			for k, v := range tc.call.query {
				q[k] = v
			}
			if tc.call.body != nil {
				body = tc.call.body(e, vm)
			}
			r := e.do(tc.call.method, tc.call.action, q, body)
			if r.status != http.StatusOK || r.code() != tc.wantCode {
				t.Errorf("%s: got HTTP %d %v, want code %s", tc.reason, r.status, r.raw, tc.wantCode)
			}
			if msg, _ := r.raw["Message"].(string); tc.wantCode != "Success" && !strings.HasPrefix(msg, errText[tc.wantCode]) {
				t.Errorf("%s: message %q does not start with the reference's text", tc.reason, msg)
			}
		})
	}
}

// TestBindingRules checks the permitted side of the binding rules.
func TestBindingRules(t *testing.T) {
	e := newEnv(t, Options{})
	vm := e.createVms("b", 1, nil)
	other, _ := e.sim.AddAccount(Account{Name: "o", Email: "o@x.com"})
	const acc = "7e7ba91e-4357-470a-9609-ce60d9d7e38f"
	e.must(e.post("ChangeAccount", map[string]any{"requestId": "r", "vmId": vm[0], "accountId": acc}))
	e.power("off", vm[0])
	e.must(e.post("ChangeAccount", map[string]any{"requestId": "r", "vmId": vm[0], "accountId": other}))
	r := e.must(e.get("QueryVm", map[string]string{"vmId": vm[0]}))
	if r.obj()["accountEmail"] != "o@x.com" {
		t.Errorf("rebind of a stopped desktop: %v", r.obj())
	}
	r = e.must(e.get("QueryVms", map[string]string{"email": "o@x.com"}))
	if len(r.obj()["vmIds"].([]any)) != 1 {
		t.Errorf("QueryVms by email: %v", r.obj())
	}
}

// TestPartialOrder: UpdateOrder beyond the monthly quota reports per-desktop failures.
func TestPartialOrder(t *testing.T) {
	e := newEnv(t, Options{MonthlyQuota: 2})
	vm := e.createVms("p", 3, nil)
	r := e.must(e.post("UpdateOrder", map[string]any{"requestId": "r", "vmIds": toAny(vm)}))
	if len(r.obj()["successVmIds"].([]any)) != 2 || len(r.obj()["failedVmIds"].([]any)) != 1 || r.obj()["failedMsg"] == "" {
		t.Errorf("partial: %v", r.obj())
	}
}

// TestMonthlyExpiry: isToMonth periods, the expiry list, and the expired status.
func TestMonthlyExpiry(t *testing.T) {
	e := newEnv(t, Options{})
	vm := e.createVms("m", 1, map[string]any{"billCycle": "month", "isToMonth": "1"})
	r := e.must(e.get("QueryVm", map[string]string{"vmId": vm[0]}))
	// t0 is 2026-06-22 12:19:08 Beijing time: to the month's end means 2026-07-01 00:00 Beijing.
	if r.obj()["expireTime"] != "2026-06-30T16:00:00.000+0000" || r.obj()["billMethod"].(float64) != 1 {
		t.Errorf("expiry: %v", r.obj())
	}
	e.clock.Advance(2 * 24 * time.Hour)
	r = e.must(e.get("QueryExpireVms", nil))
	if len(r.list()) != 1 || r.list()[0].(map[string]any)["vmName"] != "m" {
		t.Errorf("expire list: %v", r.raw)
	}
	e.clock.Advance(10 * 24 * time.Hour)
	r = e.must(e.get("QueryVm", map[string]string{"vmId": vm[0]}))
	if r.obj()["status"] != "asMonthExpired" {
		t.Errorf("expired status: %v", r.obj())
	}
}

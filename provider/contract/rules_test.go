package contract_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/provider/sim"
)

// ruleCase is one rule of docs/api-readings.md, "Rules the reference states": in a fresh world
// prepared by setup, the call that breaks the rule must fail with code (and be recognised by is),
// and each call of respect must succeed.
type ruleCase struct {
	name    string
	reason  string
	simOpt  func(*sim.Options)
	setup   func(e *env) map[string]string
	code    string
	is      func(error) bool
	breakIt func(e *env, v map[string]string) error
	respect []func(e *env, v map[string]string) error
	calls   int // mutating calls breakIt makes (default 1)
}

func monthlyReq(name string) provider.CreateVmRequest {
	r := vmReq(name)
	r.BillCycle = provider.BillCycleMonthly
	r.Duration = 1
	return r
}

// createAsync starts CreateVm and waits for its task only when it was accepted.
func createAsync(e *env, r provider.CreateVmRequest) error {
	resp, err := e.c.CreateVm(ctx, r)
	if err != nil {
		return err
	}
	_, err = e.wait(resp.TaskID, resp.RequestID)
	return err
}

func TestRules(t *testing.T) {
	remark30 := strings.Repeat("备", 30)
	remark31 := strings.Repeat("备", 31)
	oneVm := func(e *env) map[string]string { return map[string]string{"vm": e.createVm("r1")} }
	stoppedVm := func(e *env) map[string]string {
		v := oneVm(e)
		e.power(provider.PowerOff, v["vm"])
		return v
	}
	cases := []ruleCase{
		{
			name: "RebuildVm needs stopped", reason: "RebuildVm only on a stopped desktop (13004)",
			setup: oneVm, code: provider.CodeRebuildNotStopped, is: provider.IsWrongState,
			breakIt: func(e *env, v map[string]string) error {
				_, err := e.c.RebuildVm(ctx, provider.RebuildVmRequest{VmID: v["vm"], ImageID: sim.ImageWin10})
				return err
			},
			respect: []func(*env, map[string]string) error{func(e *env, v map[string]string) error {
				e.power(provider.PowerOff, v["vm"])
				rb, err := e.c.RebuildVm(ctx, provider.RebuildVmRequest{VmID: v["vm"], ImageID: sim.ImageWin10})
				if err != nil {
					return err
				}
				_, err = e.wait(rb.TaskID, rb.RequestID)
				return err
			}},
		},
		{
			name: "UnbindAccounts needs stopped", reason: "UnbindAccounts only on stopped desktops (13012)",
			setup: func(e *env) map[string]string {
				v := oneVm(e)
				if _, err := e.c.ChangeAccount(ctx, provider.ChangeAccountRequest{VmID: v["vm"], AccountID: seedAccountID}); err != nil {
					t.Fatal(err)
				}
				return v
			},
			code: provider.CodeUnbindNotStopped, is: provider.IsWrongState,
			breakIt: func(e *env, v map[string]string) error {
				_, err := e.c.UnbindAccounts(ctx, provider.UnbindAccountsRequest{VmIDs: []string{v["vm"]}})
				return err
			},
			respect: []func(*env, map[string]string) error{func(e *env, v map[string]string) error {
				e.power(provider.PowerOff, v["vm"])
				_, err := e.c.UnbindAccounts(ctx, provider.UnbindAccountsRequest{VmIDs: []string{v["vm"]}})
				return err
			}},
		},
		{
			name: "ChangeAccount re-bind needs stopped",
			reason: "ChangeAccount: a desktop with no account can be bound running or stopped; one that has an " +
				"account can be re-bound only when stopped (13011)",
			setup: func(e *env) map[string]string {
				v := map[string]string{"bound": e.createVm("bound"), "free": e.createVm("free"), "acc": e.readyAccount("two@example.com")}
				if _, err := e.c.ChangeAccount(ctx, provider.ChangeAccountRequest{VmID: v["bound"], AccountID: seedAccountID}); err != nil {
					t.Fatal(err)
				}
				return v
			},
			code: provider.CodeChangeAccountState, is: provider.IsWrongState,
			breakIt: func(e *env, v map[string]string) error {
				_, err := e.c.ChangeAccount(ctx, provider.ChangeAccountRequest{VmID: v["bound"], AccountID: v["acc"]})
				return err
			},
			respect: []func(*env, map[string]string) error{
				func(e *env, v map[string]string) error { // unbound and running
					_, err := e.c.ChangeAccount(ctx, provider.ChangeAccountRequest{VmID: v["free"], AccountID: v["acc"]})
					return err
				},
				func(e *env, v map[string]string) error { // bound and stopped
					e.power(provider.PowerOff, v["bound"])
					_, err := e.c.ChangeAccount(ctx, provider.ChangeAccountRequest{VmID: v["bound"], AccountID: v["acc"]})
					if err == nil && e.vm(v["bound"]).AccountEmail != "two@example.com" {
						t.Error("re-bind accepted but not applied")
					}
					return err
				},
			},
		},
		{
			name: "UpdateOrder per-minute to monthly only", reason: "UpdateOrder converts per-minute billing to monthly only (12503)",
			setup: func(e *env) map[string]string {
				return map[string]string{"pm": e.createVm("pm"), "mo": e.createVms(monthlyReq("mo"))[0]}
			},
			code: provider.CodeAlreadyMonthly, is: provider.IsBillingDirection,
			breakIt: func(e *env, v map[string]string) error {
				_, err := e.c.UpdateOrder(ctx, provider.UpdateOrderRequest{VmIDs: []string{v["mo"]}})
				return err
			},
			respect: []func(*env, map[string]string) error{func(e *env, v map[string]string) error {
				r, err := e.c.UpdateOrder(ctx, provider.UpdateOrderRequest{VmIDs: []string{v["pm"]}})
				if err == nil && !slices.Equal(r.SuccessVmIDs, []string{v["pm"]}) {
					t.Errorf("UpdateOrder = %+v", r)
				}
				return err
			}},
		},
		{
			name: "RenewalOrder monthly only", reason: "RenewalOrder works on monthly desktops only (12504)",
			setup: func(e *env) map[string]string {
				return map[string]string{"pm": e.createVm("pm"), "mo": e.createVms(monthlyReq("mo"))[0]}
			},
			code: provider.CodeNotMonthly, is: provider.IsBillingDirection,
			breakIt: func(e *env, v map[string]string) error {
				_, err := e.c.RenewalOrder(ctx, provider.RenewalOrderRequest{VmIDs: []string{v["pm"]}})
				return err
			},
			respect: []func(*env, map[string]string) error{func(e *env, v map[string]string) error {
				r, err := e.c.RenewalOrder(ctx, provider.RenewalOrderRequest{VmIDs: []string{v["mo"]}})
				if err == nil && !slices.Equal(r.SuccessVmIDs, []string{v["mo"]}) {
					t.Errorf("RenewalOrder = %+v", r)
				}
				return err
			}},
		},
		{
			name: "monthly quota", reason: "Quotas: 12501 (monthly)",
			simOpt: func(o *sim.Options) { o.MonthlyQuota = 1 },
			setup:  func(e *env) map[string]string { e.createVms(monthlyReq("mo")); return nil },
			code:   provider.CodeMonthlyQuota, is: provider.IsQuota,
			breakIt: func(e *env, _ map[string]string) error { return createAsync(e, monthlyReq("mo2")) },
			respect: []func(*env, map[string]string) error{func(e *env, _ map[string]string) error {
				return createAsync(e, vmReq("pm")) // per-minute is not capped
			}},
		},
		{
			name: "monthly quota on UpdateOrder", reason: "Quotas: 12501 (monthly) also bounds conversion to monthly",
			simOpt: func(o *sim.Options) { o.MonthlyQuota = 1 },
			setup: func(e *env) map[string]string {
				return map[string]string{"mo": e.createVms(monthlyReq("mo"))[0], "pm": e.createVm("pm")}
			},
			code: provider.CodeMonthlyQuota, is: provider.IsQuota,
			breakIt: func(e *env, v map[string]string) error {
				_, err := e.c.UpdateOrder(ctx, provider.UpdateOrderRequest{VmIDs: []string{v["pm"]}})
				return err
			},
			respect: []func(*env, map[string]string) error{func(e *env, v map[string]string) error {
				// Once the monthly desktop is gone there is room again.
				resp, err := e.c.DeleteVm(ctx, provider.DeleteVmRequest{VmID: v["mo"]})
				if err != nil {
					return err
				}
				e.mustWait(resp.TaskID, resp.RequestID)
				_, err = e.c.UpdateOrder(ctx, provider.UpdateOrderRequest{VmIDs: []string{v["pm"]}})
				return err
			}},
		},
		{
			name: "on-demand quota", reason: "Quotas: 12502 (on-demand)",
			simOpt: func(o *sim.Options) { o.OnDemandQuota = 1 },
			setup:  func(e *env) map[string]string { e.createVm("pm"); return nil },
			code:   provider.CodeOnDemandQuota, is: provider.IsQuota,
			breakIt: func(e *env, _ map[string]string) error { return createAsync(e, vmReq("pm2")) },
			respect: []func(*env, map[string]string) error{func(e *env, _ map[string]string) error {
				return createAsync(e, monthlyReq("mo"))
			}},
		},
		{
			name: "no capacity", reason: "13000 no resources left",
			setup: func(e *env) map[string]string {
				p := sim.DefaultCatalog().Products[0] // A5000 windows at 宿迁A
				p.Capacity = 2
				if err := e.sim.AddProduct(p); err != nil {
					t.Fatal(err)
				}
				e.createVm("one")
				return nil
			},
			code: provider.CodeNoCapacity, is: provider.IsNoCapacity,
			breakIt: func(e *env, _ map[string]string) error {
				r := vmReq("two")
				r.Num = 2
				return createAsync(e, r)
			},
			respect: []func(*env, map[string]string) error{func(e *env, _ map[string]string) error {
				return createAsync(e, vmReq("two"))
			}},
		},
		{
			name: "remark length on create", reason: "Sub-account remark: at most 30 characters (counted as characters, not bytes)",
			code: provider.CodeBadParameters, is: provider.IsBadParameters,
			breakIt: func(e *env, _ map[string]string) error {
				_, err := e.c.CreateSubAccount(ctx, provider.CreateSubAccountRequest{Email: "r31@example.com", Name: "r", Remark: remark31})
				return err
			},
			respect: []func(*env, map[string]string) error{func(e *env, _ map[string]string) error {
				_, err := e.c.CreateSubAccount(ctx, provider.CreateSubAccountRequest{Email: "r30@example.com", Name: "r", Remark: remark30})
				if err == nil && e.account("r30@example.com").Remark != remark30 {
					t.Error("30-character remark not kept")
				}
				return err
			}},
		},
		{
			name: "remark length on change", reason: "Sub-account remark: at most 30 characters (ChangeSubAccountRemark)",
			code: provider.CodeBadParameters, is: provider.IsBadParameters,
			breakIt: func(e *env, _ map[string]string) error {
				_, err := e.c.ChangeSubAccountRemark(ctx, provider.ChangeSubAccountRemarkRequest{Emails: []string{seedAccountEml}, Remark: remark31})
				return err
			},
			respect: []func(*env, map[string]string) error{func(e *env, _ map[string]string) error {
				_, err := e.c.ChangeSubAccountRemark(ctx, provider.ChangeSubAccountRemarkRequest{Emails: []string{seedAccountEml}, Remark: remark30})
				return err
			}},
		},
		{
			// The reference gives no dedicated code for an unusable image; the emulator answers 10003
			// (parameters not as required), the closest documented code of CreateVm.
			name: "image status at the site for CreateVm", reason: "Only images Available or Using at the site may create desktops",
			code: provider.CodeBadParameters, is: provider.IsBadParameters,
			breakIt: func(e *env, _ map[string]string) error {
				r := vmReq("img")
				r.SiteID, r.VpcID, r.SubnetNetID, r.VGatewayNetID, r.VGatewayConfID = sim.SiteSuqianB, sim.VPCDefaultSuqianB, subnetSuqianB, "", ""
				r.ImageID = sim.ImageCustom // Synchronizing at 宿迁B
				return createAsync(e, r)
			},
			respect: []func(*env, map[string]string) error{
				func(e *env, _ map[string]string) error { // Available at 宿迁A
					r := vmReq("img")
					r.ImageID = sim.ImageCustom
					return createAsync(e, r)
				},
				func(e *env, _ map[string]string) error { // Using at 襄阳A (default net created first)
					cr, err := e.c.CreateDefaultNet(ctx, provider.CreateDefaultNetRequest{SiteID: sim.SiteXiangyang})
					if err != nil {
						return err
					}
					e.mustWait(cr.TaskID, cr.RequestID)
					n, err := e.c.GetDefaultNet(ctx, provider.GetDefaultNetRequest{SiteID: sim.SiteXiangyang})
					if err != nil {
						return err
					}
					r := vmReq("img-using")
					r.SiteID, r.VpcID, r.SubnetNetID = sim.SiteXiangyang, n.VpcID, n.Subnets[0].ID
					r.VGatewayNetID, r.VGatewayConfID = n.VGateways[0].ID, n.VGateways[0].ConfID
					return createAsync(e, r)
				},
			},
		},
		{
			name: "image status at the site for RebuildVm", reason: "Only images Available or Using at the site may rebuild desktops",
			setup: func(e *env) map[string]string {
				v := stoppedVm(e)
				if err := e.sim.SetImageStatus(sim.ImageCustom, sim.SiteSuqianA, sim.ImageError); err != nil {
					t.Fatal(err)
				}
				return v
			},
			code: provider.CodeBadParameters, is: provider.IsBadParameters,
			breakIt: func(e *env, v map[string]string) error {
				_, err := e.c.RebuildVm(ctx, provider.RebuildVmRequest{VmID: v["vm"], ImageID: sim.ImageCustom})
				return err
			},
			respect: []func(*env, map[string]string) error{func(e *env, v map[string]string) error {
				if err := e.sim.SetImageStatus(sim.ImageCustom, sim.SiteSuqianA, sim.ImageUsing); err != nil {
					t.Fatal(err)
				}
				_, err := e.c.RebuildVm(ctx, provider.RebuildVmRequest{VmID: v["vm"], ImageID: sim.ImageCustom})
				return err
			}},
		},
		{
			// docs/api-readings.md: the virtual gateway was withdrawn in later versions; a network whose
			// default net has no gateway must still work, sending none. A gateway that is named must exist.
			name: "gateway optional", reason: "a network with no gateway still creates (none sent)",
			code: provider.CodeNetworkCheckFailed,
			breakIt: func(e *env, _ map[string]string) error {
				r := vmReq("gw")
				r.VGatewayNetID = "no-such-gateway"
				return createAsync(e, r)
			},
			respect: []func(*env, map[string]string) error{func(e *env, _ map[string]string) error {
				r := vmReq("nogw")
				r.SiteID, r.VpcID, r.SubnetNetID, r.VGatewayNetID, r.VGatewayConfID = sim.SiteSuqianB, sim.VPCDefaultSuqianB, subnetSuqianB, "", ""
				resp, err := e.c.CreateVm(ctx, r)
				if err != nil {
					return err
				}
				e.mustWait(resp.TaskID, resp.RequestID)
				if d := e.vm(resp.VmIDs[0]); d.EIP != "" || d.PublicIP != "" || d.PrivateIP == "" || d.Status != provider.StatusRunning {
					t.Errorf("gateway-less desktop = %+v", d)
				}
				return nil
			}},
		},
		{
			// The reference names no code for binding a "creating" account; the emulator answers each
			// action's own failure code (13013 BindAccounts, 13011 ChangeAccount).
			name: "bind only a created account", reason: "A new sub-account is creating before create; bind only once it is create",
			setup: func(e *env) map[string]string {
				v := oneVm(e)
				if _, err := e.c.CreateSubAccount(ctx, provider.CreateSubAccountRequest{Email: "new@example.com", Name: "new"}); err != nil {
					t.Fatal(err)
				}
				v["acc"] = e.account("new@example.com").AccountID
				return v
			},
			code: provider.CodeBindFailed,
			breakIt: func(e *env, v map[string]string) error {
				_, err := e.c.BindAccounts(ctx, provider.BindAccountsRequest{VmIDs: []string{v["vm"]}, AccountID: v["acc"]})
				return err
			},
			respect: []func(*env, map[string]string) error{func(e *env, v map[string]string) error {
				e.clock.Advance(taskDur)
				if st := e.account("new@example.com").Status; st != provider.AccountReady {
					t.Fatalf("status %q", st)
				}
				_, err := e.c.BindAccounts(ctx, provider.BindAccountsRequest{VmIDs: []string{v["vm"]}, AccountID: v["acc"]})
				return err
			}},
		},
		{
			name: "busy desktop refuses work", reason: "desktops pass through transitional statuses and refuse work meanwhile (13002)",
			setup: func(e *env) map[string]string {
				v := oneVm(e)
				resp, err := e.c.OperateVm(ctx, provider.OperateVmRequest{Action: provider.PowerOff, VmIDs: []string{v["vm"]}})
				if err != nil {
					t.Fatal(err)
				}
				v["task"], v["req"] = resp.TaskID, resp.RequestID
				return v
			},
			code: provider.CodeOperationFailed, is: provider.IsWrongState, calls: 3,
			breakIt: func(e *env, v map[string]string) error {
				_, err := e.c.OperateVm(ctx, provider.OperateVmRequest{Action: provider.PowerOn, VmIDs: []string{v["vm"]}})
				if err == nil {
					return nil
				}
				// DeleteVm refuses with 13002; RebuildVm with its own 13004 (the reference's code for any
				// state but stopped, a transition included).
				for _, c := range []struct {
					code string
					call func() error
				}{
					{provider.CodeOperationFailed, func() error { _, err := e.c.DeleteVm(ctx, provider.DeleteVmRequest{VmID: v["vm"]}); return err }},
					{provider.CodeRebuildNotStopped, func() error {
						_, err := e.c.RebuildVm(ctx, provider.RebuildVmRequest{VmID: v["vm"], ImageID: sim.ImageWin10})
						return err
					}},
				} {
					if e2 := c.call(); !provider.IsWrongState(e2) || e2.(*provider.APIError).Code != c.code {
						t.Errorf("while stopping: %v, want %s", e2, c.code)
					}
				}
				return err
			},
			respect: []func(*env, map[string]string) error{func(e *env, v map[string]string) error {
				e.mustWait(v["task"], v["req"])
				resp, err := e.c.OperateVm(ctx, provider.OperateVmRequest{Action: provider.PowerOn, VmIDs: []string{v["vm"]}})
				if err != nil {
					return err
				}
				_, err = e.wait(resp.TaskID, resp.RequestID)
				return err
			}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.simOpt, nil)
			var v map[string]string
			if tc.setup != nil {
				v = tc.setup(e)
			}
			before := e.sim.MutatingCalls()
			err := tc.breakIt(e, v)
			if err == nil {
				t.Fatalf("%s: the call breaking the rule succeeded", tc.reason)
			}
			wantCode(t, err, tc.code, tc.is)
			if tc.calls == 0 {
				tc.calls = 1
			}
			if got := e.sim.MutatingCalls() - before; got != tc.calls {
				t.Errorf("%s: %d mutating calls for the refused call, want %d (an API error is not retried)", tc.reason, got, tc.calls)
			}
			for i, ok := range tc.respect {
				if err := ok(e, v); err != nil {
					t.Fatalf("%s: respecting call %d failed: %v", tc.reason, i, err)
				}
			}
		})
	}
}

// TestCreateVmNaming: CreateVm with num > 1 names the first desktop name and the next ones name_NNN,
// starting at hostNo (reference: 如名称为“测试”、后续名称为测试_001、测试_002, hostNo 默认为1).
// Reading chosen (docs/api-readings.md: the numbering is ambiguous): hostNo numbers the second desktop.
func TestCreateVmNaming(t *testing.T) {
	cases := []struct {
		name, reason string
		num, hostNo  int
		want         []string
	}{
		{"default hostNo", "num=3: name, name_001, name_002", 3, 0, []string{"测试", "测试_001", "测试_002"}},
		{"hostNo 5", "hostNo sets the first number", 3, 5, []string{"测试", "测试_005", "测试_006"}},
		{"single", "num=1 keeps the name as given", 1, 7, []string{"测试"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil, nil)
			r := vmReq("测试")
			r.Num, r.HostNo = tc.num, tc.hostNo
			ids := e.createVms(r)
			var got []string
			for _, id := range ids {
				got = append(got, e.vm(id).Name)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("%s: names %v, want %v", tc.reason, got, tc.want)
			}
		})
	}
}

// TestStatusNormalised sets every raw status (docs/api-readings.md, "Desktop statuses") on a desktop
// (as the console would) and reads it back through the client: raw kept, normalised as package
// provider says.
func TestStatusNormalised(t *testing.T) {
	e := newEnv(t, nil, nil)
	id := e.createVm("s")
	cases := []struct {
		raw    string
		want   provider.Status
		reason string
	}{
		{"configuring", provider.StatusBusy, "being created"},
		{"rebooting", provider.StatusBusy, "transition"},
		{"starting", provider.StatusBusy, "transition"},
		{"using", provider.StatusRunning, "running"},
		{"stoping", provider.StatusBusy, "transition (API spelling)"},
		{"stop", provider.StatusStopped, "stopped"},
		{"deleteing", provider.StatusBusy, "deletion in progress (API spelling)"},
		{"deleted", provider.StatusGone, "gone"},
		{"dataMoving", provider.StatusBusy, "migrating"},
		{"error", provider.StatusFailed, "platform error"},
		{"asNeedExpiring", provider.StatusExpired, "arrears shutdown in progress"},
		{"asNeedExpired", provider.StatusExpired, "arrears shutdown"},
		{"asMonthExpiring", provider.StatusExpired, "term-end shutdown in progress"},
		{"asMonthExpired", provider.StatusExpired, "term ended"},
		{"logicalDeleted", provider.StatusGone, "gone"},
		{"destroying", provider.StatusGone, "reclaimed"},
		{"destroy", provider.StatusGone, "reclaimed"},
		{"invisibleError", provider.StatusFailed, "platform error"},
		{"somethingNew", provider.StatusUnknown, "unknown values are not acted on"},
	}
	for _, tc := range cases {
		if err := e.sim.ConsoleSetStatus(id, tc.raw); err != nil {
			t.Fatal(err)
		}
		d := e.vm(id)
		if d.RawStatus != tc.raw || d.Status != tc.want {
			t.Errorf("%s (%s): got %v/%q, want %v", tc.raw, tc.reason, d.Status, d.RawStatus, tc.want)
		}
	}
}

// TestMonthlyTerms: CreateVm's monthly term from the reference's own examples, started at 12:19:08 on
// the 22nd (Beijing time) as they are. The reference's third example ends "2022.12.1 12:19:08" while
// its first ends "2022.7.1 00:00:00" for the same isToMonth=1: the reading chosen (the emulator's) is
// that isToMonth=1 always ends at 00:00 on the 1st.
func TestMonthlyTerms(t *testing.T) {
	cases := []struct {
		name, reason string
		toMonth      bool
		duration     int
		want         time.Time
	}{
		{"to month 1", "isToMonth=1 duration=1: to 7.1 00:00:00", true, 1, time.Date(2026, 7, 1, 0, 0, 0, 0, cst)},
		{"whole month 1", "isToMonth=0 duration=1: to 7.22 12:19:08", false, 1, time.Date(2026, 7, 22, 12, 19, 8, 0, cst)},
		{"to month 6", "isToMonth=1 duration=6: to 12.1 (00:00, see above)", true, 6, time.Date(2026, 12, 1, 0, 0, 0, 0, cst)},
		{"whole month 6", "isToMonth=0 duration=6: to 12.22 12:19:08", false, 6, time.Date(2026, 12, 22, 12, 19, 8, 0, cst)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil, nil)
			if got := e.clock.Now().In(cst); !got.Equal(time.Date(2026, 6, 22, 12, 19, 8, 0, cst)) {
				t.Fatalf("start %v", got)
			}
			r := monthlyReq("m")
			r.IsToMonth, r.Duration = tc.toMonth, tc.duration
			resp, err := e.c.CreateVm(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			d := e.vm(resp.VmIDs[0])
			if d.BillMethod != provider.BillMethodMonthly || !d.ExpireTime.Time.Equal(tc.want) {
				t.Fatalf("%s: expire %v (%s), want %v", tc.reason, d.ExpireTime.Time.In(cst), d.ExpireTime.Raw, tc.want)
			}
		})
	}
}

package render

import (
	"fmt"
	"time"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/provider"
)

// Hand-built plans for the golden tests. They are built here rather than by engine.Diff so that the
// renderers are tested on every shape a plan can take, including ones a given spec does not produce.

var (
	planTime  = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	suqian    = engine.Site{ID: "site-sq-a", Name: "宿迁A"}
	xiangyang = engine.Site{ID: "site-xy-a", Name: "襄阳A"}
	win10     = engine.Image{ID: "img-w10", Name: "Windows10"}
	win11     = engine.Image{ID: "img-w11", Name: "Windows11"}
	monthly1  = engine.Billing{Plan: "monthly", Cycle: provider.BillCycleMonthly, Months: 1, AutoRenew: true}
	monthly3  = engine.Billing{Plan: "quarter", Cycle: provider.BillCycleMonthly, Months: 3}
)

func base(fleet string) *engine.Plan {
	return &engine.Plan{
		FormatVersion: engine.FormatVersion,
		Fleet:         fleet,
		CreatedAt:     planTime,
		SpecDigest:    "5e1c0d2f",
		StateSerial:   7,
		Reads:         engine.Reads{Desktops: 14, Accounts: 3, Sites: 2, Calls: 41, Elapsed: 1234 * time.Millisecond},
	}
}

// emptyPlan changes nothing.
func emptyPlan() *engine.Plan {
	p := base("studio")
	p.Changes = []engine.Change{{Object: engine.ObjectDesktop, Name: "render", ID: "9f3c81aa", Action: engine.ActionNoop, Attribute: "label"}}
	return p
}

// studioPlan is the plan of the studio plan sketch (its golden under testdata): accounts, creates with cost, in-place changes, a
// rebuild and a delete behind flags, an adoption, an out-of-band change, unmanaged desktops.
func studioPlan() *engine.Plan {
	p := base("studio")
	createDetail := "NVIDIA A5000 windows · Windows10-公共镜像-图像处理型 · 宿迁A · 5 Mbps · monthly x1, auto-renew · label \"team-a\""
	p.Changes = []engine.Change{
		{Object: engine.ObjectAccount, Name: "bob@example.com", Action: engine.ActionCreate, Attribute: "create", Detail: `name "bob"`, Steps: []int{1}},
		{Object: engine.ObjectAccount, Name: "alice@example.com", ID: "acc-71", Action: engine.ActionUpdate, Attribute: "remark", After: "设计部", Steps: []int{2}},
		{Object: engine.ObjectDesktop, Name: "render", Action: engine.ActionCreate, Attribute: "create", Detail: createDetail, Account: "alice@example.com", Steps: []int{3, 4}},
		{Object: engine.ObjectDesktop, Name: "render_001", Action: engine.ActionCreate, Attribute: "create", Detail: createDetail, Account: "bob@example.com", Steps: []int{3, 5}},
		{Object: engine.ObjectDesktop, Name: "render_002", Action: engine.ActionCreate, Attribute: "create", Detail: createDetail, Steps: []int{3}},
		{Object: engine.ObjectDesktop, Name: "edit", ID: "9f3c81aa-77b0", Action: engine.ActionUpdate, Attribute: "rename", Before: "edit-old", After: "edit", Steps: []int{12}},
		{Object: engine.ObjectDesktop, Name: "cad-01", ID: "19ab0c3e", Action: engine.ActionUpdate, Attribute: "label", Before: "team-a", After: "team-b", Steps: []int{6}},
		{Object: engine.ObjectDesktop, Name: "cad-01", ID: "19ab0c3e", Action: engine.ActionUpdate, Attribute: "billing", Before: "per-minute", After: "monthly x3", Reason: "one-way: the API cannot switch back", Steps: []int{7}},
		{Object: engine.ObjectDesktop, Name: "lab-03", ID: "2f0d4410", Action: engine.ActionRebuild, Attribute: "rebuild", Before: "Windows10", After: "Windows11", Reason: "wipes the system disk", Guard: engine.GuardRebuild, Account: "carol@example.com", Steps: []int{8, 9, 10}},
		{Object: engine.ObjectDesktop, Name: "scratch-9", ID: "88c2e001", Action: engine.ActionDelete, Attribute: "delete", Reason: "removed from the spec", Guard: engine.GuardDelete, Steps: []int{11}},
		{Object: engine.ObjectDesktop, Name: "lab-01", ID: "a1b2c3d4", Action: engine.ActionAdopt, Attribute: "adopt", Reason: "found by name; managed from now on"},
		{Object: engine.ObjectDesktop, Name: "cad-02", ID: "77e1aa00", Action: engine.ActionUpdate, Attribute: "label", Before: "tmp", After: "team-b", OutOfBand: true, Steps: []int{6}},
	}
	p.Steps = []engine.Step{
		{ID: 1, Op: engine.CreateSubAccounts{New: []engine.NewAccount{{Email: "bob@example.com", Name: "bob"}}}},
		{ID: 2, Op: engine.ChangeSubAccountRemark{Targets: []engine.AccountRef{{Email: "alice@example.com", ID: "acc-71"}}, Remark: "设计部"}},
		{ID: 3, Op: engine.CreateDesktops{Names: []string{"render", "render_001", "render_002"}, BaseName: "render", Site: suqian,
			ProductID: "prod-a5000-win", Product: "NVIDIA A5000 windows", GoodsID: 1201, Image: win10, Bandwidth: 5, Billing: monthly1,
			Network: engine.NetworkChoice{Default: true, VpcID: "vpc-1", SubnetID: "sn-1"}}},
		{ID: 4, Op: engine.BindAccounts{Account: engine.AccountRef{Email: "alice@example.com", ID: "acc-71"}, Targets: []engine.Target{{Name: "render"}}}, After: []int{3}},
		{ID: 5, Op: engine.BindAccounts{Account: engine.AccountRef{Email: "bob@example.com"}, Targets: []engine.Target{{Name: "render_001"}}}, After: []int{1, 3}},
		{ID: 6, Op: engine.LabelDesktops{Label: "team-b", Targets: []engine.Target{{Name: "cad-01", VmID: "19ab0c3e"}, {Name: "cad-02", VmID: "77e1aa00"}}}},
		{ID: 7, Op: engine.UpdateOrder{Billing: monthly3, Targets: []engine.Target{{Name: "cad-01", VmID: "19ab0c3e"}}}},
		{ID: 8, Op: engine.PowerDesktops{Power: provider.PowerOff, Targets: []engine.Target{{Name: "lab-03", VmID: "2f0d4410"}}}, Guard: engine.GuardRebuild},
		{ID: 9, Op: engine.RebuildDesktop{Desktop: engine.Target{Name: "lab-03", VmID: "2f0d4410"}, From: win10, To: win11}, After: []int{8}, Guard: engine.GuardRebuild},
		{ID: 10, Op: engine.PowerDesktops{Power: provider.PowerOn, Targets: []engine.Target{{Name: "lab-03", VmID: "2f0d4410"}}}, After: []int{9}, Guard: engine.GuardRebuild},
		{ID: 11, Op: engine.DeleteDesktop{Desktop: engine.Target{Name: "scratch-9", VmID: "88c2e001"}}, Guard: engine.GuardDelete},
		{ID: 12, Op: engine.RenameDesktop{Desktop: engine.Target{Name: "edit", VmID: "9f3c81aa-77b0"}, From: "edit-old"}},
	}
	p.Unmanaged = []string{"legacy-ws-01", "legacy-ws-02", "old-render"}
	p.Cost = &engine.Cost{Currency: "CNY", RunRateDelta: -11.21, Prepaid: 20184, Lines: []engine.CostLine{
		{What: "render x3, 1 month", Prepaid: 10092, Steps: []int{3}},
		{What: "cad-01, 3 months", Prepaid: 10092, PerHour: -2.8, Steps: []int{7}},
		{What: "scratch-9 deleted", PerHour: -8.41, Steps: []int{11}},
	}}
	row := func(key string, nowN int, now float64, afterN int, after float64) engine.CostRow {
		return engine.CostRow{Key: key, Now: engine.CostTotal{Desktops: nowN, Month: now}, Projected: engine.CostTotal{Desktops: afterN, Month: after}}
	}
	p.Monthly = &engine.MonthlyCost{Currency: "CNY", Fleet: row("studio", 5, 14321.5, 7, 41030.2), Groups: []engine.CostRow{
		row("(not in the spec)", 1, 6139.3, 0, 0), row("cad", 2, 6728, 2, 9492), row("lab", 2, 1454.2, 2, 1454.2), row("render", 0, 0, 3, 30084)}}
	return p
}

// everyAttributePlan has one change of every attribute the planner writes, names wide and long,
// values that diff well and badly, and a detail long enough to wrap.
func everyAttributePlan() *engine.Plan {
	p := base("lab")
	d := func(name, id string, a engine.Action, attr engine.Attribute, before, after string) engine.Change {
		return engine.Change{Object: engine.ObjectDesktop, Name: name, ID: id, Action: a, Attribute: attr, Before: before, After: after}
	}
	long := d("a-desktop-name-well-over-the-column-cap", "deadbeef01", engine.ActionUpdate, "power", "off", "on")
	replace := d("渲染-01", "0c0ffee0", engine.ActionReplace, "replace", "宿迁A", "襄阳A")
	replace.Reason, replace.Guard, replace.Account = "site changed: a new desktop, the old one deleted", engine.GuardReplace, "dave@example.com"
	create := d("solo", "", engine.ActionCreate, "create", "", "")
	create.Detail = "NVIDIA A5000 windows · Windows11-公共镜像-图像处理型-with-a-rather-long-image-name · 襄阳A · 10 Mbps · per-minute · label \"night shift\""
	create.Account = "erin@example.com"
	del := d("old-1", "99aa", engine.ActionDelete, "delete", "", "")
	del.Reason, del.Guard, del.Account = "removed from the spec", engine.GuardDelete, "frank@example.com"
	billing := d("cad-07", "71c0aa", engine.ActionUpdate, "billing", "per-minute", "monthly x1")
	billing.Reason = "one-way: the API cannot switch back"
	p.Changes = []engine.Change{
		{Object: engine.ObjectNetwork, Name: "宿迁A", ID: "site-sq-a", Action: engine.ActionCreate, Attribute: "network", After: "default VPC", Detail: "CreateDefaultNet, then SupplyDefaultNet for a subnet"},
		{Object: engine.ObjectAccount, Name: "gina@example.com", Action: engine.ActionCreate, Attribute: "create", Detail: `name "gina" · remark "ops"`},
		{Object: engine.ObjectAccount, Name: "alice@example.com", ID: "acc-71", Action: engine.ActionUpdate, Attribute: "name", Before: "alice", After: "alice.w"},
		{Object: engine.ObjectAccount, Name: "alice@example.com", ID: "acc-71", Action: engine.ActionUpdate, Attribute: "remark", Before: "设计部", After: "设计二部"},
		{Object: engine.ObjectAccount, Name: "old@example.com", ID: "acc-9", Action: engine.ActionForget, Attribute: "forget", Reason: "removed from the spec; the API cannot delete a sub-account"},
		create,
		d("edit", "9f3c81aa", engine.ActionUpdate, "rename", "edit-old", "edit"),
		d("cad-01", "19ab0c3e", engine.ActionUpdate, "label", "team-a", "team-b"),
		d("cad-01", "19ab0c3e", engine.ActionUpdate, "power", "on", "off"),
		d("cad-03", "19ab0c40", engine.ActionUpdate, "label", "alpha", "zulu"),
		d("cad-04", "19ab0c41", engine.ActionUpdate, "label", "", "team-a"),
		d("cad-05", "19ab0c42", engine.ActionUpdate, "label", "quote\"and\ttab", "quote'and tab"),
		long,
		{Object: engine.ObjectDesktop, Name: "cad-06", ID: "19ab0c43", Action: engine.ActionUpdate, Attribute: "bind", After: "dave@example.com", Account: "dave@example.com"},
		{Object: engine.ObjectDesktop, Name: "cad-08", ID: "19ab0c44", Action: engine.ActionUpdate, Attribute: "bind", Before: "alice@example.com", After: "bob@example.com", Account: "alice@example.com"},
		{Object: engine.ObjectDesktop, Name: "cad-09", ID: "19ab0c45", Action: engine.ActionUpdate, Attribute: "bind", Before: "bob@example.com", Account: "bob@example.com"},
		billing,
		{Object: engine.ObjectDesktop, Name: "cad-10", ID: "19ab0c46", Action: engine.ActionUpdate, Attribute: "renew", Before: "expires 2026-11-30", After: "expires 2026-12-30", Reason: "the term ends within renewWithin 168h"},
		{Object: engine.ObjectDesktop, Name: "lab-03", ID: "2f0d4410", Action: engine.ActionRebuild, Attribute: "rebuild", Before: "Windows10", After: "Windows11", Reason: "wipes the system disk", Guard: engine.GuardRebuild, Account: "carol@example.com"},
		replace,
		del,
		{Object: engine.ObjectDesktop, Name: "lab-01", ID: "a1b2c3d4", Action: engine.ActionAdopt, Attribute: "adopt", Reason: "found by name; managed from now on"},
		{Object: engine.ObjectDesktop, Name: "lab-01", ID: "a1b2c3d4", Action: engine.ActionUpdate, Attribute: "label", Before: "x", After: "team-a"},
		{Object: engine.ObjectDesktop, Name: "cad-02", ID: "77e1aa00", Action: engine.ActionUpdate, Attribute: "power", Before: "off", After: "on", OutOfBand: true},
		{Object: engine.ObjectAccount, Name: "bob@example.com", ID: "acc-72", Action: engine.ActionUpdate, Attribute: "remark", Before: "temp", After: "渲染组", OutOfBand: true},
	}
	return p
}

// problemsPlan has errors and warnings, with and without a position or hint.
func problemsPlan() *engine.Plan {
	p := base("studio")
	p.Changes = []engine.Change{{Object: engine.ObjectDesktop, Name: "cad-01", ID: "19ab0c3e", Action: engine.ActionUpdate, Attribute: "label", Before: "a", After: "b", Steps: []int{1}}}
	p.Steps = []engine.Step{{ID: 1, Op: engine.LabelDesktops{Label: "b", Targets: []engine.Target{{Name: "cad-01", VmID: "19ab0c3e"}}}}}
	p.Errors = []engine.Problem{
		{Object: engine.ObjectDesktop, Name: "lead", Pos: "fleet.yaml:31:5", Message: "billing monthly -> per-minute is impossible: the API cannot switch a monthly desktop back", Hint: "keep billing: monthly, or delete and recreate the desktop"},
		{Object: engine.ObjectDesktop, Name: "twin", Message: "two live desktops are named twin (4a1f0c2d, 4a1f0c2e)", Hint: "rename one in the console"},
	}
	p.Warnings = []engine.Problem{
		{Object: engine.ObjectAccount, Name: "old@example.com", Pos: "fleet.yaml:12:3", Message: "removed from the spec: forgotten, not deleted (the API has no delete)"},
	}
	return p
}

// errorsOnlyPlan cannot plan anything.
func errorsOnlyPlan() *engine.Plan {
	p := base("studio")
	p.Errors = []engine.Problem{{Object: engine.ObjectDesktop, Name: "lead", Pos: "fleet.yaml:31:5", Message: "monthly -> per-minute is impossible"}}
	return p
}

// guardsPlan deletes most of the fleet: each deletion is guarded and so is the plan as a whole.
func guardsPlan() *engine.Plan {
	p := base("farm")
	for i := range 5 {
		name := fmt.Sprintf("node-%02d", i)
		id := fmt.Sprintf("%08x", 0xa0000000+i)
		p.Changes = append(p.Changes, engine.Change{Object: engine.ObjectDesktop, Name: name, ID: id, Action: engine.ActionDelete,
			Attribute: "delete", Reason: "removed from the spec", Guard: engine.GuardDelete, Steps: []int{i + 1}})
		p.Steps = append(p.Steps, engine.Step{ID: i + 1, Op: engine.DeleteDesktop{Desktop: engine.Target{Name: name, VmID: id}}, Guard: engine.GuardDelete})
	}
	p.Guards = []engine.GuardFinding{
		{Guard: engine.GuardMassDelete, Message: "deletes 5 of 6 managed desktops (83%), more than --max-delete-percent 30"},
		{Guard: engine.GuardEmptySpec, Message: "the spec has no desktops | but the state has 6 <b>"},
	}
	return p
}

// bigPlan creates 1000 desktops alike, relabels 300 existing ones, deletes 12, and leaves 40 alone.
// throttledPlan is studioPlan read from an API that throttled 37 of its requests, the client's rate
// settling at 41.6 requests/s.
func throttledPlan() *engine.Plan {
	p := studioPlan()
	p.Reads.Throttle = &engine.Throttle{Throttled: 37, SettledRate: 41.6}
	return p
}

func bigPlan() *engine.Plan {
	p := base("farm")
	p.Reads = engine.Reads{Desktops: 352, Accounts: 2, Sites: 1, Calls: 9, Elapsed: 83 * time.Second}
	names := make([]string, 1000)
	targets := make([]engine.Target, 1000)
	for i := range names {
		names[i] = "farm"
		if i > 0 {
			names[i] = fmt.Sprintf("farm_%03d", i)
		}
		targets[i] = engine.Target{Name: names[i]}
		p.Changes = append(p.Changes, engine.Change{Object: engine.ObjectDesktop, Name: names[i], Action: engine.ActionCreate,
			Attribute: "create", Detail: "NVIDIA T4 linux · Ubuntu22 · 宿迁A · 5 Mbps · per-minute", Account: "render@example.com", Steps: []int{1, 2, 3}})
	}
	p.Steps = []engine.Step{
		{ID: 1, Op: engine.CreateDesktops{Names: names, BaseName: "farm", Site: suqian, ProductID: "prod-t4", Product: "NVIDIA T4 linux", GoodsID: 77,
			Image: engine.Image{ID: "img-u22", Name: "Ubuntu22"}, Bandwidth: 5, Billing: engine.Billing{Cycle: provider.BillCyclePerMinute},
			Network: engine.NetworkChoice{Default: true, VpcID: "vpc-1", SubnetID: "sn-1"}}},
		{ID: 2, Op: engine.BindAccounts{Account: engine.AccountRef{Email: "render@example.com", ID: "acc-5"}, Targets: targets}, After: []int{1}},
	}
	var relabel []engine.Target
	for i := range 300 {
		name, id := fmt.Sprintf("old-%03d", i), fmt.Sprintf("%08x", 0xb0000000+i)
		relabel = append(relabel, engine.Target{Name: name, VmID: id})
		p.Changes = append(p.Changes, engine.Change{Object: engine.ObjectDesktop, Name: name, ID: id, Action: engine.ActionUpdate,
			Attribute: "label", Before: "batch-2025", After: "batch-2026", Account: "render@example.com", Steps: []int{3}})
	}
	p.Steps = append(p.Steps, engine.Step{ID: 3, Op: engine.LabelDesktops{Label: "batch-2026", Targets: relabel}})
	for i := range 12 {
		name, id := fmt.Sprintf("gone-%02d", i), fmt.Sprintf("%08x", 0xc0000000+i)
		p.Changes = append(p.Changes, engine.Change{Object: engine.ObjectDesktop, Name: name, ID: id, Action: engine.ActionDelete,
			Attribute: "delete", Reason: "removed from the spec", Guard: engine.GuardDelete, Steps: []int{4 + i}})
		p.Steps = append(p.Steps, engine.Step{ID: 4 + i, Op: engine.DeleteDesktop{Desktop: engine.Target{Name: name, VmID: id}},
			Guard: engine.GuardDelete, After: []int{3}})
	}
	p.Steps = append(p.Steps, engine.Step{ID: 16, Op: engine.PowerDesktops{Power: provider.PowerOff, Targets: targets},
		After: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}})
	for i := range 40 {
		p.Unmanaged = append(p.Unmanaged, fmt.Sprintf("legacy-%02d", i))
	}
	p.Cost = &engine.Cost{Currency: "CNY", RunRateDelta: 1234.5, Lines: []engine.CostLine{{What: "farm x1000, per minute", PerHour: 1234.5, Steps: []int{1}}}}
	return p
}

// fullPlan sets every field of the plan's JSON form and has one step of each of the 16 op kinds.
func fullPlan() *engine.Plan {
	p := studioPlan()
	p.Fleet = "full"
	p.Reads.Throttle = &engine.Throttle{Throttled: 12, SettledRate: 38.4}
	limits := engine.DefaultBatchLimits
	limits.CreateVm = 50
	p.BatchLimits = &limits
	p.Observed = map[string]string{"vm:19ab0c3e": "f1", "account:alice@example.com": "f2", "net:site-sq-a": "f3"}
	p.Changes = append(p.Changes, engine.Change{Object: engine.ObjectNetwork, Name: "宿迁A", ID: "site-sq-a", Action: engine.ActionCreate,
		Attribute: "network", Before: "none", After: "default VPC", Detail: "d", Reason: "r", Guard: engine.GuardReplace, OutOfBand: true,
		Account: "alice@example.com", Steps: []int{13}})
	fullNet := engine.NetworkChoice{Default: true, Fix: engine.NetSupply, VpcID: "vpc-1", VpcName: "default", SubnetID: "sn-1",
		SubnetName: "子网1", WantSubnet: "子网1", WantGateway: "移动", GatewayNetID: "gw-net", GatewayConfID: "gw-conf", GatewayName: "移动"}
	fullBilling := engine.Billing{Plan: "monthly", Cycle: provider.BillCycleMonthly, Months: 2, ToMonthEnd: true, FullMonthPrice: true,
		AutoRenew: true, RenewWithin: 168 * time.Hour}
	alice := engine.AccountRef{Email: "alice@example.com", ID: "acc-71"}
	cad := engine.Target{Name: "cad-01", VmID: "19ab0c3e"}
	p.Steps = []engine.Step{
		{ID: 1, Op: engine.CreateDefaultNet{Site: suqian}},
		{ID: 2, Op: engine.SupplyDefaultNet{Site: xiangyang}, After: []int{1}},
		{ID: 3, Op: engine.CreateSubAccounts{New: []engine.NewAccount{{Email: "bob@example.com", Name: "bob", Remark: "ops"}, {Email: "gina@example.com", Name: "gina"}}}},
		{ID: 4, Op: engine.ChangeSubAccountName{Account: alice, From: "alice", To: "alice.w"}},
		{ID: 5, Op: engine.ChangeSubAccountRemark{Targets: []engine.AccountRef{alice}, Remark: "设计部"}},
		{ID: 6, Op: engine.CreateDesktops{Names: []string{"render", "render_001"}, BaseName: "render", HostNo: 1, Site: suqian, ProductID: "prod-1",
			Product: "NVIDIA A5000 windows", GoodsID: 1201, Image: win10, Bandwidth: 5, Billing: fullBilling, Network: fullNet}, After: []int{2}},
		{ID: 7, Op: engine.DeleteDesktop{Desktop: engine.Target{Name: "scratch-9", VmID: "88c2e001"}}, Guard: engine.GuardDelete, Reason: "removed from the spec"},
		{ID: 8, Op: engine.RebuildDesktop{Desktop: engine.Target{Name: "lab-03", VmID: "2f0d4410"}, From: win10, To: win11}, Guard: engine.GuardRebuild},
		{ID: 9, Op: engine.RenameDesktop{Desktop: engine.Target{Name: "edit", VmID: "9f3c81aa"}, From: "edit-old"}},
		{ID: 10, Op: engine.PowerDesktops{Power: provider.PowerOff, Targets: []engine.Target{cad}}},
		{ID: 11, Op: engine.LabelDesktops{Label: "team-b <&>", Targets: []engine.Target{cad}}},
		{ID: 12, Op: engine.BindAccounts{Account: alice, Targets: []engine.Target{{Name: "render"}}}, After: []int{3, 6}},
		{ID: 13, Op: engine.ChangeAccount{Desktop: cad, From: "bob@example.com", Account: alice}, After: []int{10}},
		{ID: 14, Op: engine.UnbindAccounts{Targets: []engine.Target{{Name: "cad-02", VmID: "77e1aa00"}}}},
		{ID: 15, Op: engine.UpdateOrder{Billing: fullBilling, Targets: []engine.Target{cad}}},
		{ID: 16, Op: engine.RenewOrder{Billing: monthly1, Targets: []engine.Target{{Name: "lead", VmID: "5a5a5a5a"}}}},
	}
	p.Errors = problemsPlan().Errors
	p.Warnings = problemsPlan().Warnings
	p.Guards = guardsPlan().Guards
	return p
}

// docExamplePlan is the example of docs/plan-json.md (TestJSONDocumented checks the doc shows its
// JSON verbatim).
func docExamplePlan() *engine.Plan {
	p := base("studio")
	p.Reads = engine.Reads{Desktops: 2, Accounts: 1, Sites: 1, Calls: 6, Elapsed: 850 * time.Millisecond}
	p.Observed = map[string]string{"vm:19ab0c3e": "c41f09", "vm:88c2e001": "0d2b7e"}
	p.Changes = []engine.Change{
		{Object: engine.ObjectDesktop, Name: "render", Action: engine.ActionCreate, Attribute: "create",
			Detail: "NVIDIA A5000 windows · Windows10 · 宿迁A · 5 Mbps · per-minute", Account: "alice@example.com", Steps: []int{1, 2}},
		{Object: engine.ObjectDesktop, Name: "cad-01", ID: "19ab0c3e", Action: engine.ActionUpdate, Attribute: "label",
			Before: "team-a", After: "team-b", Steps: []int{3}},
		{Object: engine.ObjectDesktop, Name: "scratch-9", ID: "88c2e001", Action: engine.ActionDelete, Attribute: "delete",
			Reason: "removed from the spec", Guard: engine.GuardDelete, Steps: []int{4}},
	}
	p.Steps = []engine.Step{
		{ID: 1, Op: engine.CreateDesktops{Names: []string{"render"}, BaseName: "render", Site: suqian, ProductID: "prod-a5000-win",
			Product: "NVIDIA A5000 windows", GoodsID: 1201, Image: win10, Bandwidth: 5,
			Billing: engine.Billing{Plan: "on-demand", Cycle: provider.BillCyclePerMinute},
			Network: engine.NetworkChoice{Default: true, VpcID: "vpc-1", VpcName: "default", SubnetID: "sn-1", SubnetName: "子网1"}}},
		{ID: 2, Op: engine.BindAccounts{Account: engine.AccountRef{Email: "alice@example.com", ID: "acc-71"},
			Targets: []engine.Target{{Name: "render"}}}, After: []int{1}},
		{ID: 3, Op: engine.LabelDesktops{Label: "team-b", Targets: []engine.Target{{Name: "cad-01", VmID: "19ab0c3e"}}}},
		{ID: 4, Op: engine.DeleteDesktop{Desktop: engine.Target{Name: "scratch-9", VmID: "88c2e001"}}, Guard: engine.GuardDelete,
			Reason: "removed from the spec"},
	}
	p.Cost = &engine.Cost{Currency: "CNY", RunRateDelta: 2.79, Lines: []engine.CostLine{
		{What: "render, per minute", PerHour: 11.2, Steps: []int{1}},
		{What: "scratch-9 deleted", PerHour: -8.41, Steps: []int{4}},
	}}
	return p
}

// docExampleDrift is the example of docs/drift-json.md (TestDriftJSONDocExample checks the page shows
// its JSON verbatim). It is the report engine.Drift makes for one spec, state record and live fleet,
// with the reads the command adds: the spec manages alice@example.com and the desktops cad-01 (label
// team-b), render (power on), scratch-9, lead (monthly), lab-07, lab-01 and edit-02; the record manages
// the account and the first five desktops. Live, alice was renamed, cad-01 relabelled, render
// stopped, scratch-9 deleted; lead's term ends within the window (auto-renewal off), lab-07 is in
// error; lab-01 is live but not adopted yet, edit-02 not created yet; legacy-ws-01 (monthly, expiring)
// and old-render (shut down for arrears) are not the fleet's. Every key of the JSON form shows.
func docExampleDrift() *engine.DriftReport {
	off := false
	return &engine.DriftReport{
		FormatVersion: engine.DriftFormatVersion, Fleet: "studio", At: planTime, ExpiringWithin: 7 * 24 * time.Hour,
		ManagedDesktops: 5, ManagedAccounts: 1, StateSerial: 12,
		Targets: []string{"*"}, Excludes: []string{"tmp-*"},
		Reads: engine.Reads{Desktops: 7, Accounts: 1, Sites: 1, Calls: 15, Elapsed: 1200 * time.Millisecond,
			Throttle: &engine.Throttle{Throttled: 2, SettledRate: 12.5}},
		Items: []engine.DriftItem{
			{Object: engine.ObjectAccount, Name: "alice@example.com", ID: "acc-71", Attribute: engine.AttrName,
				Want: "alice", Live: "alice.w", Cause: engine.CauseOutside},
			{Object: engine.ObjectDesktop, Name: "cad-01", ID: "19ab0c3e", Attribute: engine.AttrLabel,
				Want: "team-b", Live: "tmp", Cause: engine.CauseOutside},
			{Object: engine.ObjectDesktop, Name: "render", ID: "53b1cc00", Attribute: engine.AttrPower,
				Want: "on", Live: "off", Cause: engine.CauseOutside},
			{Object: engine.ObjectDesktop, Name: "scratch-9", ID: "88c2e001", Attribute: engine.AttrDeleted,
				Want: "exists", Live: "deleted", Cause: engine.CauseOutside, Note: "deleted outside deskfleet; apply creates it again"},
		},
		Expiring: []engine.ExpiringItem{
			{Name: "legacy-ws-01", ID: "d4e5f607", ExpireTime: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC), DaysLeft: 2, Source: "QueryVm"},
			{Name: "lead", ID: "5a5a5a5a", ExpireTime: time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC), DaysLeft: 4,
				Managed: true, AutoRenew: &off, Source: "QueryVm"},
		},
		InError: []engine.StatusItem{
			{Name: "lab-07", ID: "2f0d4410", Status: "failed", RawStatus: "error", Managed: true},
			{Name: "old-render", ID: "cc33ee01", Status: "expired", RawStatus: "asNeedExpired"},
		},
		Unmanaged: []string{"legacy-ws-01", "old-render"},
		Unadopted: []string{"lab-01"},
		Uncreated: []string{"edit-02"},
	}
}

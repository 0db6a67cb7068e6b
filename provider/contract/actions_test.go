package contract_test

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/provider/sim"
)

var cst = time.FixedZone("CST", 8*3600)

func near(a, b float64) bool { return math.Abs(a-b) < 0.005 }

// TestActions drives all 30 actions through the gcw client against one emulator, in an order that
// builds on earlier results, and asserts the typed results field by field. It ends by checking that
// the emulator counted a call of every action.
func TestActions(t *testing.T) {
	e := newEnv(t, nil, nil)

	t.Run("QuerySites", func(t *testing.T) {
		sites, err := e.c.QuerySites(ctx, provider.QuerySitesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if len(sites) != 3 {
			t.Fatalf("%d sites, want 3", len(sites))
		}
		got := sites[0]
		want := provider.Site{SiteID: sim.SiteSuqianA, SiteName: "宿迁A", PodName: "POD203",
			RegionID: "408fd19e-fa78-11e6-bd9a-30b49e091019", RegionName: "中国大陆",
			CityID: "39c6ed64-8d5f-11ec-9247-5293695d0ddd", CityName: "宿迁"}
		if got != want {
			t.Fatalf("site 0 = %+v, want %+v", got, want)
		}
		one, err := e.c.QuerySites(ctx, provider.QuerySitesRequest{SiteID: sim.SiteXiangyang})
		if err != nil || len(one) != 1 || one[0].SiteName != "襄阳A" {
			t.Fatalf("filtered QuerySites = %+v, %v", one, err)
		}
	})

	t.Run("QueryProducts", func(t *testing.T) {
		ps, err := e.c.QueryProducts(ctx, provider.QueryProductsRequest{SiteID: sim.SiteSuqianB})
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 2 {
			t.Fatalf("%d products at 宿迁B, want 2 (A5000 windows, T4): %+v", len(ps), ps)
		}
		p := ps[0]
		if p.SiteID != sim.SiteSuqianB || p.ProductID != sim.ProductA5000Win || p.GoodsID != 15264 || p.CPUCores != 14 ||
			p.MemoryGB != 25 || p.GPUModel != "NVIDIA A5000" || p.GPURAMGB != 24 || p.SystemDiskGB != 150 || p.OS != "windows" ||
			!near(p.PricePerMinute, 0.1868333333) || !near(p.PricePerMonth, 3364) {
			t.Fatalf("product = %+v", p)
		}
	})

	t.Run("QueryImages", func(t *testing.T) {
		// code/msg/data envelope; per-site status.
		pis, err := e.c.QueryImages(ctx, provider.QueryImagesRequest{SiteID: sim.SiteSuqianB, ProductID: sim.ProductA5000Win})
		if err != nil {
			t.Fatal(err)
		}
		if len(pis) != 1 || pis[0].ProductID != sim.ProductA5000Win || pis[0].ProductName != "图形处理型" {
			t.Fatalf("QueryImages = %+v", pis)
		}
		pub, priv := pis[0].PublicImages, pis[0].PrivateImages
		if len(pub) != 1 || pub[0].ImageID != sim.ImageWin10 || pub[0].ImageType != "Public" || pub[0].OSType != "windows" ||
			pub[0].SizeGB != 72 || len(pub[0].Sites) != 1 || pub[0].Sites[0].SiteID != sim.SiteSuqianB ||
			pub[0].Sites[0].SiteName != "宿迁B" || pub[0].Sites[0].Status != provider.ImageAvailable || pub[0].Sites[0].ImageSiteID == "" {
			t.Fatalf("public images = %+v", pub)
		}
		if !pub[0].UsableAt(sim.SiteSuqianB) {
			t.Fatal("Available image not usable")
		}
		if len(priv) != 1 || priv[0].ImageID != sim.ImageCustom || priv[0].Sites[0].Status != provider.ImageSynchronizing ||
			priv[0].UsableAt(sim.SiteSuqianB) || priv[0].DetailName == "" {
			t.Fatalf("private images = %+v", priv)
		}
		all, err := e.c.QueryImages(ctx, provider.QueryImagesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		var statuses []string
		for _, pi := range all {
			if pi.ProductID != sim.ProductA5000Win {
				continue
			}
			for _, im := range pi.PublicImages {
				if im.ImageID == sim.ImageWin10 {
					for _, s := range im.Sites {
						statuses = append(statuses, s.SiteName+"="+string(s.Status))
					}
				}
			}
		}
		if want := []string{"宿迁A=Available", "宿迁B=Available", "襄阳A=Using"}; !slices.Equal(statuses, want) {
			t.Fatalf("Win10 per-site statuses = %v, want %v", statuses, want)
		}
		_, err = e.c.QueryImages(ctx, provider.QueryImagesRequest{SiteID: "no-such-site"})
		wantCode(t, err, provider.CodeNotFound, provider.IsNotFound)
	})

	t.Run("QueryVmPrice", func(t *testing.T) {
		minute, err := e.c.QueryVmPrice(ctx, provider.QueryVmPriceRequest{SiteID: sim.SiteSuqianA, GoodsID: 15264,
			BillCycle: provider.BillCyclePerMinute, Num: 2})
		if err != nil {
			t.Fatal(err)
		}
		// Per-minute: the price per hour (0.1868333333 x 60 x 2).
		if !near(minute.TradeAmount, 22.42) || minute.Currency != "CN" || minute.RequestID == "" || minute.RequestContent == "" {
			t.Fatalf("per-minute price = %+v", minute)
		}
		month, err := e.c.QueryVmPrice(ctx, provider.QueryVmPriceRequest{SiteID: sim.SiteSuqianA, GoodsID: 15264,
			BillCycle: provider.BillCycleMonthly, Duration: 3})
		if err != nil {
			t.Fatal(err)
		}
		if !near(month.TradeAmount, 3*3364) {
			t.Fatalf("monthly price = %+v, want %v", month, 3*3364)
		}
		_, err = e.c.QueryVmPrice(ctx, provider.QueryVmPriceRequest{SiteID: "no-such-site", GoodsID: 15264})
		wantCode(t, err, provider.CodeNotFound, provider.IsNotFound)
	})

	t.Run("GetDefaultNet", func(t *testing.T) {
		n, err := e.c.GetDefaultNet(ctx, provider.GetDefaultNetRequest{SiteID: sim.SiteSuqianA})
		if err != nil {
			t.Fatal(err)
		}
		if n == nil || n.VpcID != sim.VPCDefaultSuqianA || n.VpcName != "宿迁-云桌面默认VPC" || n.VpcSegment != "10.0.0.0/8" ||
			n.ID != 476 || n.VpcRecordID == "" || n.CityID == "" || n.CreateTime.IsZero() || n.CustomerID == "" {
			t.Fatalf("default net = %+v", n)
		}
		if len(n.Subnets) != 1 || n.Subnets[0].ID != subnetSuqianA || n.Subnets[0].Type != provider.NetSubnet ||
			n.Subnets[0].Mask != 16 || n.Subnets[0].VlanID != "1704" || n.Subnets[0].Gateway != "10.1.0.1" ||
			!slices.Equal(n.Subnets[0].DNS, []string{"119.29.29.29", "114.114.114.114"}) {
			t.Fatalf("subnets = %+v", n.Subnets)
		}
		var confs []string
		for _, g := range n.VGateways {
			if g.Type != provider.NetVirtualGateway {
				t.Fatalf("gateway type %q", g.Type)
			}
			confs = append(confs, g.ID+"/"+g.ConfID+"/"+g.ConfName)
		}
		want := []string{gwTelecomA + "/10289/电信", "80587138-cdcb-11ec-a318-ee97882ecf7d/10298/移动"}
		if !slices.Equal(confs, want) {
			t.Fatalf("gateways %v, want %v", confs, want)
		}
		// 宿迁B: default net without gateways.
		b, err := e.c.GetDefaultNet(ctx, provider.GetDefaultNetRequest{SiteID: sim.SiteSuqianB})
		if err != nil || b == nil || len(b.Subnets) != 1 || len(b.VGateways) != 0 {
			t.Fatalf("宿迁B default net = %+v, %v", b, err)
		}
		// 襄阳A: no default net at all: Success with no data.
		none, err := e.c.GetDefaultNet(ctx, provider.GetDefaultNetRequest{SiteID: sim.SiteXiangyang})
		if err != nil || none != nil {
			t.Fatalf("襄阳A default net = %+v, %v; want nil, nil", none, err)
		}
	})

	t.Run("CreateDefaultNet", func(t *testing.T) {
		resp, err := e.c.CreateDefaultNet(ctx, provider.CreateDefaultNetRequest{SiteID: sim.SiteXiangyang})
		if err != nil {
			t.Fatal(err)
		}
		if resp.TaskID == "" || resp.RequestID == "" {
			t.Fatalf("CreateDefaultNet = %+v", resp)
		}
		e.mustWait(resp.TaskID, resp.RequestID)
		n, err := e.c.GetDefaultNet(ctx, provider.GetDefaultNetRequest{SiteID: sim.SiteXiangyang})
		if err != nil || n == nil {
			t.Fatalf("after CreateDefaultNet: %+v, %v", n, err)
		}
		if n.VpcName != "襄阳-云桌面默认VPC" || len(n.Subnets) != 1 || len(n.VGateways) != 2 || n.VGateways[0].ConfID == "" {
			t.Fatalf("created default net = %+v", n)
		}
		// A second one is refused.
		_, err = e.c.CreateDefaultNet(ctx, provider.CreateDefaultNetRequest{SiteID: sim.SiteXiangyang})
		wantCode(t, err, provider.CodeCreateNetFailed, nil)
	})

	t.Run("SupplyDefaultNet", func(t *testing.T) {
		resp, err := e.c.SupplyDefaultNet(ctx, provider.SupplyDefaultNetRequest{SiteID: sim.SiteSuqianB})
		if err != nil {
			t.Fatal(err)
		}
		e.mustWait(resp.TaskID, resp.RequestID)
		n, err := e.c.GetDefaultNet(ctx, provider.GetDefaultNetRequest{SiteID: sim.SiteSuqianB})
		if err != nil || n == nil || len(n.VGateways) != 2 || n.Subnets[0].ID != subnetSuqianB {
			t.Fatalf("after SupplyDefaultNet: %+v, %v", n, err)
		}
	})

	t.Run("GetCustomNet", func(t *testing.T) {
		ns, err := e.c.GetCustomNet(ctx, provider.GetCustomNetRequest{SiteID: sim.SiteSuqianA})
		if err != nil {
			t.Fatal(err)
		}
		if len(ns) != 1 || ns[0].VpcID != sim.VPCCustomSuqianA || ns[0].VpcName != "宿迁-渲染VPC" || len(ns[0].Subnets) != 1 ||
			len(ns[0].VGateways) != 1 || ns[0].VGateways[0].ConfID != "10298" || ns[0].VGateways[0].ConfName != "移动" {
			t.Fatalf("custom nets = %+v", ns)
		}
		none, err := e.c.GetCustomNet(ctx, provider.GetCustomNetRequest{SiteID: sim.SiteSuqianB})
		if err != nil || len(none) != 0 {
			t.Fatalf("宿迁B custom nets = %+v, %v", none, err)
		}
	})

	t.Run("GetLineBillingScheme", func(t *testing.T) {
		ls, err := e.c.GetLineBillingScheme(ctx, provider.GetLineBillingSchemeRequest{SiteID: sim.SiteSuqianA})
		if err != nil {
			t.Fatal(err)
		}
		if len(ls) != 3 || ls[0].ConfID != "10289" || ls[0].ConfName != "电信" || len(ls[0].BillingSchemes) != 1 {
			t.Fatalf("lines = %+v", ls)
		}
		s := ls[0].BillingSchemes[0]
		if s.GoodsID != "16319" || s.BillingMethod != provider.BillMethodPerMinute || s.BillingCycle != "minute" ||
			s.SchemeID == "" || s.SchemeName == "" || s.BillingType != "number" || len(s.Items) != 1 || s.Items[0].Key != "Bandwidth" {
			t.Fatalf("scheme = %+v", s)
		}
	})

	t.Run("GetEipPrice", func(t *testing.T) {
		p, err := e.c.GetEipPrice(ctx, provider.GetEipPriceRequest{SiteID: sim.SiteSuqianA, Size: 2, BandwidthConfID: "10289", QosMbps: 10})
		if err != nil {
			t.Fatal(err)
		}
		// 电信: 0.3 per Mbps per day, 0.5 per IP per day.
		if !near(p.Bandwidth.Price, 3) || !near(p.EIP.Price, 1) || !near(p.Total.Price, 4) || p.Total.PriceStr != "4.00" ||
			p.Total.Sign != "￥" || p.Total.Cycle != "/天" || p.Total.EndTime == "" {
			t.Fatalf("EIP price = %+v", p)
		}
		_, err = e.c.GetEipPrice(ctx, provider.GetEipPriceRequest{SiteID: "nowhere", Size: 1, BandwidthConfID: "10289", QosMbps: 1})
		wantCode(t, err, provider.CodeNotFound, provider.IsNotFound)
	})

	var accID string
	t.Run("CreateSubAccount+QuerySubAccounts", func(t *testing.T) {
		if _, err := e.c.CreateSubAccount(ctx, provider.CreateSubAccountRequest{Email: "ann@example.com", Name: "ann",
			Remark: "渲染组"}); err != nil {
			t.Fatal(err)
		}
		a := e.account("ann@example.com")
		if a.Status != provider.AccountCreating || a.Name != "ann" || a.Remark != "渲染组" || a.AccountID == "" || a.BindNum != 0 {
			t.Fatalf("new account = %+v", a)
		}
		e.clock.Advance(taskDur)
		a = e.account("ann@example.com")
		if a.Status != provider.AccountReady {
			t.Fatalf("account after its creation time = %+v", a)
		}
		accID = a.AccountID
		all, err := e.c.QuerySubAccounts(ctx, provider.QuerySubAccountsRequest{})
		if err != nil || len(all) != 2 || all[0].AccountID != seedAccountID || all[0].Email != seedAccountEml {
			t.Fatalf("all accounts = %+v, %v", all, err)
		}
	})

	t.Run("CreateSubAccounts", func(t *testing.T) {
		resp, err := e.c.CreateSubAccounts(ctx, provider.CreateSubAccountsRequest{Accounts: []provider.NewSubAccount{
			{Email: "bob@example.com", Name: "bob"},
			{Email: seedAccountEml, Name: "dup"},
			{Email: "cat@example.com", Name: "cat", Remark: strings.Repeat("长", 31)},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if resp.SuccessNum != 1 || resp.FailedNum != 2 || len(resp.Failed) != 2 || resp.RequestID == "" {
			t.Fatalf("CreateSubAccounts = %+v", resp)
		}
		// The reference spells the text key "messsage": the client must still carry the text.
		if f := resp.Failed[0]; f.Email != seedAccountEml || f.Name != "dup" || f.Message != "邮箱已存在" {
			t.Fatalf("failed[0] = %+v", f)
		}
		if f := resp.Failed[1]; f.Email != "cat@example.com" || !strings.Contains(f.Message, "30") {
			t.Fatalf("failed[1] = %+v", f)
		}
		if a := e.account("bob@example.com"); a.Status != provider.AccountCreating {
			t.Fatalf("bob = %+v", a)
		}
	})

	t.Run("ChangeSubAccountName+Remark", func(t *testing.T) {
		if _, err := e.c.ChangeSubAccountName(ctx, provider.ChangeSubAccountNameRequest{Email: "ann@example.com", Name: "安娜"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.c.ChangeSubAccountRemark(ctx, provider.ChangeSubAccountRemarkRequest{
			Emails: []string{"ann@example.com", "bob@example.com"}, Remark: "建模"}); err != nil {
			t.Fatal(err)
		}
		if a := e.account("ann@example.com"); a.Name != "安娜" || a.Remark != "建模" {
			t.Fatalf("ann = %+v", a)
		}
		if a := e.account("bob@example.com"); a.Remark != "建模" {
			t.Fatalf("bob = %+v", a)
		}
		_, err := e.c.ChangeSubAccountName(ctx, provider.ChangeSubAccountNameRequest{Email: "nobody@example.com", Name: "x"})
		wantCode(t, err, provider.CodeNotFound, provider.IsNotFound)
	})

	var vmID string
	t.Run("CreateVm+QueryTask+QueryVm", func(t *testing.T) {
		resp, err := e.c.CreateVm(ctx, vmReq("render-01"))
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.VmIDs) != 1 || resp.TaskID == "" || resp.RequestID == "" {
			t.Fatalf("CreateVm = %+v", resp)
		}
		vmID = resp.VmIDs[0]
		task, err := e.c.QueryTask(ctx, provider.QueryTaskRequest{TaskID: resp.TaskID, RequestID: resp.RequestID})
		if err != nil || task.Status != provider.TaskRunning || task.TaskID != resp.TaskID || task.RequestID != resp.RequestID {
			t.Fatalf("QueryTask while running = %+v, %v", task, err)
		}
		if d := e.vm(vmID); d.Status != provider.StatusBusy || d.RawStatus != provider.RawConfiguring || d.Name != "render-01" {
			t.Fatalf("desktop while creating = %+v", d)
		}
		e.mustWait(resp.TaskID, resp.RequestID)
		d := e.vm(vmID)
		if d.ID != vmID || d.Name != "render-01" || d.SiteID != sim.SiteSuqianA || d.ProductID != sim.ProductA5000Win ||
			d.BandwidthMbps != 5 || d.Status != provider.StatusRunning || d.RawStatus != provider.RawUsing ||
			d.VpcID != sim.VPCDefaultSuqianA || d.VpcName != "宿迁-云桌面默认VPC" || d.BillMethod != provider.BillMethodPerMinute ||
			!strings.HasPrefix(d.EIP, "电信:") || !strings.HasPrefix(d.PrivateIP, "vlan1704:10.1.") || !strings.HasPrefix(d.PublicIP, "10.2.") ||
			d.AccountEmail != "" || d.Label != "" {
			t.Fatalf("desktop = %+v", d)
		}
		// Per-minute desktops show the far-future expiry of the reference's example
		// ("2098-12-31T16:00:00.000+0000", 2099-01-01 00:00 Beijing time).
		if d.ExpireTime.Raw == "" || !d.ExpireTime.Time.Equal(time.Date(2099, 1, 1, 0, 0, 0, 0, cst)) {
			t.Fatalf("expireTime = %+v", d.ExpireTime)
		}
		_, err = e.c.QueryTask(ctx, provider.QueryTaskRequest{TaskID: "no-such-task", RequestID: resp.RequestID})
		wantCode(t, err, provider.CodeNotFound, provider.IsNotFound)
		_, err = e.c.QueryVm(ctx, provider.QueryVmRequest{VmID: "gcw-0123456789abcdef0123456789abcdef"})
		wantCode(t, err, provider.CodeNotFound, provider.IsNotFound)
	})

	t.Run("ChangeVmName+UpdateVmLabels", func(t *testing.T) {
		if _, err := e.c.ChangeVmName(ctx, provider.ChangeVmNameRequest{VmID: vmID, Name: "渲染-01"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.c.UpdateVmLabels(ctx, provider.UpdateVmLabelsRequest{VmIDs: []string{vmID}, Label: "team=vfx"}); err != nil {
			t.Fatal(err)
		}
		if d := e.vm(vmID); d.Name != "渲染-01" || d.Label != "team=vfx" {
			t.Fatalf("desktop = %+v", d)
		}
	})

	var vm2 string
	t.Run("BindAccounts+ChangeAccount+QueryVms", func(t *testing.T) {
		vm2 = e.createVm("render-02")
		if _, err := e.c.BindAccounts(ctx, provider.BindAccountsRequest{VmIDs: []string{vmID}, AccountID: accID}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.c.ChangeAccount(ctx, provider.ChangeAccountRequest{VmID: vm2, AccountID: seedAccountID}); err != nil {
			t.Fatal(err)
		}
		if d := e.vm(vmID); d.AccountEmail != "ann@example.com" || d.AccountName != "安娜" {
			t.Fatalf("bound desktop = %+v", d)
		}
		if d := e.vm(vm2); d.AccountEmail != seedAccountEml || d.AccountName != "miao123" {
			t.Fatalf("changed desktop = %+v", d)
		}
		if a := e.account("ann@example.com"); a.BindNum != 1 {
			t.Fatalf("ann bindNum = %d", a.BindNum)
		}
		vms, err := e.c.QueryVms(ctx, provider.QueryVmsRequest{Email: "ann@example.com"})
		if err != nil || !slices.Equal(vms.VmIDs, []string{vmID}) {
			t.Fatalf("QueryVms by email = %+v, %v", vms, err)
		}
		pm := provider.BillMethodPerMinute
		vms, err = e.c.QueryVms(ctx, provider.QueryVmsRequest{SiteID: sim.SiteSuqianA, BillMethod: &pm, VpcName: "宿迁-云桌面默认VPC"})
		if err != nil || !slices.Equal(vms.VmIDs, []string{vmID, vm2}) {
			t.Fatalf("QueryVms by site = %+v, %v", vms, err)
		}
		mo := provider.BillMethodMonthly
		vms, err = e.c.QueryVms(ctx, provider.QueryVmsRequest{BillMethod: &mo})
		if err != nil || len(vms.VmIDs) != 0 || vms.VmIDs == nil {
			t.Fatalf("QueryVms monthly = %+v, %v", vms, err)
		}
	})

	t.Run("OperateVm+UnbindAccounts+RebuildVm", func(t *testing.T) {
		resp, err := e.c.OperateVm(ctx, provider.OperateVmRequest{Action: provider.PowerOff, VmIDs: []string{vmID, vm2}})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(resp.VmIDs, []string{vmID, vm2}) || resp.TaskID == "" {
			t.Fatalf("OperateVm = %+v", resp)
		}
		if d := e.vm(vmID); d.RawStatus != provider.RawStoping || d.Status != provider.StatusBusy {
			t.Fatalf("desktop while stopping = %+v", d)
		}
		e.mustWait(resp.TaskID, resp.RequestID)
		if d := e.vm(vmID); d.RawStatus != provider.RawStop || d.Status != provider.StatusStopped {
			t.Fatalf("desktop after off = %+v", d)
		}
		if _, err := e.c.UnbindAccounts(ctx, provider.UnbindAccountsRequest{VmIDs: []string{vmID}}); err != nil {
			t.Fatal(err)
		}
		if d := e.vm(vmID); d.AccountEmail != "" || d.AccountName != "" {
			t.Fatalf("desktop after unbind = %+v", d)
		}
		rb, err := e.c.RebuildVm(ctx, provider.RebuildVmRequest{VmID: vmID, ImageID: sim.ImageCustom})
		if err != nil {
			t.Fatal(err)
		}
		if len(rb.VmIDs) != 1 || rb.VmIDs[0] != vmID || rb.TaskID == "" || rb.RequestID == "" {
			t.Fatalf("RebuildVm = %+v", rb)
		}
		e.mustWait(rb.TaskID, rb.RequestID)
		// QueryVm does not return the image: the emulator's inspection does.
		if d, _ := e.sim.Desktop(vmID); d.ImageID != sim.ImageCustom || d.Status != sim.StatusStopped {
			t.Fatalf("rebuilt desktop = %+v", d)
		}
		e.power(provider.PowerOn, vmID)
		if d := e.vm(vmID); d.Status != provider.StatusRunning {
			t.Fatalf("desktop after on = %+v", d)
		}
	})

	t.Run("UpdateOrder+RenewalOrder+QueryExpireVms", func(t *testing.T) {
		start := e.clock.Now()
		up, err := e.c.UpdateOrder(ctx, provider.UpdateOrderRequest{VmIDs: []string{vmID}, Duration: 1})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(up.SuccessVmIDs, []string{vmID}) || len(up.FailedVmIDs) != 0 || up.RequestID == "" {
			t.Fatalf("UpdateOrder = %+v", up)
		}
		d := e.vm(vmID)
		want := start.In(cst).AddDate(0, 1, 0)
		if d.BillMethod != provider.BillMethodMonthly || !d.ExpireTime.Time.Equal(want) {
			t.Fatalf("after UpdateOrder: billMethod %v expire %v, want monthly %v", d.BillMethod, d.ExpireTime, want)
		}
		rn, err := e.c.RenewalOrder(ctx, provider.RenewalOrderRequest{VmIDs: []string{vmID}, Duration: 2})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(rn.SuccessVmIDs, []string{vmID}) || len(rn.FailedVmIDs) != 0 {
			t.Fatalf("RenewalOrder = %+v", rn)
		}
		want = want.AddDate(0, 2, 0)
		if d = e.vm(vmID); !d.ExpireTime.Time.Equal(want) {
			t.Fatalf("after RenewalOrder: expire %v, want %v", d.ExpireTime, want)
		}
		exp, err := e.c.QueryExpireVms(ctx, provider.QueryExpireVmsRequest{})
		if err != nil || len(exp) != 0 {
			t.Fatalf("QueryExpireVms three months ahead = %+v, %v", exp, err)
		}
		// Three days before the end of the term it is listed, by name.
		e.clock.Set(want.Add(-72 * time.Hour))
		exp, err = e.c.QueryExpireVms(ctx, provider.QueryExpireVmsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if len(exp) != 1 || exp[0].Name != "渲染-01" || exp[0].BillMethod != provider.BillMethodMonthly ||
			!exp[0].ExpireTime.Time.Equal(want) || exp[0].Status != provider.StatusRunning || exp[0].RawStatus != provider.RawUsing {
			t.Fatalf("QueryExpireVms = %+v", exp)
		}
		// Past the end of the term without auto-renewal: listed as expired.
		e.clock.Set(want.Add(time.Hour))
		exp, err = e.c.QueryExpireVms(ctx, provider.QueryExpireVmsRequest{})
		if err != nil || len(exp) != 1 || exp[0].Status != provider.StatusExpired || exp[0].RawStatus != provider.RawAsMonthExpired {
			t.Fatalf("QueryExpireVms after expiry = %+v, %v", exp, err)
		}
		if d := e.vm(vmID); d.Status != provider.StatusExpired {
			t.Fatalf("QueryVm after expiry = %v/%s", d.Status, d.RawStatus)
		}
		// Renewal from expiry restarts the term from now.
		if _, err := e.c.RenewalOrder(ctx, provider.RenewalOrderRequest{VmIDs: []string{vmID}, Duration: 1}); err != nil {
			t.Fatal(err)
		}
		if d := e.vm(vmID); d.Status != provider.StatusRunning || !d.ExpireTime.Time.Equal(e.clock.Now().In(cst).AddDate(0, 1, 0)) {
			t.Fatalf("after renewing an expired desktop: %v/%s expire %v", d.Status, d.RawStatus, d.ExpireTime.Time)
		}
	})

	t.Run("DeleteVm", func(t *testing.T) {
		resp, err := e.c.DeleteVm(ctx, provider.DeleteVmRequest{VmID: vm2})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.VmIDs) != 1 || resp.VmIDs[0] != vm2 || resp.TaskID == "" {
			t.Fatalf("DeleteVm = %+v", resp)
		}
		if d := e.vm(vm2); d.RawStatus != provider.RawDeleteing || d.Status != provider.StatusBusy {
			t.Fatalf("desktop while deleting = %+v", d)
		}
		e.mustWait(resp.TaskID, resp.RequestID)
		_, err = e.c.QueryVm(ctx, provider.QueryVmRequest{VmID: vm2})
		wantCode(t, err, provider.CodeNotFound, provider.IsNotFound)
		_, err = e.c.DeleteVm(ctx, provider.DeleteVmRequest{VmID: vm2})
		wantCode(t, err, provider.CodeNotFound, provider.IsNotFound)
	})

	t.Run("every action was called", func(t *testing.T) {
		calls := e.sim.Calls()
		if len(provider.Actions) != 30 {
			t.Fatalf("%d actions in provider.Actions", len(provider.Actions))
		}
		for _, a := range provider.Actions {
			if calls[a.Name] == 0 {
				t.Errorf("action %s never reached the emulator", a.Name)
			}
			if sim.IsMutating(a.Name) != a.Mutating {
				t.Errorf("action %s: mutating %v in provider.Actions, %v in the emulator", a.Name, a.Mutating, sim.IsMutating(a.Name))
			}
		}
		if !slices.Equal(sim.Actions(), sortedNames()) {
			t.Errorf("emulator actions %v differ from provider.Actions", sim.Actions())
		}
	})
}

func sortedNames() []provider.Action {
	var out []provider.Action
	for _, a := range provider.Actions {
		out = append(out, a.Name)
	}
	slices.Sort(out)
	return out
}

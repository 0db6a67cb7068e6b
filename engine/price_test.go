package engine_test

import (
	"context"
	"errors"
	"math"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/provider/gcw"
	"github.com/deskfleet/deskfleet/provider/sim"
)

// priceNow is the emulator's clock in the price tests: 16 June 2026 00:00 Beijing time. June has 30
// days and 15 of them remain, so an isToMonth term of N months is N-0.5 months long (QueryVmPrice
// bills the rest of this month and N-1 whole months, up to 1 September for N=3).
var priceNow = time.Date(2026, 6, 15, 16, 0, 0, 0, time.UTC)

// Ids of the default catalog's 宿迁A network (sim.DefaultCatalog).
const (
	priceSubnetA   = "73d2c7ec-cdcb-11ec-a318-ee97882ecf7d"
	priceGwTelecom = "8054ab84-cdcb-11ec-a318-ee97882ecf7d" // 电信默认网关, conf_id 10289
	priceSubnetB   = "b36b43a8-e706-11ec-8171-32f9a7e748fc"
)

// priceEnv is an emulator seeded with three desktops at 宿迁A, a gcw client on loopback, the
// snapshot and product list read through it, and the emulator's call counts reset after those reads.
type priceEnv struct {
	sim      *sim.Sim
	c        *gcw.Client
	in       engine.PriceInput
	cat      sim.Catalog
	vm       map[string]string // name -> vmId
	products map[string]provider.Product
}

// The seeded desktops: cad-01 (A5000, per-minute, 5 Mbps on 移动), scratch-9 (T4, per-minute, 10 Mbps
// on 电信) and lead (T4, monthly, no EIP).
func newPriceEnv(t testing.TB) *priceEnv {
	t.Helper()
	cat := sim.DefaultCatalog()
	cat.Desktops = []sim.Desktop{
		{ID: "9f3c0000-0000-4000-8000-000000000001", Name: "cad-01", SiteID: sim.SiteSuqianA, ProductID: sim.ProductA5000Win,
			ImageID: sim.ImageWin10, VPCID: sim.VPCDefaultSuqianA, SubnetID: priceSubnetA, Qos: 5, Status: sim.StatusRunning,
			EIP: "移动:120.226.0.2", GatewayID: "80587138-cdcb-11ec-a318-ee97882ecf7d"},
		{ID: "88c20000-0000-4000-8000-000000000002", Name: "scratch-9", SiteID: sim.SiteSuqianA, ProductID: sim.ProductT4Win,
			ImageID: sim.ImageWin10, VPCID: sim.VPCDefaultSuqianA, SubnetID: priceSubnetA, Qos: 10, Status: sim.StatusStopped,
			EIP: "电信:120.226.0.3", GatewayID: priceGwTelecom},
		{ID: "1ead0000-0000-4000-8000-000000000003", Name: "lead", SiteID: sim.SiteSuqianA, ProductID: sim.ProductT4Win,
			ImageID: sim.ImageWin10, VPCID: sim.VPCDefaultSuqianA, SubnetID: priceSubnetA, Status: sim.StatusRunning,
			Monthly: true, ExpireTime: priceNow.Add(72 * time.Hour)},
	}
	clock := sim.NewManualClock(priceNow)
	const ak, secret = "priceAK", "price-secret-5d1e"
	s, err := sim.New(sim.Options{Keys: map[string]string{ak: secret}, Clock: clock, Seed: 7, Catalog: &cat})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c, err := gcw.New(gcw.Config{Endpoint: srv.URL + "/gcw", AccessKeyID: ak, Secret: secret, Rate: -1,
		BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond, Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	e := &priceEnv{sim: s, c: c, cat: cat, vm: map[string]string{}, products: map[string]provider.Product{}}
	products, err := c.QueryProducts(ctx, provider.QueryProductsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := c.QueryVms(ctx, provider.QueryVmsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var desktops []provider.Desktop
	for _, id := range ids.VmIDs {
		d, err := c.QueryVm(ctx, provider.QueryVmRequest{VmID: id})
		if err != nil {
			t.Fatal(err)
		}
		desktops = append(desktops, *d)
		e.vm[d.Name] = id
	}
	def, err := c.GetDefaultNet(ctx, provider.GetDefaultNetRequest{SiteID: sim.SiteSuqianA})
	if err != nil {
		t.Fatal(err)
	}
	custom, err := c.GetCustomNet(ctx, provider.GetCustomNetRequest{SiteID: sim.SiteSuqianA})
	if err != nil {
		t.Fatal(err)
	}
	snap := provider.NewSnapshot(priceNow, desktops, nil,
		map[string]provider.SiteNetworks{sim.SiteSuqianA: {Default: def, Custom: custom}}, nil)
	e.in = engine.PriceInput{Products: products, Snapshot: snap}
	s.ResetCalls()
	return e
}

// product returns the catalog's product at a site: the expected amounts are computed from it.
func (e *priceEnv) product(t *testing.T, id, site string) sim.Product {
	t.Helper()
	for _, p := range e.cat.Products {
		if p.ID == id && p.SiteID == site {
			return p
		}
	}
	t.Fatalf("no product %s at %s", id, site)
	return sim.Product{}
}

// eipPerDay is the catalog's price of one EIP with qos Mbps on a line, per day, as the API quotes it.
func (e *priceEnv) eipPerDay(t *testing.T, conf, qos int) float64 {
	t.Helper()
	for _, l := range e.cat.Lines {
		if l.ConfID == conf {
			return priceCents(l.MbpsPricePerDay*float64(qos) + l.IPPricePerDay)
		}
	}
	t.Fatalf("no line %d", conf)
	return 0
}

func (e *priceEnv) target(name string) engine.Target {
	return engine.Target{Name: name, VmID: e.vm[name]}
}

// priceCents rounds as the API quotes: to the cent (QueryVmPrice's tradeAmount, GetEipPrice's price).
func priceCents(x float64) float64 { return math.Round(x*100) / 100 }

func pricePlan(ops ...engine.Op) *engine.Plan {
	p := &engine.Plan{FormatVersion: engine.FormatVersion, Fleet: "studio"}
	for i, op := range ops {
		p.Steps = append(p.Steps, engine.Step{ID: i + 1, Op: op})
	}
	return p
}

// priceNetA is 宿迁A's default network with its 电信 gateway; priceNetB 宿迁B's, which has no gateway.
var (
	priceNetA = engine.NetworkChoice{Default: true, VpcID: sim.VPCDefaultSuqianA, SubnetID: priceSubnetA,
		GatewayNetID: priceGwTelecom, GatewayConfID: "10289", GatewayName: "电信默认网关"}
	priceNetB      = engine.NetworkChoice{Default: true, VpcID: sim.VPCDefaultSuqianB, SubnetID: priceSubnetB}
	pricePerMinute = engine.Billing{Cycle: provider.BillCyclePerMinute}
)

func priceMonthly(m int, toEnd bool) engine.Billing {
	return engine.Billing{Plan: "m", Cycle: provider.BillCycleMonthly, Months: m, ToMonthEnd: toEnd}
}

// priceCreate is a CreateDesktops of n A5000 windows desktops at 宿迁A on its 电信 gateway.
func priceCreate(base string, n int, b engine.Billing) engine.CreateDesktops {
	names := []string{base}
	for i := 1; i < n; i++ {
		names = append(names, base+"_00"+string(rune('0'+i)))
	}
	return engine.CreateDesktops{Names: names, BaseName: base, Site: engine.Site{ID: sim.SiteSuqianA, Name: "宿迁A"},
		ProductID: sim.ProductA5000Win, Product: "NVIDIA A5000 windows", GoodsID: 15264,
		Image: engine.Image{ID: sim.ImageWin10}, Bandwidth: 5, Billing: b, Network: priceNetA}
}

type priceWantLine struct {
	what             string
	perHour, prepaid float64
}

func TestPrice(t *testing.T) {
	e0 := newPriceEnv(t) // for the catalog's numbers only
	a5000 := e0.product(t, sim.ProductA5000Win, sim.SiteSuqianA)
	t4 := e0.product(t, sim.ProductT4Win, sim.SiteSuqianA)
	telecom5 := e0.eipPerDay(t, 10289, 5)
	telecom10 := e0.eipPerDay(t, 10289, 10)

	t4B := priceCreate("lab", 2, pricePerMinute)
	t4B.Site, t4B.ProductID, t4B.Product, t4B.GoodsID, t4B.Network = engine.Site{ID: sim.SiteSuqianB, Name: "宿迁B"},
		sim.ProductT4Win, "NVIDIA T4 windows", 15282, priceNetB
	fixNet := priceCreate("edu", 1, pricePerMinute)
	fixNet.Site, fixNet.Network = engine.Site{ID: sim.SiteXiangyang, Name: "襄阳A"}, engine.NetworkChoice{Default: true, Fix: engine.NetCreate}

	cases := []struct {
		name    string
		reason  string
		ops     func(e *priceEnv) []engine.Op
		input   func(e *priceEnv, in engine.PriceInput) engine.PriceInput
		want    []priceWantLine
		vmCalls int // QueryVmPrice calls
		eipCall int // GetEipPrice calls
	}{
		{
			name:   "create per-minute",
			reason: "QueryVmPrice answers the hourly price of all num desktops; each desktop has its own EIP, priced per day for one (size 1) and divided by 24",
			ops:    func(*priceEnv) []engine.Op { return []engine.Op{priceCreate("render", 3, pricePerMinute)} },
			want: []priceWantLine{
				{"render x3, per-minute NVIDIA A5000 windows", priceCents(a5000.RequirePrice * 60 * 3), 0},
				{"render x3, bandwidth 5 Mbps via 电信默认网关", 3 * telecom5 / 24, 0},
			},
			vmCalls: 1, eipCall: 1,
		},
		{
			name:   "create monthly",
			reason: "QueryVmPrice month answers the total for the term, prepaid; the bandwidth is billed per use also for monthly desktops, so it stays in the run rate",
			ops:    func(*priceEnv) []engine.Op { return []engine.Op{priceCreate("render", 3, priceMonthly(1, false))} },
			want: []priceWantLine{
				{"render x3, 1 month", 0, priceCents(a5000.MonthPrice * 1 * 3)},
				{"render x3, bandwidth 5 Mbps via 电信默认网关", 3 * telecom5 / 24, 0},
			},
			vmCalls: 1, eipCall: 1,
		},
		{
			name:   "create monthly to month end",
			reason: "isToMonth is passed through: on 16 June 00:00 Beijing time half of June remains, so 3 months to the end of the month bill 2.5 months",
			ops:    func(*priceEnv) []engine.Op { return []engine.Op{priceCreate("lab", 2, priceMonthly(3, true))} },
			want: []priceWantLine{
				{"lab x2, 3 months, to the end of the month", 0, priceCents(a5000.MonthPrice * 2.5 * 2)},
				{"lab x2, bandwidth 5 Mbps via 电信默认网关", 2 * telecom5 / 24, 0},
			},
			vmCalls: 1, eipCall: 1,
		},
		{
			name:   "identical queries once",
			reason: "two groups with the same site, product, count and billing ask QueryVmPrice and GetEipPrice once; each still has its lines",
			ops: func(*priceEnv) []engine.Op {
				return []engine.Op{priceCreate("a", 2, pricePerMinute), priceCreate("b", 2, pricePerMinute)}
			},
			want: []priceWantLine{
				{"a x2, per-minute NVIDIA A5000 windows", priceCents(a5000.RequirePrice * 60 * 2), 0},
				{"a x2, bandwidth 5 Mbps via 电信默认网关", 2 * telecom5 / 24, 0},
				{"b x2, per-minute NVIDIA A5000 windows", priceCents(a5000.RequirePrice * 60 * 2), 0},
				{"b x2, bandwidth 5 Mbps via 电信默认网关", 2 * telecom5 / 24, 0},
			},
			vmCalls: 1, eipCall: 1,
		},
		{
			name:    "no gateway",
			reason:  "a network without a virtual gateway gives the desktops no EIP: no bandwidth line, no GetEipPrice",
			ops:     func(*priceEnv) []engine.Op { return []engine.Op{t4B} },
			want:    []priceWantLine{{"lab x2, per-minute NVIDIA T4 windows", priceCents(t4.RequirePrice * 60 * 2), 0}},
			vmCalls: 1, eipCall: 0,
		},
		{
			name:   "network created by the plan",
			reason: "the line of a network the plan creates is not known yet: the bandwidth line says it is not priced",
			ops:    func(*priceEnv) []engine.Op { return []engine.Op{fixNet} },
			want: []priceWantLine{
				{"edu, per-minute NVIDIA A5000 windows", priceCents(a5000.RequirePrice * 60), 0},
				{"edu, bandwidth 5 Mbps: not priced (the line is known once the network is created)", 0, 0},
			},
			vmCalls: 1, eipCall: 0,
		},
		{
			name: "update order",
			reason: "converting stops the per-minute run rate (QueryProducts requirePrice x 60, no call) and prepays the term " +
				"(QueryVmPrice month, once per product: one line per product, in the order of the targets)",
			ops: func(e *priceEnv) []engine.Op {
				return []engine.Op{engine.UpdateOrder{Billing: priceMonthly(3, false),
					Targets: []engine.Target{e.target("cad-01"), e.target("scratch-9")}}}
			},
			want: []priceWantLine{
				{"cad-01, per-minute -> 3 months", -a5000.RequirePrice * 60, priceCents(a5000.MonthPrice * 3)},
				{"scratch-9, per-minute -> 3 months", -t4.RequirePrice * 60, priceCents(t4.MonthPrice * 3)},
			},
			vmCalls: 2, eipCall: 0,
		},
		{
			name:   "renew order",
			reason: "a renewal is prepaid; the run rate does not change",
			ops: func(e *priceEnv) []engine.Op {
				return []engine.Op{engine.RenewOrder{Billing: priceMonthly(1, false), Targets: []engine.Target{e.target("lead")}}}
			},
			want:    []priceWantLine{{"lead, renewal, 1 month", 0, priceCents(t4.MonthPrice)}},
			vmCalls: 1, eipCall: 0,
		},
		{
			name:   "delete per-minute",
			reason: "deleting a per-minute desktop saves its requirePrice x 60 per hour and its EIP (line found by the EIP's line name among the site's gateways)",
			ops: func(e *priceEnv) []engine.Op {
				return []engine.Op{engine.DeleteDesktop{Desktop: e.target("scratch-9")}}
			},
			want: []priceWantLine{
				{"scratch-9 deleted, per-minute NVIDIA T4 windows", -t4.RequirePrice * 60, 0},
				{"scratch-9 deleted, bandwidth 10 Mbps via 电信", -telecom10 / 24, 0},
			},
			vmCalls: 0, eipCall: 1,
		},
		{
			name:   "delete monthly",
			reason: "deleting a monthly desktop refunds nothing: the line says so and carries no amount",
			ops: func(e *priceEnv) []engine.Op {
				return []engine.Op{engine.DeleteDesktop{Desktop: e.target("lead")}}
			},
			want:    []priceWantLine{{"lead deleted: monthly, the prepaid term is not refunded", 0, 0}},
			vmCalls: 0, eipCall: 0,
		},
		{
			name:   "unknown product",
			reason: "a desktop whose product QueryProducts no longer lists is named as not priced; the rest of the step is priced",
			ops: func(e *priceEnv) []engine.Op {
				return []engine.Op{engine.UpdateOrder{Billing: priceMonthly(1, false),
					Targets: []engine.Target{e.target("cad-01"), e.target("scratch-9")}}}
			},
			input: func(_ *priceEnv, in engine.PriceInput) engine.PriceInput {
				var ps []provider.Product
				for _, p := range in.Products {
					if p.ProductID != sim.ProductA5000Win {
						ps = append(ps, p)
					}
				}
				in.Products = ps
				return in
			},
			want: []priceWantLine{
				{"scratch-9, per-minute -> 1 month", -t4.RequirePrice * 60, priceCents(t4.MonthPrice)},
				{"cad-01, per-minute -> 1 month: not priced (product " + sim.ProductA5000Win + " not offered at its site)", 0, 0},
			},
			vmCalls: 1, eipCall: 0,
		},
		{
			name:   "free steps",
			reason: "labels and power cost nothing and make no call",
			ops: func(e *priceEnv) []engine.Op {
				return []engine.Op{
					engine.LabelDesktops{Label: "x", Targets: []engine.Target{e.target("cad-01")}},
					engine.PowerDesktops{Power: provider.PowerOff, Targets: []engine.Target{e.target("cad-01")}},
				}
			},
			vmCalls: 0, eipCall: 0,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newPriceEnv(t)
			in := e.in
			if tc.input != nil {
				in = tc.input(e, in)
			}
			p := pricePlan(tc.ops(e)...)
			cost, err := engine.Price(context.Background(), e.c, p, in)
			if err != nil {
				t.Fatalf("%s: %v", tc.reason, err)
			}
			if cost.Currency != "CNY" {
				t.Errorf("currency %q, want CNY", cost.Currency)
			}
			if len(cost.Lines) != len(tc.want) {
				t.Fatalf("%s\ngot %d lines %+v, want %d", tc.reason, len(cost.Lines), cost.Lines, len(tc.want))
			}
			var runRate, prepaid float64
			for i, w := range tc.want {
				g := cost.Lines[i]
				if g.What != w.what || !priceNear(g.PerHour, w.perHour) || !priceNear(g.Prepaid, w.prepaid) {
					t.Errorf("%s\nline %d: got %q %v/h prepaid %v\n        want %q %v/h prepaid %v",
						tc.reason, i, g.What, g.PerHour, g.Prepaid, w.what, w.perHour, w.prepaid)
				}
				runRate += w.perHour
				prepaid += w.prepaid
			}
			if !priceNear(cost.RunRateDelta, runRate) || !priceNear(cost.Prepaid, prepaid) {
				t.Errorf("totals %v/h prepaid %v, want the lines' sums %v/h prepaid %v",
					cost.RunRateDelta, cost.Prepaid, runRate, prepaid)
			}
			calls := e.sim.Calls()
			if calls[provider.ActionQueryVmPrice] != tc.vmCalls || calls[provider.ActionGetEipPrice] != tc.eipCall {
				t.Errorf("%s\ncalls %v, want QueryVmPrice %d, GetEipPrice %d", tc.reason, calls, tc.vmCalls, tc.eipCall)
			}
			if n := e.sim.MutatingCalls(); n != 0 {
				t.Errorf("pricing made %d mutating calls: %v", n, calls)
			}
			if p.Cost != nil {
				t.Error("Price modified the plan")
			}
		})
	}
}

func priceNear(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// TestPricePlan prices a plan like the studio plan sketch (its golden under testdata): lines in step order, each naming its step,
// totals the lines' sums, and the same Cost from the same plan (deterministic).
func TestPricePlan(t *testing.T) {
	e := newPriceEnv(t)
	a5000 := e.product(t, sim.ProductA5000Win, sim.SiteSuqianA)
	p := pricePlan(
		priceCreate("render", 3, priceMonthly(1, false)),
		engine.LabelDesktops{Label: "team-b", Targets: []engine.Target{e.target("cad-01")}},
		engine.UpdateOrder{Billing: priceMonthly(3, false), Targets: []engine.Target{e.target("cad-01")}},
		engine.DeleteDesktop{Desktop: e.target("scratch-9")},
	)
	ctx := context.Background()
	cost, err := engine.Price(ctx, e.c, p, e.in)
	if err != nil {
		t.Fatal(err)
	}
	var steps []int
	var run, pre float64
	for _, l := range cost.Lines {
		if len(l.Steps) != 1 {
			t.Fatalf("line %q prices steps %v, want one", l.What, l.Steps)
		}
		steps = append(steps, l.Steps[0])
		run += l.PerHour
		pre += l.Prepaid
	}
	if want := []int{1, 1, 3, 4, 4}; !reflect.DeepEqual(steps, want) {
		t.Errorf("lines price steps %v, want %v (step order; the label costs nothing)", steps, want)
	}
	if !priceNear(cost.RunRateDelta, run) || !priceNear(cost.Prepaid, pre) {
		t.Errorf("totals %v/h %v, lines sum to %v/h %v", cost.RunRateDelta, cost.Prepaid, run, pre)
	}
	// the studio plan sketch (its golden under testdata): render x3 for a month and cad-01 for three months both prepay 3 x monthPrice.
	if want := priceCents(a5000.MonthPrice*3) * 2; !priceNear(cost.Prepaid, want) {
		t.Errorf("prepaid %v, want %v", cost.Prepaid, want)
	}
	again, err := engine.Price(ctx, e.c, p, e.in)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cost, again) {
		t.Errorf("the same plan priced twice differs:\n%+v\n%+v", cost, again)
	}
	if n := e.sim.MutatingCalls(); n != 0 {
		t.Errorf("pricing made %d mutating calls", n)
	}
}

// TestPriceErrors: an API error names the step; nothing is returned half-priced.
func TestPriceErrors(t *testing.T) {
	e := newPriceEnv(t)
	bad := priceCreate("ghost", 1, pricePerMinute)
	bad.GoodsID = 99999 // no such goods at the site: QueryVmPrice fails with 12505
	_, err := engine.Price(context.Background(), e.c, pricePlan(priceCreate("ok", 1, pricePerMinute), bad), e.in)
	if err == nil {
		t.Fatal("want an error for an unknown goodsId")
	}
	var apiErr *provider.APIError
	if !strings.Contains(err.Error(), "step 2 (create_desktops)") || !errors.As(err, &apiErr) || apiErr.Code != "12505" {
		t.Errorf("error %q: want it to name step 2 and carry the API's code 12505", err)
	}
}

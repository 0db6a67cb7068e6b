package engine

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/deskfleet/deskfleet/provider"
)

// PriceInput is what Price needs besides the plan and the client. A plan's steps name existing
// desktops only by name and id; their product, billing and bandwidth come from here.
type PriceInput struct {
	// Products is QueryProducts' list (every site). An existing desktop's per-minute run rate is its
	// product's requirePrice x 60 (deletions and conversions to monthly are priced from it, without
	// a call); its goodsId is what QueryVmPrice takes for conversions and renewals.
	Products []provider.Product
	// Snapshot is the live state the plan was made from: it gives each existing desktop's site,
	// product, billing method, bandwidth and EIP line, and each site's gateways (to find the line id
	// of a deleted desktop's EIP). It may be nil when the plan touches no existing desktop.
	Snapshot *provider.Snapshot
}

// Price returns what the plan costs, from the API's own quotes. It makes read calls only:
// QueryVmPrice (a POST without side effects) and GetEipPrice (a GET); identical queries are made once
// per call of Price. It does not modify p (the caller sets p.Cost).
//
// The rules, per step kind (every other kind costs nothing):
//   - CreateDesktops, per-minute: QueryVmPrice(billCycle minute, num) answers the price per hour of
//     the num desktops: added to RunRateDelta.
//   - CreateDesktops, monthly: QueryVmPrice(billCycle month, num, duration, isToMonth) answers the
//     total for the term: added to Prepaid.
//   - CreateDesktops, bandwidth: see bandwidthLine (a line of its own, in the run rate).
//   - UpdateOrder: per desktop, the per-minute run rate stops (-requirePrice x 60 per hour) and the
//     term is prepaid (QueryVmPrice month, per site and goodsId).
//   - RenewOrder: the term is prepaid (QueryVmPrice month, per site and goodsId). QueryVmPrice prices a
//     term starting now, while a renewal starts at the current expiry: with isToMonth the partial
//     first month may differ from what RenewalOrder charges.
//   - DeleteDesktop: a per-minute desktop's run rate stops; a monthly desktop's prepaid term is not
//     refunded (its line says so, with no amount). The desktop's EIP bandwidth stops as well.
//
// An existing desktop that cannot be priced (absent from the snapshot, or its product absent from
// Products) gets a line that says so, with no amount: the rest of the plan is priced. An API error
// (or a currency other than the others) is returned as an error naming the step.
//
// Amounts are float64 in the currency's units (yuan), unrounded: the API quotes to the cent, the
// per-hour figures derived from per-minute and per-day prices are not; round only for display.
// Lines follow the plan's step order, so the same plan and answers give the same Cost.
func Price(ctx context.Context, c provider.Client, p *Plan, in PriceInput) (*Cost, error) {
	return newPricer(c, in).price(ctx, p)
}

// newPricer is a pricer with empty caches: each distinct query it is asked is made once.
func newPricer(c provider.Client, in PriceInput) *pricer {
	pr := &pricer{c: c, in: in, vm: map[vmPriceKey]float64{}, eip: map[eipPriceKey]float64{}}
	pr.index()
	return pr
}

// price is Price with pr's caches: a query pr answered before (for the fleet's cost, say) is not
// made again. The lines are p's alone.
func (pr *pricer) price(ctx context.Context, p *Plan) (*Cost, error) {
	pr.lines = nil
	for _, s := range p.Steps {
		po, ok := s.Op.(pricedOp)
		if !ok {
			continue // costs nothing
		}
		if err := po.price(ctx, pr, s.ID); err != nil {
			return nil, fmt.Errorf("pricing step %d (%s): %w", s.ID, s.Op.Kind(), err)
		}
	}
	cost := &Cost{Currency: pr.currency, Lines: pr.lines}
	if cost.Currency == "" {
		cost.Currency = "CNY"
	}
	if cost.Lines == nil {
		cost.Lines = []CostLine{}
	}
	for _, l := range pr.lines {
		cost.RunRateDelta += l.PerHour
		cost.Prepaid += l.Prepaid
	}
	return cost, nil
}

// vmPriceKey is a QueryVmPrice request without its requestId: equal keys are asked once.
// Per-minute keys have Duration 0 and IsToMonth false (the API ignores them for per-minute).
type vmPriceKey struct {
	SiteID    string
	GoodsID   int
	Cycle     provider.BillCycle
	Num       int
	Duration  int
	IsToMonth bool
}

// eipPriceKey is a GetEipPrice request for one EIP (size 1) without its requestId.
type eipPriceKey struct {
	SiteID string
	ConfID string
	Qos    int
}

type priceProductKey struct{ site, product string }

type pricer struct {
	c        provider.Client
	in       PriceInput
	products map[priceProductKey]provider.Product
	vm       map[vmPriceKey]float64
	eip      map[eipPriceKey]float64
	currency string
	lines    []CostLine
	// calls counts the queries made (cache misses).
	calls int
}

func (pr *pricer) index() {
	pr.products = make(map[priceProductKey]provider.Product, len(pr.in.Products))
	for _, p := range pr.in.Products {
		pr.products[priceProductKey{p.SiteID, p.ProductID}] = p
	}
}

func (pr *pricer) add(l CostLine) { pr.lines = append(pr.lines, l) }

// useCurrency records the currency of an answer; answers in two currencies are an error.
func (pr *pricer) useCurrency(cur string) error {
	if pr.currency != "" && pr.currency != cur {
		return fmt.Errorf("the API quoted in %s and in %s", pr.currency, cur)
	}
	pr.currency = cur
	return nil
}

// vmPrice asks QueryVmPrice once per key.
func (pr *pricer) vmPrice(ctx context.Context, k vmPriceKey) (float64, error) {
	if v, ok := pr.vm[k]; ok {
		return v, nil
	}
	pr.calls++
	resp, err := pr.c.QueryVmPrice(ctx, provider.QueryVmPriceRequest{SiteID: k.SiteID, GoodsID: k.GoodsID,
		BillCycle: k.Cycle, Num: k.Num, Duration: k.Duration, IsToMonth: k.IsToMonth})
	if err != nil {
		return 0, err
	}
	// areaId is the currency's area: "CN" yuan, "US" dollars (CreateVm's moneyType takes the same).
	var cur string
	switch resp.Currency {
	case "", "CN":
		cur = "CNY"
	case "US":
		cur = "USD"
	default:
		return 0, fmt.Errorf("QueryVmPrice answered in an unknown currency area %q", resp.Currency)
	}
	if err := pr.useCurrency(cur); err != nil {
		return 0, err
	}
	pr.vm[k] = resp.TradeAmount
	return resp.TradeAmount, nil
}

// eipPerDay asks GetEipPrice once per key: the total (bandwidth + address) of one EIP, per day.
func (pr *pricer) eipPerDay(ctx context.Context, k eipPriceKey) (float64, error) {
	if v, ok := pr.eip[k]; ok {
		return v, nil
	}
	pr.calls++
	resp, err := pr.c.GetEipPrice(ctx, provider.GetEipPriceRequest{SiteID: k.SiteID, Size: 1,
		BandwidthConfID: k.ConfID, QosMbps: k.Qos})
	if err != nil {
		return 0, err
	}
	// The reference's example (and the emulator) quote "/天"; any other period cannot be converted.
	if cy := resp.Total.Cycle; cy != "" && cy != "/天" {
		return 0, fmt.Errorf("GetEipPrice quoted per %q, not per day", cy)
	}
	switch resp.Total.Sign {
	case "", "￥", "¥":
		if err := pr.useCurrency("CNY"); err != nil {
			return 0, err
		}
	default:
		return 0, fmt.Errorf("GetEipPrice answered in an unknown currency %q", resp.Total.Sign)
	}
	pr.eip[k] = resp.Total.Price
	return resp.Total.Price, nil
}

// create prices a CreateDesktops step: the desktops, then their bandwidth.
func (pr *pricer) create(ctx context.Context, step int, o CreateDesktops) error {
	n := len(o.Names)
	if n == 0 {
		return nil
	}
	who := priceCreatedNames(o)
	k := vmPriceKey{SiteID: o.Site.ID, GoodsID: o.GoodsID, Cycle: provider.BillCyclePerMinute, Num: n}
	if o.Billing.Monthly() {
		k.Cycle, k.Duration, k.IsToMonth = provider.BillCycleMonthly, priceMonths(o.Billing), o.Billing.ToMonthEnd
	}
	amount, err := pr.vmPrice(ctx, k)
	if err != nil {
		return err
	}
	if o.Billing.Monthly() {
		pr.add(CostLine{What: who + ", " + priceTerm(o.Billing), Prepaid: amount, Steps: []int{step}})
	} else {
		pr.add(CostLine{What: who + ", per-minute" + priceProductSuffix(o.Product), PerHour: amount, Steps: []int{step}})
	}
	return pr.bandwidthLine(ctx, step, o, who)
}

// bandwidthLine prices the EIPs of created desktops: one EIP per desktop with Bandwidth Mbps on the
// network's virtual gateway line (CreateVm's vgatewayConfId).
//
//   - GetEipPrice is asked for one EIP (size 1) and multiplied by the number of desktops: CreateVm
//     gives each desktop its own EIP at the full bandwidth (the reference's CreateVm requestContent
//     shows size 1 per desktop), while whether a size-n answer scales the bandwidth is not documented.
//   - The answer is per day ("cycle": "/天"): divided by 24 into the hourly run rate. It is in the run
//     rate for monthly desktops too: QueryVmPrice takes no bandwidth, and the only billing schemes
//     GetLineBillingScheme lists for the lines are per-minute (billing_method "0").
//   - A network without a virtual gateway gives the desktops no EIP: no line. A network this plan
//     creates or completes (Fix) has no known line yet: a line without amount says so.
func (pr *pricer) bandwidthLine(ctx context.Context, step int, o CreateDesktops, who string) error {
	if o.Bandwidth <= 0 {
		return nil
	}
	what := fmt.Sprintf("%s, bandwidth %d Mbps", who, o.Bandwidth)
	if o.Network.Fix != NetReady {
		pr.add(CostLine{What: what + ": not priced (the line is known once the network is " +
			priceFixWord(o.Network.Fix) + ")", Steps: []int{step}})
		return nil
	}
	if o.Network.GatewayConfID == "" {
		return nil
	}
	perDay, err := pr.eipPerDay(ctx, eipPriceKey{SiteID: o.Site.ID, ConfID: o.Network.GatewayConfID, Qos: o.Bandwidth})
	if err != nil {
		return err
	}
	if g := o.Network.GatewayName; g != "" {
		what += " via " + g
	}
	pr.add(CostLine{What: what, PerHour: perDay * float64(len(o.Names)) / 24, Steps: []int{step}})
	return nil
}

// priceOrderGroup is the desktops of one order step that share a site and a product (one QueryVmPrice).
type priceOrderGroup struct {
	product provider.Product
	names   []string
	// perMinute counts the desktops that are per-minute now: only their run rate stops.
	perMinute int
}

// order prices an UpdateOrder (convert: the per-minute run rate stops too) or a RenewOrder.
func (pr *pricer) order(ctx context.Context, step int, targets []Target, b Billing, convert bool) error {
	var groups []*priceOrderGroup
	byKey := map[priceProductKey]*priceOrderGroup{}
	var unpriced []string
	var why string
	for _, t := range targets {
		p, reason := pr.productOf(t)
		if reason != "" {
			unpriced, why = append(unpriced, t.Name), reason
			continue
		}
		k := priceProductKey{p.SiteID, p.ProductID}
		g := byKey[k]
		if g == nil {
			g = &priceOrderGroup{product: p}
			byKey[k] = g
			groups = append(groups, g)
		}
		g.names = append(g.names, t.Name)
		if d, _ := pr.desktop(t); d.BillMethod == provider.BillMethodPerMinute {
			g.perMinute++
		}
	}
	verb := "renewal, "
	if convert {
		verb = "per-minute -> "
	}
	for _, g := range groups {
		amount, err := pr.vmPrice(ctx, vmPriceKey{SiteID: g.product.SiteID, GoodsID: g.product.GoodsID,
			Cycle: provider.BillCycleMonthly, Num: len(g.names), Duration: priceMonths(b), IsToMonth: b.ToMonthEnd})
		if err != nil {
			return err
		}
		l := CostLine{What: priceNameList(g.names) + ", " + verb + priceTerm(b), Prepaid: amount, Steps: []int{step}}
		if convert {
			l.PerHour = -g.product.PricePerMinute * 60 * float64(g.perMinute)
		}
		pr.add(l)
	}
	if len(unpriced) > 0 {
		pr.add(CostLine{What: priceNameList(unpriced) + ", " + verb + priceTerm(b) + ": not priced (" + why + ")", Steps: []int{step}})
	}
	return nil
}

// delete prices a DeleteDesktop: the per-minute run rate and the EIP bandwidth stop; a monthly
// desktop's prepaid term is not refunded.
func (pr *pricer) delete(ctx context.Context, step int, t Target) error {
	d, ok := pr.desktop(t)
	if !ok {
		pr.add(CostLine{What: t.Name + " deleted: not priced (not in the observed state)", Steps: []int{step}})
		return nil
	}
	if d.BillMethod == provider.BillMethodMonthly {
		pr.add(CostLine{What: t.Name + " deleted: monthly, the prepaid term is not refunded", Steps: []int{step}})
	} else if p, reason := pr.productOf(t); reason != "" {
		pr.add(CostLine{What: t.Name + " deleted: not priced (" + reason + ")", Steps: []int{step}})
	} else {
		pr.add(CostLine{What: t.Name + " deleted, per-minute" + priceProductSuffix(p.GPUModel+" "+p.OS),
			PerHour: -p.PricePerMinute * 60, Steps: []int{step}})
	}
	return pr.deletedBandwidth(ctx, step, t.Name, d)
}

// deletedBandwidth prices the EIP a deleted desktop releases. QueryVm names the EIP's line only by
// its name ("移动:120.226.84.70"): the line id is the conf_id of a gateway of that name at the
// desktop's site in the snapshot. A desktop without EIP or bandwidth has no line; one whose line is
// not found gets a line without amount.
func (pr *pricer) deletedBandwidth(ctx context.Context, step int, name string, d provider.Desktop) error {
	line, _, ok := strings.Cut(d.EIP, ":")
	if !ok || line == "" || d.BandwidthMbps <= 0 {
		return nil
	}
	what := fmt.Sprintf("%s deleted, bandwidth %d Mbps via %s", name, d.BandwidthMbps, line)
	conf := pr.confID(d.SiteID, line)
	if conf == "" {
		pr.add(CostLine{What: what + ": not priced (no gateway of that line at the site)", Steps: []int{step}})
		return nil
	}
	perDay, err := pr.eipPerDay(ctx, eipPriceKey{SiteID: d.SiteID, ConfID: conf, Qos: d.BandwidthMbps})
	if err != nil {
		return err
	}
	pr.add(CostLine{What: what, PerHour: -perDay / 24, Steps: []int{step}})
	return nil
}

// confID finds the line id of a gateway named by its line at a site, default network first.
func (pr *pricer) confID(siteID, line string) string {
	if pr.in.Snapshot == nil {
		return ""
	}
	nets, ok := pr.in.Snapshot.SiteNetworks(siteID)
	if !ok {
		return ""
	}
	all := nets.Custom
	if nets.Default != nil {
		all = append([]provider.Network{*nets.Default}, nets.Custom...)
	}
	for _, n := range all {
		for _, g := range n.VGateways {
			if g.ConfName == line && g.ConfID != "" {
				return g.ConfID
			}
		}
	}
	return ""
}

func (pr *pricer) desktop(t Target) (provider.Desktop, bool) {
	if pr.in.Snapshot == nil || t.VmID == "" {
		return provider.Desktop{}, false
	}
	return pr.in.Snapshot.Desktop(t.VmID)
}

// productOf returns the product of an existing desktop, or why it is not known.
func (pr *pricer) productOf(t Target) (provider.Product, string) {
	d, ok := pr.desktop(t)
	if !ok {
		return provider.Product{}, "not in the observed state"
	}
	p, ok := pr.products[priceProductKey{d.SiteID, d.ProductID}]
	if !ok {
		return provider.Product{}, "product " + d.ProductID + " not offered at its site"
	}
	return p, ""
}

// months is the term's length as sent: at least 1 (the API's default).
func priceMonths(b Billing) int {
	if b.Months < 1 {
		return 1
	}
	return b.Months
}

// term describes a monthly term: "1 month", "3 months, to the end of the month".
func priceTerm(b Billing) string {
	m := priceMonths(b)
	s := strconv.Itoa(m) + " month"
	if m != 1 {
		s += "s"
	}
	if b.ToMonthEnd {
		s += ", to the end of the month"
	}
	return s
}

func priceProductSuffix(display string) string {
	if display = strings.TrimSpace(display); display == "" {
		return ""
	}
	return " " + display
}

func priceFixWord(f NetFix) string {
	if f == NetSupply {
		return "completed"
	}
	return "created"
}

// priceCreatedNames names the desktops of a CreateDesktops step: "render" for one, "render x3" for
// several (CreateVm's base name).
func priceCreatedNames(o CreateDesktops) string {
	if len(o.Names) == 1 {
		return o.Names[0]
	}
	base := o.BaseName
	if base == "" {
		base = o.Names[0]
	}
	return base + " x" + strconv.Itoa(len(o.Names))
}

// priceMaxListed is how many names a cost line lists before "and N more".
const priceMaxListed = 5

// priceNameList joins names in the given order: "a, b, c" or "a, b, c, d, e and 3 more".
func priceNameList(names []string) string {
	if len(names) <= priceMaxListed {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:priceMaxListed], ", ") + " and " + strconv.Itoa(len(names)-priceMaxListed) + " more"
}

// pricedOp is an op that costs or saves money: its price adds its lines to the pricer's.
type pricedOp interface {
	Op
	price(ctx context.Context, pr *pricer, stepID int) error
}

func (o CreateDesktops) price(ctx context.Context, pr *pricer, id int) error {
	return pr.create(ctx, id, o)
}
func (o DeleteDesktop) price(ctx context.Context, pr *pricer, id int) error {
	return pr.delete(ctx, id, o.Desktop)
}
func (o UpdateOrder) price(ctx context.Context, pr *pricer, id int) error {
	return pr.order(ctx, id, o.Targets, o.Billing, true)
}
func (o RenewOrder) price(ctx context.Context, pr *pricer, id int) error {
	return pr.order(ctx, id, o.Targets, o.Billing, false)
}

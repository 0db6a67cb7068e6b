package engine

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/schedule"
	"github.com/deskfleet/deskfleet/state"
)

// CostFormatVersion is the version of the fleet cost's JSON form (docs/cost-json.md). It changes when
// a field changes meaning or disappears; new fields do not change it.
const CostFormatVersion = 1

// MonthHours is the month the cost model projects over: 730 hours (8,760 / 12), the average month.
// An always-on per-minute desktop runs all of them; a scheduled one the hours its schedule is on in
// the 730 hours from the time of the estimate.
const MonthHours = 730.0

// Billing names in the cost model.
const (
	CostPerMinute = "per-minute"
	CostMonthly   = "monthly"
)

// Power basis of a desktop's hours in the cost model.
const (
	// PowerBasisOn: on all month (always-on, or running now).
	PowerBasisOn = "on"
	// PowerBasisOff: off all month (wanted off, or stopped now): a per-minute desktop costs no compute.
	PowerBasisOff = "off"
	// PowerBasisSchedule: the hours its power schedule is on.
	PowerBasisSchedule = "schedule"
)

// Cost row keys for what is not set.
const (
	CostNoLabel   = "(no label)"
	CostUnbound   = "(unbound)"
	CostNotInSpec = "(not in the spec)"
)

// FleetCost is what a fleet costs per month, now and projected, priced with the API's own prices
// (the catalog's, and GetEipPrice's quotes).
//
// Now is the live fleet as it is: the desktops the state manages and the live desktops the spec names,
// with their live product, billing, bandwidth and power (a running per-minute desktop runs all month,
// a stopped one costs no compute; one whose power follows its spec's schedule at the time of the read
// runs the schedule's hours, as it does with or without the plan). Projected is the fleet after the plan: the spec's desktops with
// their wanted product, billing (a live monthly desktop stays monthly: the API cannot switch back),
// bandwidth and power (a schedule's hours, all month when wanted on or when power is not managed and
// the desktop runs or is new, none when wanted off). A managed desktop the spec no longer names is in
// Now only (the plan deletes it), unless it is protected.
//
// The month of a desktop is:
//   - per-minute: the hourly rate x its hours (Hours, at most MonthHours) plus its bandwidth;
//   - monthly: the product's monthly price (monthPrice: a longer prepaid term amortises to the same
//     price per month) whatever its power, plus its bandwidth;
//   - bandwidth: GetEipPrice's price per day of its EIP x MonthHours / 24, whatever its power (the
//     EIP stays with a stopped desktop; the API quotes its lines by the day).
//
// Every list is sorted and is [] when empty. Amounts are unrounded, in Currency's units.
type FleetCost struct {
	FormatVersion int       `json:"format_version"`
	Fleet         string    `json:"fleet"`
	At            time.Time `json:"at"`
	Currency      string    `json:"currency"`
	MonthHours    float64   `json:"month_hours"`
	// Reads says how much was read (filled by Session.Cost, like Plan.Reads).
	Reads Reads `json:"reads"`
	// PriceCalls is the number of price queries the estimate made: GetEipPrice once per distinct site,
	// line and bandwidth (compute is priced from the catalog, without a call).
	PriceCalls int `json:"price_calls"`

	// Total is the fleet's row; Groups, Labels and Accounts split it by the spec's group, the label
	// and the bound account (a desktop is in one row of each).
	Total    CostRow   `json:"total"`
	Groups   []CostRow `json:"groups"`
	Labels   []CostRow `json:"labels"`
	Accounts []CostRow `json:"accounts"`
	// Schedules says what each power schedule saves per month against always-on.
	Schedules []ScheduleSaving `json:"schedules"`
	// Desktops are the desktops priced, by name.
	Desktops []DesktopCost `json:"desktops"`
	// Unpriced lists what could not be priced and why (its amounts count as zero).
	Unpriced []string `json:"unpriced"`
	// Recommendations are the per-minute desktops that would cost less monthly, largest saving first.
	Recommendations []Recommendation `json:"recommendations"`
}

// CostRow is one row of a split: the desktops in it and what they cost per month, now and projected.
type CostRow struct {
	Key       string    `json:"key"`
	Now       CostTotal `json:"now"`
	Projected CostTotal `json:"projected"`
}

// CostTotal sums desktops' months.
type CostTotal struct {
	Desktops int `json:"desktops"`
	// Compute is the per-minute desktops' rate x hours; Prepaid the monthly desktops' month;
	// Bandwidth their EIPs'. Month is the sum.
	Compute   float64 `json:"compute"`
	Prepaid   float64 `json:"prepaid"`
	Bandwidth float64 `json:"bandwidth"`
	Month     float64 `json:"month"`
}

// DesktopCost is one desktop, now (nil: not live) and projected (nil: the plan deletes it).
type DesktopCost struct {
	Name      string        `json:"name"`
	Group     string        `json:"group"`
	Now       *DesktopPrice `json:"now"`
	Projected *DesktopPrice `json:"projected"`
}

// DesktopPrice is what one desktop costs per month on one side.
type DesktopPrice struct {
	Site      string `json:"site"`
	Product   string `json:"product"`
	Billing   string `json:"billing"`
	Label     string `json:"label"`
	Account   string `json:"account"`
	Bandwidth int    `json:"bandwidth_mbps"`
	// Power is PowerBasisOn, PowerBasisOff or PowerBasisSchedule; Schedule the schedule as written.
	Power    string  `json:"power"`
	Schedule string  `json:"schedule,omitempty"`
	Hours    float64 `json:"hours"`
	// PerHour is the per-minute rate per hour (0 for monthly); MonthPrice the monthly price (0 for
	// per-minute); BandwidthPerHour the EIP's price per hour.
	PerHour          float64 `json:"per_hour"`
	MonthPrice       float64 `json:"month_price"`
	BandwidthPerHour float64 `json:"bandwidth_per_hour"`
	Compute          float64 `json:"compute"`
	Prepaid          float64 `json:"prepaid"`
	BandwidthMonth   float64 `json:"bandwidth"`
	Month            float64 `json:"month"`
	// Unpriced says why a part is not priced ("" when all is).
	Unpriced string `json:"unpriced,omitempty"`
}

// ScheduleSaving is what one schedule saves per month against always-on, over its per-minute
// desktops (a monthly desktop costs its month whatever its power: MonthlyDesktops counts them).
type ScheduleSaving struct {
	Schedule        string  `json:"schedule"`
	Desktops        int     `json:"desktops"`
	MonthlyDesktops int     `json:"monthly_desktops"`
	Hours           float64 `json:"hours"`
	AlwaysOn        float64 `json:"always_on"`
	Scheduled       float64 `json:"scheduled"`
	Saving          float64 `json:"saving"`
}

// CostInput is what CostOf prices.
type CostInput struct {
	// Desired is the spec resolved; Snapshot the live state; Record the fleet's state record (nil:
	// none); Products QueryProducts' list (Catalog.Products), for a live desktop's goodsId.
	Desired  *Desired
	Snapshot *provider.Snapshot
	Record   *state.Record
	Products []provider.Product
	// At is the start of the month projected (Snapshot.TakenAt when zero).
	At time.Time
}

// CostOf prices the fleet, now and projected (see FleetCost). Compute is priced from the catalog
// (Products: QueryProducts' requirePrice and monthPrice), without a call; bandwidth with GetEipPrice,
// once per distinct (site, line, Mbps) for one EIP. The number of calls depends on the bandwidths in
// play, never on the number of desktops. A desktop that cannot be priced (product not offered, line
// unknown) is listed in Unpriced and counts as zero; an API error (or two currencies) is returned.
func CostOf(ctx context.Context, c provider.Client, in CostInput) (*FleetCost, error) {
	return costOf(ctx, newPricer(c, PriceInput{Products: in.Products, Snapshot: in.Snapshot}), in)
}

// costOf is CostOf with pr's caches: a plan priced with the same pricer asks each bandwidth's price
// once for both. in.Products and in.Snapshot must be pr's.
func costOf(ctx context.Context, pr *pricer, in CostInput) (*FleetCost, error) {
	at := in.At
	if at.IsZero() && in.Snapshot != nil {
		at = in.Snapshot.TakenAt
	}
	callsBefore := pr.calls
	cm := &costModel{pr: pr, in: in, at: at, fc: &FleetCost{FormatVersion: CostFormatVersion, At: at,
		MonthHours: MonthHours, Unpriced: []string{}}}
	if in.Desired != nil {
		cm.fc.Fleet = in.Desired.Fleet
	}
	for _, d := range cm.match() {
		if err := cm.priceDesktop(ctx, d); err != nil {
			return nil, fmt.Errorf("pricing desktop %s: %w", d.name, err)
		}
	}
	cm.sum()
	cm.fc.Currency = pr.currency
	if cm.fc.Currency == "" {
		cm.fc.Currency = "CNY"
	}
	cm.fc.PriceCalls = pr.calls - callsBefore
	cm.fc.Recommendations = recommend(cm.fc, in.Products)
	return cm.fc, nil
}

// costDesktop is one desktop to price: its spec entry and its live desktop, either may be absent.
type costDesktop struct {
	name    string
	want    *DesiredDesktop
	live    *provider.Desktop
	managed *state.Desktop
}

type costModel struct {
	pr *pricer
	in CostInput
	at time.Time
	fc *FleetCost
	// hours are the hours of the month each schedule runs, computed once per schedule (the desktops
	// of a group share theirs).
	hours map[*schedule.Schedule]float64
}

// scheduledHours is how many hours of the month from cm.at the schedule runs.
func (cm *costModel) scheduledHours(sc *schedule.Schedule) float64 {
	if h, ok := cm.hours[sc]; ok {
		return h
	}
	if cm.hours == nil {
		cm.hours = map[*schedule.Schedule]float64{}
	}
	h := min(sc.HoursBetween(cm.at, cm.at.Add(time.Duration(MonthHours)*time.Hour)), MonthHours)
	cm.hours[sc] = h
	return h
}

// match pairs the spec's desktops with the live ones as Diff does: by the vmId the record keeps
// under the name (or the name it is renamed from), else by a name exactly one live desktop has. The
// record's other live desktops follow, by name.
func (cm *costModel) match() []costDesktop {
	byName := map[string]state.Desktop{}
	if cm.in.Record != nil {
		for _, d := range cm.in.Record.Desktops {
			byName[d.Name] = d
		}
	}
	liveOf := func(id string) *provider.Desktop {
		if cm.in.Snapshot == nil || id == "" {
			return nil
		}
		if d, ok := cm.in.Snapshot.Desktop(id); ok && d.Status != provider.StatusGone {
			return &d
		}
		return nil
	}
	used := map[string]bool{}
	var out []costDesktop
	if cm.in.Desired != nil {
		for i := range cm.in.Desired.Desktops {
			w := &cm.in.Desired.Desktops[i]
			cd := costDesktop{name: w.Name, want: w}
			rd, ok := byName[w.Name]
			if !ok && w.RenamedFrom != "" {
				rd, ok = byName[w.RenamedFrom]
			}
			if ok {
				cd.managed, cd.live = &rd, liveOf(rd.VmID)
				used[rd.VmID] = true
			} else if cm.in.Snapshot != nil {
				if named := cm.in.Snapshot.DesktopsNamed(w.Name); len(named) == 1 && !used[named[0].ID] {
					cd.live = liveOf(named[0].ID)
					used[named[0].ID] = true
				}
			}
			out = append(out, cd)
		}
	}
	var rest []costDesktop
	for _, rd := range byName {
		if used[rd.VmID] {
			continue
		}
		if l := liveOf(rd.VmID); l != nil {
			rest = append(rest, costDesktop{name: rd.Name, live: l, managed: &rd})
		}
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i].name < rest[j].name })
	return append(out, rest...)
}

// priceDesktop prices both sides of one desktop and adds it to the list.
func (cm *costModel) priceDesktop(ctx context.Context, d costDesktop) error {
	dc := DesktopCost{Name: d.name, Group: CostNotInSpec}
	if d.want != nil {
		dc.Group = d.want.Group
	}
	if d.live != nil {
		p, err := cm.priceNow(ctx, *d.live)
		if err != nil {
			return err
		}
		cm.followSchedule(p, d)
		dc.Now = p
	}
	switch {
	case d.want != nil:
		p, err := cm.priceProjected(ctx, *d.want, d.live)
		if err != nil {
			return err
		}
		dc.Projected = p
	case d.managed != nil && d.managed.Protect && dc.Now != nil:
		kept := *dc.Now // protected: never deleted, it stays as it is
		dc.Projected = &kept
	}
	if dc.Now == nil && dc.Projected == nil {
		return nil
	}
	for _, p := range []*DesktopPrice{dc.Now, dc.Projected} {
		if p == nil {
			continue
		}
		p.Month = p.Compute + p.Prepaid + p.BandwidthMonth
		if p.Unpriced != "" {
			cm.fc.Unpriced = append(cm.fc.Unpriced, d.name+": "+p.Unpriced)
		}
	}
	cm.fc.Desktops = append(cm.fc.Desktops, dc)
	return nil
}

// priceNow prices a live desktop as it is.
func (cm *costModel) priceNow(ctx context.Context, l provider.Desktop) (*DesktopPrice, error) {
	p := &DesktopPrice{Site: l.SiteID, Product: l.ProductID, Billing: CostPerMinute, Label: l.Label,
		Account: l.AccountEmail, Bandwidth: l.BandwidthMbps, Power: PowerBasisOff}
	if l.BillMethod == provider.BillMethodMonthly {
		p.Billing = CostMonthly
	}
	if liveOn(l) {
		p.Power, p.Hours = PowerBasisOn, MonthHours
	}
	prod, ok := cm.pr.products[priceProductKey{l.SiteID, l.ProductID}]
	if ok {
		cm.priceCompute(p, prod)
	} else {
		p.Unpriced = "product " + l.ProductID + " not offered at its site"
	}
	if line := eipLine(l.EIP); line != "" && l.BandwidthMbps > 0 {
		conf := cm.pr.confID(l.SiteID, line)
		if conf == "" {
			p.Unpriced = joinReason(p.Unpriced, "no gateway of line "+line+" at the site")
		} else if err := cm.priceBandwidth(ctx, p, l.SiteID, conf); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// followSchedule counts a per-minute desktop that follows its spec's schedule now (on inside its
// hours, off outside, at the time of the read) by the schedule's hours in Now too: it runs on the
// schedule whatever the plan does, so a plan that changes nothing of it changes nothing of its month.
// A desktop out of line with its schedule (held by an override, or turned by hand) keeps its live
// power's hours. (priceDesktop sums the month after.)
func (cm *costModel) followSchedule(p *DesktopPrice, d costDesktop) {
	if d.want == nil || d.want.Schedule == nil || cm.in.Snapshot == nil || p.Billing != CostPerMinute ||
		liveOn(*d.live) != d.want.Schedule.On(cm.in.Snapshot.TakenAt) {
		return
	}
	p.Power, p.Schedule = PowerBasisSchedule, d.want.Schedule.String()
	p.Hours = cm.scheduledHours(d.want.Schedule)
	p.Compute = p.PerHour * p.Hours
}

// priceProjected prices a desktop of the spec as the plan leaves it.
func (cm *costModel) priceProjected(ctx context.Context, w DesiredDesktop, l *provider.Desktop) (*DesktopPrice, error) {
	p := &DesktopPrice{Site: w.Site.ID, Product: w.Product.ProductID, Billing: CostPerMinute,
		Bandwidth: w.Bandwidth, Power: PowerBasisOn, Hours: MonthHours}
	if w.Billing.Monthly() || (l != nil && l.BillMethod == provider.BillMethodMonthly) {
		p.Billing = CostMonthly
	}
	switch {
	case w.Label != nil:
		p.Label = *w.Label
	case l != nil:
		p.Label = l.Label
	}
	p.Account = cm.projectedAccount(w, l)
	switch {
	case w.Schedule != nil:
		p.Power, p.Schedule = PowerBasisSchedule, w.Schedule.String()
		p.Hours = cm.scheduledHours(w.Schedule)
	case w.Power != nil && *w.Power == provider.PowerOff:
		p.Power, p.Hours = PowerBasisOff, 0
	case w.Power == nil && l != nil && !liveOn(*l):
		p.Power, p.Hours = PowerBasisOff, 0
	}
	cm.priceCompute(p, w.Product)
	switch {
	case w.Bandwidth <= 0:
	case w.Network.Fix != NetReady:
		p.Unpriced = "bandwidth: the line is known once the network is " + priceFixWord(w.Network.Fix)
	case w.Network.GatewayConfID != "":
		if err := cm.priceBandwidth(ctx, p, w.Site.ID, w.Network.GatewayConfID); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// projectedAccount is the account bound after the plan: the spec's binding when the spec has
// bindings, else the live one.
func (cm *costModel) projectedAccount(w DesiredDesktop, l *provider.Desktop) string {
	if d := cm.in.Desired; d != nil && d.BindingsSet {
		return d.Bindings[w.Name]
	}
	if l != nil {
		return l.AccountEmail
	}
	return ""
}

// priceCompute sets p's compute part from the product's own prices in the catalog (QueryProducts'
// requirePrice and monthPrice, already read with the catalog): no call. A per-minute desktop's rate
// per hour is requirePrice x 60 rounded to the cent, as QueryVmPrice quotes it; a monthly desktop's
// month is monthPrice (a longer prepaid term amortises to the same price per month).
func (cm *costModel) priceCompute(p *DesktopPrice, prod provider.Product) {
	if p.Billing == CostMonthly {
		p.MonthPrice, p.Prepaid = prod.PricePerMonth, prod.PricePerMonth
		return
	}
	p.PerHour = math.Round(prod.PricePerMinute*60*100) / 100
	p.Compute = p.PerHour * p.Hours
}

// priceBandwidth sets p's bandwidth part: one GetEipPrice per site, line and Mbps.
func (cm *costModel) priceBandwidth(ctx context.Context, p *DesktopPrice, site, conf string) error {
	perDay, err := cm.pr.eipPerDay(ctx, eipPriceKey{SiteID: site, ConfID: conf, Qos: p.Bandwidth})
	if err != nil {
		return err
	}
	p.BandwidthPerHour = perDay / 24
	p.BandwidthMonth = p.BandwidthPerHour * MonthHours
	return nil
}

// liveOn reports whether a live desktop counts as on: every status but stopped, stopping, expired
// and gone (a per-minute desktop is billed until it is stopped; one in a transition or in error is
// counted as billed, the higher estimate).
func liveOn(l provider.Desktop) bool {
	switch l.Status {
	case provider.StatusStopped, provider.StatusExpired, provider.StatusGone:
		return false
	}
	return l.RawStatus != provider.RawStoping
}

// eipLine is the line name of QueryVm's eip ("移动:120.226.84.70" -> "移动"), "" without one.
func eipLine(eip string) string {
	line, _, ok := strings.Cut(eip, ":")
	if !ok {
		return ""
	}
	return line
}

func joinReason(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// CostOptions tune Session.Cost.
type CostOptions struct {
	// At is the start of the month projected (the time of the read when zero): a schedule's hours
	// are counted from it.
	At time.Time
}

// Cost reads the live fleet and the state record (without the lock) and prices the fleet now and
// as the plan would leave it (CostOf). It makes no mutating call.
func (s *Session) Cost(ctx context.Context, sp *Spec, opt CostOptions) (*FleetCost, error) {
	l, rec, err := s.readWithRecord(ctx, sp)
	if err != nil {
		return nil, err
	}
	fc, err := costOf(ctx, l.pricer(s.Client), CostInput{Desired: l.desired, Snapshot: l.snapshot, Record: rec,
		Products: l.catalog.Products, At: opt.At})
	if err != nil {
		return nil, fmt.Errorf("pricing the fleet: %w", err)
	}
	fc.Reads = s.reads(l)
	return fc, nil
}

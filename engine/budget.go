package engine

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/deskfleet/deskfleet/spec"
	"github.com/deskfleet/deskfleet/state"
)

// BudgetLine is one budget of the spec against the fleet's projected month (FleetCost): the whole
// fleet's, a group's or a label's.
type BudgetLine struct {
	// Scope is "fleet", "group" or "label"; Name the group or label ("" for the fleet).
	Scope string `json:"scope"`
	Name  string `json:"name,omitempty"`
	// Amount is the budget; Now the projected month of the fleet as it is, After once the plan is
	// applied (run rate times scheduled hours, monthly prices, bandwidth: FleetCost).
	Amount float64 `json:"amount"`
	Now    float64 `json:"now"`
	After  float64 `json:"after"`
	// Over is true when After is over Amount; Blocks when the plan takes it over or further over
	// (After > Amount and After > Now) with a change that adds to the bill (addsCost): applying then
	// needs --allow-over-budget.
	Over   bool `json:"over"`
	Blocks bool `json:"blocks"`
}

// budgetLines compares the spec's budget b with the fleet's cost fc, fleet first, then groups and
// labels by name.
func budgetLines(b *spec.Budget, fc *FleetCost) []BudgetLine {
	var out []BudgetLine
	add := func(scope, name string, amount float64, row *CostRow) {
		l := BudgetLine{Scope: scope, Name: name, Amount: amount}
		if row != nil {
			l.Now, l.After = row.Now.Month, row.Projected.Month
		}
		l.Over = l.After > amount
		l.Blocks = l.Over && l.After > l.Now
		out = append(out, l)
	}
	find := func(rows []CostRow, key string) *CostRow {
		for i := range rows {
			if rows[i].Key == key {
				return &rows[i]
			}
		}
		return nil
	}
	if b.Monthly != nil {
		add("fleet", "", *b.Monthly, &fc.Total)
	}
	for _, name := range sortedMapKeys(b.Groups) {
		add("group", name, b.Groups[name], find(fc.Groups, name))
	}
	for _, name := range sortedMapKeys(b.Labels) {
		add("label", name, b.Labels[name], find(fc.Labels, name))
	}
	return out
}

func sortedMapKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// MonthlyCost is a fleet's projected month (FleetCost) now and after a plan: the fleet's row and one
// row per group of the spec (CostNotInSpec for the managed desktops the spec no longer names).
type MonthlyCost struct {
	Currency string    `json:"currency"`
	Fleet    CostRow   `json:"fleet"`
	Groups   []CostRow `json:"groups"`
}

// priceFleet prices the fleet (costOf, with the plan's pricer) when the spec has a budget or a schedule,
// or the plan changes the bill (changesMonth), and sets the plan's Monthly; for a spec with a budget
// its Budget lines and, for each budget the plan takes over (BudgetLine.Blocks), the plan-wide
// over-budget guard; for a spec with schedules what each saves per month against always-on
// (Plan.ScheduleSavings). Compute is priced from the catalog already read, so the only calls are one
// GetEipPrice per bandwidth the plan's own pricing did not ask. A fleet that cannot be priced gets a
// warning and no budget check: the budget cannot be judged, and a pricing outage must not block a
// power-only job.
func (s *Session) priceFleet(ctx context.Context, l *live, rec *state.Record, p *Plan, sp *Spec) {
	b := sp.Fleet.Budget
	scheduled := slices.ContainsFunc(l.desired.Desktops, func(d DesiredDesktop) bool { return d.Schedule != nil })
	if b == nil && !scheduled && !changesMonth(p) {
		return
	}
	fc, err := costOf(ctx, l.pricer(s.Client), CostInput{Desired: l.desired, Snapshot: l.snapshot, Record: rec,
		Products: l.catalog.Products, At: l.snapshot.TakenAt})
	if err != nil {
		p.Warnings = append(p.Warnings, Problem{Object: ObjectNetwork, Name: "budget",
			Message: "the fleet could not be priced, so its projected month (its budget, what its schedules save) is not known: " + err.Error()})
		return
	}
	p.Monthly = &MonthlyCost{Currency: fc.Currency, Fleet: fc.Total, Groups: fc.Groups}
	if scheduled {
		p.ScheduleSavings = fc.Schedules
	}
	if b == nil {
		return
	}
	p.Budget = budgetLines(b, fc)
	adds := addsCost(p)
	for i := range p.Budget {
		line := &p.Budget[i]
		line.Blocks = line.Blocks && adds
		if !line.Blocks {
			continue
		}
		what := "the fleet's"
		if line.Scope != "fleet" {
			what = fmt.Sprintf("%s %q's", line.Scope, line.Name)
		}
		p.Guards = append(p.Guards, GuardFinding{Guard: GuardOverBudget, Message: fmt.Sprintf(
			"%s projected month goes from %s to %s, over its budget of %s", what, FormatMoney(fc.Currency, line.Now, false),
			FormatMoney(fc.Currency, line.After, false), FormatMoney(fc.Currency, line.Amount, false))})
	}
}

// changesMonth reports whether a step of the plan changes the fleet's month: a creation, a deletion,
// a start or stop, or a change of billing. (A renewal prepays a term the month already counts.)
func changesMonth(p *Plan) bool {
	return slices.ContainsFunc(p.Steps, func(s Step) bool {
		switch s.Op.Kind() {
		case KindCreateDesktops, KindDeleteDesktop, KindPowerDesktops, KindUpdateOrder:
			return true
		}
		return false
	})
}

// addsCost reports whether the plan makes a change that adds to the bill: a creation or replacement,
// a change of billing, or a desktop powered on that its schedule does not turn on. Only such a plan
// is refused for a budget: "now" counts a scheduled desktop as it is at this moment (off at night),
// so a plan that changes nothing of the bill must not be judged by the schedule's hours.
func addsCost(p *Plan) bool {
	for _, c := range p.Changes {
		switch {
		case c.Action == ActionCreate, c.Action == ActionReplace, c.Attribute == AttrBilling:
			return true
		case c.Attribute == AttrPower && strings.HasSuffix(c.After, "on") && !strings.HasPrefix(c.Reason, "schedule "):
			return true
		}
	}
	return false
}

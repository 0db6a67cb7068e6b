package engine

import (
	"sort"
)

// sum fills the fleet's total and its splits from the priced desktops.
func (cm *costModel) sum() {
	fc := cm.fc
	groups, labels, accounts := map[string]*CostRow{}, map[string]*CostRow{}, map[string]*CostRow{}
	saves := map[string]*ScheduleSaving{}
	fc.Total.Key = fc.Fleet
	for _, d := range fc.Desktops {
		if p := d.Now; p != nil {
			fc.Total.Now.add(p)
			costRowOf(groups, d.Group).Now.add(p)
			costRowOf(labels, orKey(p.Label, CostNoLabel)).Now.add(p)
			costRowOf(accounts, orKey(p.Account, CostUnbound)).Now.add(p)
		}
		if p := d.Projected; p != nil {
			fc.Total.Projected.add(p)
			costRowOf(groups, d.Group).Projected.add(p)
			costRowOf(labels, orKey(p.Label, CostNoLabel)).Projected.add(p)
			costRowOf(accounts, orKey(p.Account, CostUnbound)).Projected.add(p)
			if p.Power == PowerBasisSchedule {
				saveOf(saves, p.Schedule).add(p)
			}
		}
	}
	fc.Groups, fc.Labels, fc.Accounts = sortedRows(groups), sortedRows(labels), sortedRows(accounts)
	fc.Schedules = make([]ScheduleSaving, 0, len(saves))
	for _, s := range saves {
		fc.Schedules = append(fc.Schedules, *s)
	}
	sort.Slice(fc.Schedules, func(i, j int) bool { return fc.Schedules[i].Schedule < fc.Schedules[j].Schedule })
	sort.SliceStable(fc.Desktops, func(i, j int) bool { return fc.Desktops[i].Name < fc.Desktops[j].Name })
	sort.Strings(fc.Unpriced)
	if fc.Desktops == nil {
		fc.Desktops = []DesktopCost{}
	}
}

func (t *CostTotal) add(p *DesktopPrice) {
	t.Desktops++
	t.Compute += p.Compute
	t.Prepaid += p.Prepaid
	t.Bandwidth += p.BandwidthMonth
	t.Month += p.Month
}

// add counts a scheduled desktop: a per-minute one saves its rate x the hours its schedule is off.
func (s *ScheduleSaving) add(p *DesktopPrice) {
	s.Desktops++
	s.Hours = p.Hours // the same schedule gives the same hours
	if p.Billing == CostMonthly {
		s.MonthlyDesktops++
		return
	}
	s.AlwaysOn += p.PerHour * MonthHours
	s.Scheduled += p.Compute
	s.Saving = s.AlwaysOn - s.Scheduled
}

func costRowOf(rows map[string]*CostRow, key string) *CostRow {
	r := rows[key]
	if r == nil {
		r = &CostRow{Key: key}
		rows[key] = r
	}
	return r
}

func saveOf(m map[string]*ScheduleSaving, sched string) *ScheduleSaving {
	s := m[sched]
	if s == nil {
		s = &ScheduleSaving{Schedule: sched}
		m[sched] = s
	}
	return s
}

// sortedRows orders rows by projected month, highest first, then by key.
func sortedRows(rows map[string]*CostRow) []CostRow {
	out := make([]CostRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Projected.Month != out[j].Projected.Month {
			return out[i].Projected.Month > out[j].Projected.Month
		}
		return out[i].Key < out[j].Key
	})
	return out
}

func orKey(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/deskfleet/deskfleet/state"
)

// DefaultReportRuns is how many applies of the journal a fleet report shows when not told.
const DefaultReportRuns = 10

// FleetReport is what `deskfleet report` shows a person: the fleet's status, its cost, the week's
// power schedule and the last applies. It is made from one read of the live fleet and the state
// record (Session.Report) and holds no secret.
type FleetReport struct {
	Fleet string    `json:"fleet"`
	At    time.Time `json:"at"`
	// Status counts the fleet's live desktops by what needs attention.
	Status ReportStatus `json:"status"`
	// Drift is the drift report the status was counted from; Cost the fleet's cost.
	Drift *DriftReport `json:"drift"`
	Cost  *FleetCost   `json:"cost"`
	// Week is the power timeline of the 7 days from WeekStart (midnight of At's day in WeekZone: the
	// zone of the spec's first schedule, UTC without one), one row per group and power basis.
	WeekStart time.Time     `json:"week_start"`
	WeekZone  string        `json:"week_zone"`
	Week      []TimelineRow `json:"week"`
	// Runs are the last applies of the journal, newest first.
	Runs []state.Run `json:"runs"`
}

// ReportStatus counts the fleet's live desktops (those the state manages or the spec names). A
// desktop is healthy when it is neither drifted, in error nor expiring; the other three may overlap.
type ReportStatus struct {
	Desktops int `json:"desktops"`
	Healthy  int `json:"healthy"`
	Drifted  int `json:"drifted"`
	InError  int `json:"in_error"`
	Expiring int `json:"expiring"`
	// Uncreated are the spec's desktops not live yet (the next apply creates them).
	Uncreated int `json:"uncreated"`
}

// TimelineRow is one row of the week's timeline: the desktops of a group with one power basis.
type TimelineRow struct {
	Group    string `json:"group"`
	Desktops int    `json:"desktops"`
	// Power is PowerBasisOn (one interval, the whole week), PowerBasisOff (none) or
	// PowerBasisSchedule (the schedule's intervals); Schedule the schedule as written.
	Power     string     `json:"power"`
	Schedule  string     `json:"schedule,omitempty"`
	Intervals []Interval `json:"intervals"`
}

// Interval is a time the desktops are on.
type Interval struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// ReportOptions tune Session.Report.
type ReportOptions struct {
	// At is the report's time (the time of the read when zero): the cost's month and the week start there.
	At time.Time
	// Runs is the number of applies shown (DefaultReportRuns when < 1).
	Runs int
	// ExpiringWithin is the drift report's window (DefaultExpiringWithin when zero).
	ExpiringWithin time.Duration
}

// Report reads the live fleet and the state record once (without the lock) and gathers the fleet
// report: Drift's report, CostOf's cost, the week's timeline and the last applies. It makes no
// mutating call.
func (s *Session) Report(ctx context.Context, sp *Spec, opt ReportOptions) (*FleetReport, error) {
	l, rec, err := s.readWithRecord(ctx, sp)
	if err != nil {
		return nil, err
	}
	at := opt.At
	if at.IsZero() {
		at = l.snapshot.TakenAt
	}
	fc, err := costOf(ctx, l.pricer(s.Client), CostInput{Desired: l.desired, Snapshot: l.snapshot, Record: rec,
		Products: l.catalog.Products, At: at})
	if err != nil {
		return nil, fmt.Errorf("pricing the fleet: %w", err)
	}
	dr := Drift(l.desired, l.snapshot, rec, DriftOptions{Now: at, ExpiringWithin: opt.ExpiringWithin})
	dr.Reads = s.reads(l)
	fc.Reads = dr.Reads
	r := &FleetReport{Fleet: sp.Fleet.Name, At: at, Drift: dr, Cost: fc, Runs: lastRuns(rec, opt.Runs)}
	r.Status = reportStatus(dr, fc)
	r.WeekStart, r.WeekZone, r.Week = weekTimeline(l.desired, fc, at)
	return r, nil
}

// reportStatus counts the live desktops of fc by the drift report's findings.
func reportStatus(dr *DriftReport, fc *FleetCost) ReportStatus {
	drifted, inError, expiring := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, it := range dr.Items {
		if it.Object == ObjectDesktop {
			drifted[it.Name] = true
		}
	}
	for _, e := range dr.InError {
		inError[e.Name] = true
	}
	for _, e := range dr.Expiring {
		expiring[e.Name] = true
	}
	var st ReportStatus
	for _, d := range fc.Desktops {
		if d.Now == nil {
			if d.Projected != nil {
				st.Uncreated++
			}
			continue
		}
		st.Desktops++
		bad := false
		for _, set := range []struct {
			m map[string]bool
			n *int
		}{{drifted, &st.Drifted}, {inError, &st.InError}, {expiring, &st.Expiring}} {
			if set.m[d.Name] {
				*set.n++
				bad = true
			}
		}
		if !bad {
			st.Healthy++
		}
	}
	return st
}

// lastRuns is the newest n runs of rec's journal, newest first ([] when none).
func lastRuns(rec *state.Record, n int) []state.Run {
	if n < 1 {
		n = DefaultReportRuns
	}
	out := []state.Run{}
	if rec == nil {
		return out
	}
	for i := len(rec.Runs) - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, rec.Runs[i])
	}
	return out
}

// weekTimeline is the 7 days from midnight of at's day in the zone of d's first schedule (UTC when
// none), one row per group and projected power basis, in spec order.
func weekTimeline(d *Desired, fc *FleetCost, at time.Time) (time.Time, string, []TimelineRow) {
	loc := time.UTC
	for _, w := range d.Desktops {
		if w.Schedule != nil {
			loc = w.Schedule.Location()
			break
		}
	}
	a := at.In(loc)
	start := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, loc)
	end := start.AddDate(0, 0, 7)
	power := map[string]*DesktopPrice{}
	for i := range fc.Desktops {
		if p := fc.Desktops[i].Projected; p != nil {
			power[fc.Desktops[i].Name] = p
		}
	}
	rows := []TimelineRow{}
	index := map[[3]string]int{}
	for _, w := range d.Desktops {
		p := power[w.Name]
		if p == nil {
			continue
		}
		k := [3]string{w.Group, p.Power, p.Schedule}
		if i, ok := index[k]; ok {
			rows[i].Desktops++
			continue
		}
		row := TimelineRow{Group: w.Group, Desktops: 1, Power: p.Power, Schedule: p.Schedule, Intervals: []Interval{}}
		switch {
		case p.Power == PowerBasisSchedule && w.Schedule != nil:
			for _, iv := range w.Schedule.Intervals(start, end) {
				row.Intervals = append(row.Intervals, Interval{Start: iv.Start, End: iv.End})
			}
		case p.Power == PowerBasisOn:
			row.Intervals = append(row.Intervals, Interval{Start: start, End: end})
		}
		index[k] = len(rows)
		rows = append(rows, row)
	}
	return start, loc.String(), rows
}

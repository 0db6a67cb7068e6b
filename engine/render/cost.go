package render

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/deskfleet/deskfleet/engine"
)

// The fleet cost (engine.FleetCost) is rendered as the plan is: pure functions of the value,
// deterministic, golden-tested. Every figure is per month of engine.MonthHours hours; names, labels
// and emails are shown through safe (text) and mdEscape (Markdown).

// CostJSON writes the fleet cost as indented JSON (two spaces) followed by a newline: the form
// documented in docs/cost-json.md, versioned by its format_version field. The only error is w's.
func CostJSON(w io.Writer, fc *engine.FleetCost) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(fc)
}

// costSplit is one table of the cost: a title, the name of its key column and its rows.
type costSplit struct {
	title, key string
	rows       []engine.CostRow
}

func costSplits(fc *engine.FleetCost) []costSplit {
	return []costSplit{{"By group", "GROUP", fc.Groups}, {"By label", "LABEL", fc.Labels},
		{"By bound account", "ACCOUNT", fc.Accounts}}
}

// costHeader is the first line: the fleet, the time and the month's length.
func costHeader(fc *engine.FleetCost) string {
	return fmt.Sprintf("deskfleet cost · fleet %s · %s · per month of %s h, API prices (%s)", safe(fc.Fleet),
		utcTime(fc.At), strconv.FormatFloat(fc.MonthHours, 'f', -1, 64), plural(fc.PriceCalls, "price query", "price queries"))
}

// costCells are a row's cells: desktops now -> projected, month now, projected, change.
func costCells(cur string, r engine.CostRow) []string {
	return []string{fmt.Sprintf("%d -> %d", r.Now.Desktops, r.Projected.Desktops), money(cur, r.Now.Month, false),
		money(cur, r.Projected.Month, false), money(cur, r.Projected.Month-r.Now.Month, true)}
}

// CostText writes the fleet cost for people at a terminal: the header, the fleet's total now and
// projected (with compute, prepaid and bandwidth), one table per split (group, label, bound account;
// columns measured in terminal columns, so Chinese names line up), what each schedule saves, and
// what could not be priced. Only TextOptions.Color is used. The only error is w's.
func CostText(w io.Writer, fc *engine.FleetCost, opt TextOptions) error {
	st := style{on: opt.Color}
	cur := fc.Currency
	var b strings.Builder
	b.WriteString(st.bold(costHeader(fc)) + "\n\n")
	tw := &table{w: &b}
	fmt.Fprintf(tw, "\tDESKTOPS\tCOMPUTE\tPREPAID\tBANDWIDTH\tMONTH\n")
	for _, side := range []struct {
		name string
		t    engine.CostTotal
	}{{"now", fc.Total.Now}, {"projected", fc.Total.Projected}} {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", side.name, side.t.Desktops, money(cur, side.t.Compute, false),
			money(cur, side.t.Prepaid, false), money(cur, side.t.Bandwidth, false), money(cur, side.t.Month, false))
	}
	_ = tw.Flush()
	change := fc.Total.Projected.Month - fc.Total.Now.Month
	b.WriteString(st.bold("After the plan: "+money(cur, change, true)+" a month") + "\n")
	for _, sp := range costSplits(fc) {
		if len(sp.rows) == 0 {
			continue
		}
		b.WriteString("\n" + st.bold(sp.title) + "\n")
		tw := &table{w: &b}
		fmt.Fprintf(tw, "  %s\tDESKTOPS\tNOW\tPROJECTED\tCHANGE\n", sp.key)
		for _, r := range sp.rows {
			fmt.Fprintf(tw, "  %s\t%s\n", safe(r.Key), strings.Join(costCells(cur, r), "\t"))
		}
		_ = tw.Flush()
	}
	if len(fc.Schedules) > 0 {
		b.WriteString("\n" + st.bold("Schedules (saving against always-on)") + "\n")
		tw := &table{w: &b}
		fmt.Fprintf(tw, "  SCHEDULE\tDESKTOPS\tHOURS\tALWAYS-ON\tSCHEDULED\tSAVES\n")
		for _, s := range fc.Schedules {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", safe(s.Schedule), costScheduleDesktops(s),
				strconv.FormatFloat(s.Hours, 'f', 1, 64), money(cur, s.AlwaysOn, false),
				money(cur, s.Scheduled, false), st.green(money(cur, s.Saving, false)))
		}
		_ = tw.Flush()
	}
	if len(fc.Recommendations) > 0 {
		b.WriteString("\n" + st.bold("Cheaper monthly (per-minute desktops that run more hours than a month costs)") + "\n")
		for _, r := range fc.Recommendations {
			b.WriteString("  " + recommendationLine(cur, r, safe) + "\n")
		}
	}
	if len(fc.Unpriced) > 0 {
		b.WriteString("\n" + st.yellow(st.bold(fmt.Sprintf("Not priced (%d, counted as zero)", len(fc.Unpriced)))) + "\n")
		for _, u := range fc.Unpriced {
			b.WriteString("  - " + safe(u) + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func costScheduleDesktops(s engine.ScheduleSaving) string {
	if s.MonthlyDesktops == 0 {
		return strconv.Itoa(s.Desktops)
	}
	return fmt.Sprintf("%d (%d monthly)", s.Desktops, s.MonthlyDesktops)
}

// CostMarkdown writes the fleet cost as Markdown (a PR comment or a job summary): a heading with
// the fleet's month now -> projected, a table per split and the schedules' savings. The only error
// is w's.
func CostMarkdown(w io.Writer, fc *engine.FleetCost) error {
	cur := fc.Currency
	var b strings.Builder
	fmt.Fprintf(&b, "### deskfleet cost · %s: %s -> %s a month (%s)\n\n_%s_\n", mdEscape(fc.Fleet),
		money(cur, fc.Total.Now.Month, false), money(cur, fc.Total.Projected.Month, false),
		money(cur, fc.Total.Projected.Month-fc.Total.Now.Month, true), mdEscape(costHeader(fc)))
	for _, sp := range costSplits(fc) {
		if len(sp.rows) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n**%s**\n\n| %s | Desktops | Now | Projected | Change |\n|---|---:|---:|---:|---:|\n",
			sp.title, strings.ToLower(sp.key))
		for _, r := range sp.rows {
			fmt.Fprintf(&b, "| %s | %s |\n", mdEscape(r.Key), strings.Join(costCells(cur, r), " | "))
		}
	}
	if len(fc.Schedules) > 0 {
		b.WriteString("\n**Schedules (saving against always-on)**\n\n| schedule | Desktops | Hours | Always-on | Scheduled | Saves |\n|---|---:|---:|---:|---:|---:|\n")
		for _, s := range fc.Schedules {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", mdEscape(s.Schedule), costScheduleDesktops(s),
				strconv.FormatFloat(s.Hours, 'f', 1, 64), money(cur, s.AlwaysOn, false), money(cur, s.Scheduled, false),
				money(cur, s.Saving, false))
		}
	}
	if len(fc.Recommendations) > 0 {
		b.WriteString("\n**Cheaper monthly** (per-minute desktops that run more hours than a month costs)\n\n")
		for _, r := range fc.Recommendations {
			b.WriteString("- " + recommendationLine(cur, r, mdEscape) + "\n")
		}
	}
	if len(fc.Unpriced) > 0 {
		fmt.Fprintf(&b, "\n**Not priced** (%d, counted as zero)\n\n", len(fc.Unpriced))
		for _, u := range fc.Unpriced {
			b.WriteString("- " + mdEscape(u) + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// recommendationLine is one recommendation: "render: runs 730.0 h a month, ¥8,183.30 per-minute;
// monthly ¥3,364.00 saves ¥4,819.30 (billing: a month plan)". name escapes the desktop's name.
func recommendationLine(cur string, r engine.Recommendation, name func(string) string) string {
	return fmt.Sprintf("%s: runs %.1f h a month, %s per-minute; monthly %s saves %s (give it a billing plan with cycle: month)",
		name(r.Desktop), r.Hours, money(cur, r.PerMinute, false), money(cur, r.Monthly, false), money(cur, r.Saving, false))
}

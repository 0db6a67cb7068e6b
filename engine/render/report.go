package render

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/state"
)

//go:embed templates/report.html.tmpl
var reportFS embed.FS

var reportTemplate = template.Must(template.ParseFS(reportFS, "templates/report.html.tmpl"))

// ReportHTML writes the fleet report as one self-contained HTML page: inline CSS, charts as inline
// SVG computed here, no script, no font, no image, no link to anything: it works offline, from a
// file and as a CI artifact. Every value from the spec, the API or the state is escaped by
// html/template (and shown through safe). The page shows the fleet's status counts (each count
// carries data-status="healthy|drifted|in_error|expiring"; the expiring desktops listed with their
// days left, as drift says them), the cost now and projected with one bar
// chart by group and one by label (rect.bar.now and rect.bar.projected), what each schedule saves,
// the week's power timeline (one g.row per timeline row, rect.on per interval) and the last applies.
// The only error is w's.
func ReportHTML(w io.Writer, r *engine.FleetReport) error {
	return reportTemplate.Execute(w, reportViewOf(r))
}

type reportView struct {
	Fleet, At, Reads         string
	Status                   []statusView
	Uncreated                string
	Expiring                 []string
	MonthHours               string
	NowMonth, ProjectedMonth string
	Change                   string
	Charts                   []chartView
	Schedules                []savingView
	Unpriced                 []string
	Timeline                 timelineView
	Runs                     []runView
}

type statusView struct {
	Key, Label, Class string
	Count             int
}

type chartView struct {
	Title, ID     string
	Width, Height int
	Bars          []barView
}

type barView struct {
	Label                  string
	X, NowW, ProjW, ValueX float64
	TextY, NowY, ProjY     int
	ValueY                 int
	NowText, ProjText      string
}

type savingView struct {
	Schedule, Desktops, Hours, AlwaysOn, Scheduled, Saving string
}

type timelineView struct {
	Zone          string
	Width, Height int
	Days          []dayView
	Rows          []rowView
}

type dayView struct {
	X, TextX float64
	Label    string
}

type rowView struct {
	Group, Label, Note string
	TextY              int
	NoteX              float64
	Rects              []rectView
}

type rectView struct {
	X, W  float64
	Y     int
	Title string
}

type runView struct {
	Started, Outcome, By, Steps, Commit, Command string
}

func reportViewOf(r *engine.FleetReport) reportView {
	fc := r.Cost
	cur := fc.Currency
	st := r.Status
	v := reportView{Fleet: safe(r.Fleet), At: utcTime(r.At),
		Reads: fmt.Sprintf("%s, %s read in %s", plural(r.Drift.Reads.Desktops, "desktop", "desktops"),
			plural(r.Drift.Reads.Calls, "call", "calls"), elapsed(r.Drift.Reads.Elapsed)),
		Status: []statusView{
			{"desktops", "Desktops", "", st.Desktops}, {"healthy", "Healthy", "healthy", st.Healthy},
			{"drifted", "Drifted", "drifted", st.Drifted}, {"in_error", "In error", "error", st.InError},
			{"expiring", "Expiring", "expiring", st.Expiring}},
		MonthHours: strconv.FormatFloat(fc.MonthHours, 'f', -1, 64),
		NowMonth:   money(cur, fc.Total.Now.Month, false), ProjectedMonth: money(cur, fc.Total.Projected.Month, false),
		Change: money(cur, fc.Total.Projected.Month-fc.Total.Now.Month, true),
		Charts: []chartView{costChart("Cost by group", "chart-groups", cur, fc.Groups),
			costChart("Cost by label", "chart-labels", cur, fc.Labels)},
		Timeline: timelineOf(r),
	}
	if st.Uncreated > 0 {
		v.Uncreated = plural(st.Uncreated, "desktop", "desktops")
	}
	for _, e := range r.Drift.Expiring {
		v.Expiring = append(v.Expiring, safe(expiringText(e)))
	}
	for _, s := range fc.Schedules {
		v.Schedules = append(v.Schedules, savingView{Schedule: safe(s.Schedule), Desktops: costScheduleDesktops(s),
			Hours: strconv.FormatFloat(s.Hours, 'f', 1, 64), AlwaysOn: money(cur, s.AlwaysOn, false),
			Scheduled: money(cur, s.Scheduled, false), Saving: money(cur, s.Saving, false)})
	}
	for _, u := range fc.Unpriced {
		v.Unpriced = append(v.Unpriced, safe(u))
	}
	for _, run := range r.Runs {
		v.Runs = append(v.Runs, runViewOf(run))
	}
	return v
}

// Chart geometry: a label column, then bars scaled to the largest amount.
const (
	chartWidth    = 480
	chartLabelW   = 140
	chartBarsW    = 250
	chartRowH     = 38
	chartMaxLabel = 20
)

// costChart is a bar chart of rows: a grey bar now and a blue one projected per row.
func costChart(title, id, cur string, rows []engine.CostRow) chartView {
	c := chartView{Title: title, ID: id, Width: chartWidth, Height: max(1, len(rows)) * chartRowH}
	top := 0.0
	for _, r := range rows {
		top = max(top, r.Now.Month, r.Projected.Month)
	}
	scale := 0.0
	if top > 0 {
		scale = chartBarsW / top
	}
	for i, r := range rows {
		y := i * chartRowH
		b := barView{Label: clip(safe(r.Key), chartMaxLabel), X: chartLabelW, TextY: y + 20, NowY: y + 6, ProjY: y + 19,
			NowW: round1(r.Now.Month * scale), ProjW: round1(r.Projected.Month * scale),
			NowText: money(cur, r.Now.Month, false), ProjText: money(cur, r.Projected.Month, false), ValueY: y + 29}
		b.ValueX = chartLabelW + max(b.NowW, b.ProjW) + 6
		c.Bars = append(c.Bars, b)
	}
	return c
}

// Timeline geometry: a label column, then 7 day columns.
const (
	timelineLabelW = 170
	timelineDayW   = 90
	timelineRowH   = 26
	timelineTop    = 24
)

func timelineOf(r *engine.FleetReport) timelineView {
	t := timelineView{Zone: safe(r.WeekZone), Width: timelineLabelW + 7*timelineDayW,
		Height: timelineTop + max(1, len(r.Week))*timelineRowH + 4}
	loc := r.WeekStart.Location()
	for d := range 7 {
		day := r.WeekStart.AddDate(0, 0, d)
		x := float64(timelineLabelW + d*timelineDayW)
		t.Days = append(t.Days, dayView{X: x, TextX: x + 4, Label: day.In(loc).Format("Mon 01-02")})
	}
	week := 7 * 24 * time.Hour
	xOf := func(at time.Time) float64 {
		return round1(timelineLabelW + float64(7*timelineDayW)*float64(at.Sub(r.WeekStart))/float64(week))
	}
	for i, row := range r.Week {
		y := timelineTop + i*timelineRowH
		rv := rowView{Group: safe(row.Group), Label: clip(safe(row.Group), 16) + " (" + strconv.Itoa(row.Desktops) + ")", TextY: y + 15,
			NoteX: timelineLabelW + 6}
		for _, iv := range row.Intervals {
			x0, x1 := xOf(iv.Start), xOf(iv.End)
			rv.Rects = append(rv.Rects, rectView{X: x0, W: round1(x1 - x0), Y: y + 3,
				Title: iv.Start.In(loc).Format("Mon 15:04") + " - " + iv.End.In(loc).Format("Mon 15:04")})
		}
		switch {
		case row.Power == engine.PowerBasisOff:
			rv.Note = "off all week"
		case row.Power == engine.PowerBasisOn && len(rv.Rects) == 1:
			rv.Rects[0].Title = "on all week (no schedule)"
		case len(rv.Rects) == 0:
			rv.Note = "off all week (" + safe(row.Schedule) + ")"
		}
		t.Rows = append(t.Rows, rv)
	}
	return t
}

func runViewOf(run state.Run) runView {
	done, failed := 0, 0
	for _, s := range run.Steps {
		switch s.Status {
		case "done":
			done++
		case "failed", "partial":
			failed++
		}
	}
	steps := strconv.Itoa(done) + " done"
	if failed > 0 {
		steps += ", " + strconv.Itoa(failed) + " failed"
	}
	by := safe(run.User)
	if run.Host != "" {
		by += "@" + safe(run.Host)
	}
	return runView{Started: utcTime(run.StartedAt), Outcome: safe(run.Outcome), By: by, Steps: steps,
		Commit: shortID(safe(run.GitCommit), 8), Command: safe(run.Command)}
}

func round1(x float64) float64 { return float64(int64(x*10+0.5)) / 10 }

// clip cuts s to n runes with an ellipsis.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/state"
)

// costPrice is a per-minute desktop's month at rate ¥/h for hours, with bw Mbps at ¥/day.
func costPrice(billing, label, account, power string, hours, rate, monthPrice, bwPerDay float64, bw int) *engine.DesktopPrice {
	p := &engine.DesktopPrice{Site: "site-sq-a", Product: "prod-t4", Billing: billing, Label: label, Account: account,
		Bandwidth: bw, Power: power, Hours: hours, PerHour: rate, MonthPrice: monthPrice, BandwidthPerHour: bwPerDay / 24}
	if billing == engine.CostMonthly {
		p.PerHour, p.Prepaid = 0, monthPrice
	} else {
		p.Compute = rate * hours
	}
	p.BandwidthMonth = p.BandwidthPerHour * engine.MonthHours
	p.Month = p.Compute + p.Prepaid + p.BandwidthMonth
	return p
}

// costFixture is a fleet of three desktops: render (per-minute, running now, on a working-hours
// schedule after the plan), 设计-01 (monthly, bound, label in Chinese) and old (deleted by the plan),
// plus new (created by the plan). Its rows are summed as engine.CostOf sums them.
func costFixture() *engine.FleetCost {
	sched := "Mon-Fri 08:30-19:00 Asia/Shanghai"
	fc := &engine.FleetCost{FormatVersion: engine.CostFormatVersion, Fleet: "studio", At: planTime, Currency: "CNY",
		MonthHours: engine.MonthHours, PriceCalls: 1,
		Reads:           engine.Reads{Desktops: 3, Accounts: 1, Sites: 1, Calls: 7, Elapsed: 1200 * time.Millisecond},
		Unpriced:        []string{"new: bandwidth: the line is known once the network is created"},
		Recommendations: []engine.Recommendation{{Desktop: "设计", Hours: 730, PerMinute: 8183.3, Monthly: 3364, Saving: 4819.3}}}
	sp := costPrice(engine.CostPerMinute, "render", "", engine.PowerBasisSchedule, 228.5, 10.98, 0, 12, 10)
	sp.Schedule = sched
	fc.Desktops = []engine.DesktopCost{
		{Name: "new", Group: "render", Projected: costPrice(engine.CostPerMinute, "render", "", engine.PowerBasisOn, 730, 10.98, 0, 0, 10)},
		{Name: "old", Group: engine.CostNotInSpec, Now: costPrice(engine.CostPerMinute, "", "", engine.PowerBasisOff, 0, 3.65, 0, 12, 10)},
		{Name: "render", Group: "render", Now: costPrice(engine.CostPerMinute, "render", "", engine.PowerBasisOn, 730, 10.98, 0, 12, 10), Projected: sp},
		{Name: "设计-01", Group: "设计", Now: costPrice(engine.CostMonthly, "设计部", "李雷@example.com", engine.PowerBasisOn, 730, 0, 3364, 0, 0),
			Projected: costPrice(engine.CostMonthly, "设计部", "李雷@example.com", engine.PowerBasisOn, 730, 0, 3364, 0, 0)},
	}
	fc.Desktops[3].Projected.Unpriced = ""
	fc.Desktops[0].Projected.Unpriced = "bandwidth: the line is known once the network is created"
	row := func(key string, names ...string) engine.CostRow {
		r := engine.CostRow{Key: key}
		for _, d := range fc.Desktops {
			if !slices.Contains(names, d.Name) {
				continue
			}
			for _, side := range []struct {
				t *engine.CostTotal
				p *engine.DesktopPrice
			}{{&r.Now, d.Now}, {&r.Projected, d.Projected}} {
				if side.p != nil {
					side.t.Desktops++
					side.t.Compute += side.p.Compute
					side.t.Prepaid += side.p.Prepaid
					side.t.Bandwidth += side.p.BandwidthMonth
					side.t.Month += side.p.Month
				}
			}
		}
		return r
	}
	fc.Total = row("studio", "new", "old", "render", "设计-01")
	fc.Groups = []engine.CostRow{row("render", "new", "render"), row("设计", "设计-01"), row(engine.CostNotInSpec, "old")}
	fc.Labels = []engine.CostRow{row("render", "new", "render"), row("设计部", "设计-01"), row(engine.CostNoLabel, "old")}
	fc.Accounts = []engine.CostRow{row("李雷@example.com", "设计-01"), row(engine.CostUnbound, "new", "old", "render")}
	fc.Schedules = []engine.ScheduleSaving{{Schedule: sched, Desktops: 1, Hours: 228.5, AlwaysOn: 10.98 * 730,
		Scheduled: 10.98 * 228.5, Saving: 10.98 * (730 - 228.5)}}
	return fc
}

func TestCostRender(t *testing.T) {
	fc := costFixture()
	var text, md bytes.Buffer
	if err := CostText(&text, fc, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := CostMarkdown(&md, fc); err != nil {
		t.Fatal(err)
	}
	goldenFile(t, "cost", text.Bytes())
	goldenFile(t, "cost_md", md.Bytes())
	// Facts the goldens show, so that a wrong golden cannot be blessed by -update.
	facts := []struct{ reason, want string }{
		{"the schedule saves the rate x the hours it is off", "¥5,506.47"},
		{"the fleet's projected month: render scheduled, new always on, 设计-01's month", money("CNY", fc.Total.Projected.Month, false)},
		{"a Chinese label", "设计部"},
		{"the deleted desktop is not in the spec", engine.CostNotInSpec},
		{"what is not priced is said", "new: bandwidth"},
	}
	for _, f := range facts {
		if !strings.Contains(text.String(), f.want) || !strings.Contains(md.String(), f.want) {
			t.Errorf("text or Markdown lacks %q (%s)", f.want, f.reason)
		}
	}
	// The tables line up in terminal columns: every row of a table has its NOW column at the same column.
	var cols []int
	for _, l := range strings.Split(text.String(), "\n") {
		if i := strings.Index(l, " -> "); i >= 0 && strings.HasPrefix(l, "  ") && !strings.Contains(l, "@") && !strings.Contains(l, "(unbound)") {
			cols = append(cols, displayWidth(l[:i]))
		}
	}
	if len(cols) < 6 {
		t.Fatalf("found %d rows of the split tables, want 6", len(cols))
	}
	for _, c := range cols[1:3] {
		if c != cols[0] {
			t.Errorf("the group table's DESKTOPS column is at columns %v: not aligned (display width)", cols[:3])
		}
	}
}

var costDocPath = filepath.Join("..", "..", "docs", "cost-json.md")

// TestCostJSONDocumented keeps docs/cost-json.md true: every key of the cost's JSON form (from the
// json tags of engine.FleetCost and what it holds) is named there in backquotes, the page states the
// format_version, and its example is CostJSON's output for costFixture.
func TestCostJSONDocumented(t *testing.T) {
	doc, err := os.ReadFile(costDocPath)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	tagKeys(reflect.TypeOf(engine.FleetCost{}), keys)
	var missing []string
	for k := range keys {
		if !bytes.Contains(doc, []byte("`"+k+"`")) {
			missing = append(missing, k)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("docs/cost-json.md does not mention these keys of the cost's JSON: %s", strings.Join(missing, ", "))
	}
	if want := fmt.Sprintf("`format_version` is `%d`", engine.CostFormatVersion); !bytes.Contains(doc, []byte(want)) {
		t.Errorf("docs/cost-json.md does not say %s (engine.CostFormatVersion)", want)
	}
	var b bytes.Buffer
	if err := CostJSON(&b, costFixture()); err != nil {
		t.Fatal(err)
	}
	if got, ok := jsonBlock(string(doc)); !ok || got != b.String() {
		t.Errorf("docs/cost-json.md's example is not CostJSON's output for costFixture; paste it into the page's json block:\n%s", b.Bytes())
	}
	var back engine.FleetCost
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || !reflect.DeepEqual(&back, costFixture()) {
		t.Errorf("the JSON does not decode back to the cost (err %v)", err)
	}
}

// reportFixture is a report over costFixture: one drifted desktop, one in error, one expiring, two
// applies, a timeline with a scheduled group, an always-on group and one off.
func reportFixture() *engine.FleetReport {
	fc := costFixture()
	cst := time.FixedZone("Asia/Shanghai", 8*3600)
	start := time.Date(2026, 11, 26, 0, 0, 0, 0, cst)
	var work []engine.Interval
	for d := range 7 {
		day := start.AddDate(0, 0, d)
		if wd := day.Weekday(); wd != time.Saturday && wd != time.Sunday {
			work = append(work, engine.Interval{Start: day.Add(8*time.Hour + 30*time.Minute), End: day.Add(19 * time.Hour)})
		}
	}
	return &engine.FleetReport{Fleet: "studio", At: planTime, Cost: fc,
		Drift: &engine.DriftReport{Reads: fc.Reads,
			Items:   []engine.DriftItem{{Object: engine.ObjectDesktop, Name: "render", Attribute: "label"}},
			InError: []engine.StatusItem{{Name: "old", Status: "failed", Managed: true}},
			Expiring: []engine.ExpiringItem{{Name: "设计-01", Managed: true, ExpireTime: planTime.Add(4*24*time.Hour + 7*time.Hour),
				DaysLeft: 4, Source: "QueryVm"}}},
		Status:    engine.ReportStatus{Desktops: 3, Healthy: 0, Drifted: 1, InError: 1, Expiring: 1, Uncreated: 1},
		WeekStart: start, WeekZone: "Asia/Shanghai",
		Week: []engine.TimelineRow{
			{Group: "render", Desktops: 2, Power: engine.PowerBasisSchedule, Schedule: "Mon-Fri 08:30-19:00 Asia/Shanghai", Intervals: work},
			{Group: "设计", Desktops: 1, Power: engine.PowerBasisOn, Intervals: []engine.Interval{{Start: start, End: start.AddDate(0, 0, 7)}}},
			{Group: "<script>alert(1)</script>", Desktops: 1, Power: engine.PowerBasisOff, Intervals: []engine.Interval{}},
		},
		Runs: []state.Run{
			{ID: "r2", User: "ci", Host: "runner-7", Command: "apply --auto-approve", StartedAt: planTime.Add(-time.Hour),
				Outcome: "done", GitCommit: "0123456789abcdef", Steps: []state.StepOutcome{{Step: 1, Status: "done"}, {Step: 2, Status: "done"}}},
			{ID: "r1", User: "ana", Host: "laptop", Command: "apply", StartedAt: planTime.Add(-26 * time.Hour),
				Outcome: "partial", Steps: []state.StepOutcome{{Step: 1, Status: "done"}, {Step: 2, Status: "failed"}}},
		},
	}
}

func TestReportHTML(t *testing.T) {
	var b bytes.Buffer
	if err := ReportHTML(&b, reportFixture()); err != nil {
		t.Fatal(err)
	}
	goldenFile(t, "report_html", b.Bytes())
	page := b.String()
	checks := []struct {
		reason string
		ok     bool
	}{
		{"a value from the spec is escaped, never markup", !strings.Contains(page, "<script>") && strings.Contains(page, "&lt;script&gt;")},
		{"no external asset: no URL, no script, no link", !strings.Contains(page, "http://") && !strings.Contains(page, "https://") &&
			!strings.Contains(page, "<link") && !strings.Contains(page, "src=")},
		{"the status counts", strings.Contains(page, `data-status="drifted">1<`) && strings.Contains(page, `data-status="healthy">0<`)},
		{"a projected bar per group", strings.Count(page, `class="bar projected"`) == len(reportFixture().Cost.Groups)+len(reportFixture().Cost.Labels)},
		{"five working days on the timeline, one always-on bar", strings.Count(page, `class="on"`) == 6},
		{"the applies", strings.Contains(page, "runner-7") && strings.Contains(page, "1 done, 1 failed")},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("the page fails: %s", c.reason)
		}
	}
}

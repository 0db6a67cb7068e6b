package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/engine/fleets"
	"github.com/deskfleet/deskfleet/spec"
)

// badSpecResult is a fleet whose spec failed, with a diagnostic and a hint.
func badSpecResult() *fleets.Result {
	diags := spec.Diagnostics{{Pos: spec.Pos{File: "fleets/broken/fleet.yaml", Line: 3, Col: 1},
		Message: "unknown key \"bogus\"", Hint: "remove it"}}
	return &fleets.Result{Dir: "fleets/broken", Fleet: "broken", Exit: fleets.ExitError,
		Err: &engine.SpecError{Diags: diags}, Diagnostics: diags}
}

// planRun is a plan over four fleets: one with changes, one with none, one whose spec fails, one not
// changed since the ref.
func planRun() *fleets.Report {
	empty := emptyPlan()
	empty.Fleet = "course-101"
	studio := studioPlan()
	return &fleets.Report{Command: fleets.CommandPlan, Root: "fleets", ChangedSince: "origin/main", Exit: fleets.ExitError,
		Fleets: []*fleets.Result{
			badSpecResult(),
			{Dir: "fleets/course", Fleet: "course-101", Plan: empty, Exit: fleets.ExitOK},
			{Dir: "fleets/old", Fleet: "old", Unchanged: true},
			{Dir: "fleets/studio", Fleet: "studio", Plan: studio, Exit: fleets.ExitChanges},
		}}
}

// driftRun is a drift check over two fleets: one drifted, one clean.
func driftRun() *fleets.Report {
	clean := driftBase()
	clean.Fleet = "course-101"
	return &fleets.Report{Command: fleets.CommandDrift, Root: "fleets", Exit: fleets.ExitDrift, Bases: []string{"fleets/base"},
		Fleets: []*fleets.Result{
			{Dir: "fleets/course", Fleet: "course-101", Drift: clean, Exit: fleets.ExitOK},
			{Dir: "fleets/studio", Fleet: "studio", Drift: sketchDrift(), Exit: fleets.ExitDrift},
		}}
}

// applyRun is an apply over three fleets: one done, one partly applied, one blocked by a guard.
func applyRun() *fleets.Report {
	done := &engine.ApplyOutcome{Plan: studioPlan(), Result: &engine.Result{RunID: "20261126T090000Z-aa", Outcome: engine.OutcomeDone,
		Steps: []engine.StepResult{{Step: 1, Status: engine.StepDone}, {Step: 2, Status: engine.StepDone}}}}
	partial := &engine.ApplyOutcome{Plan: studioPlan(), Result: &engine.Result{RunID: "20261126T090000Z-bb", Outcome: engine.OutcomePartial,
		Steps: []engine.StepResult{{Step: 1, Status: engine.StepDone}, {Step: 2, Status: engine.StepFailed}, {Step: 3, Status: engine.StepSkipped}}}}
	return &fleets.Report{Command: fleets.CommandApply, Root: "fleets", Exit: fleets.ExitPartial,
		Fleets: []*fleets.Result{
			{Dir: "fleets/course", Fleet: "course-101", Applied: done, Exit: fleets.ExitOK},
			{Dir: "fleets/lab", Fleet: "lab", Applied: &engine.ApplyOutcome{Plan: studioPlan()}, Exit: fleets.ExitGuard,
				Err: errors.New("1 change needs a flag to apply; nothing was changed"), Hint: "run again with --allow-delete"},
			{Dir: "fleets/studio", Fleet: "studio", Applied: partial, Exit: fleets.ExitPartial,
				Err: errors.New("partly applied"), Hint: "fix what failed and apply again"},
		}}
}

func TestFleetsGoldens(t *testing.T) {
	tests := []struct {
		name, reason string
		report       func() *fleets.Report
	}{
		{"plan", "a plan run: changes, none, a failed spec and a fleet not changed since the ref", planRun},
		{"drift", "a drift run: one fleet drifted, one clean", driftRun},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var txt, md, js bytes.Buffer
			rep := tc.report()
			if err := FleetsText(&txt, rep, TextOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := FleetsMarkdown(&md, rep, MarkdownOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := FleetsJSON(&js, rep); err != nil {
				t.Fatal(err)
			}
			goldenFile(t, "fleets-text-"+tc.name, txt.Bytes())
			goldenFile(t, "fleets-md-"+tc.name, md.Bytes())
			goldenFile(t, "fleets-json-"+tc.name, js.Bytes())
		})
	}
	var sum bytes.Buffer
	if err := FleetsSummary(&sum, applyRun(), TextOptions{}); err != nil {
		t.Fatal(err)
	}
	goldenFile(t, "fleets-text-apply-summary", sum.Bytes())
	var ev bytes.Buffer
	rep := applyRun()
	for _, r := range rep.Fleets {
		if err := FleetStartedJSON(&ev, r.Fleet, r.Dir, planTime); err != nil {
			t.Fatal(err)
		}
		if err := FleetDoneJSON(&ev, r, planTime.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if err := FleetsDoneJSON(&ev, rep, planTime.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	goldenFile(t, "fleets-apply-events", ev.Bytes())
}

// TestFleetsFacts checks what the goldens show, so that a wrong golden cannot be blessed by -update.
func TestFleetsFacts(t *testing.T) {
	render := func(f func(*bytes.Buffer) error) string {
		var b bytes.Buffer
		if err := f(&b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	text := render(func(b *bytes.Buffer) error { return FleetsText(b, planRun(), TextOptions{}) })
	md := render(func(b *bytes.Buffer) error { return FleetsMarkdown(b, planRun(), MarkdownOptions{}) })
	driftMD := render(func(b *bytes.Buffer) error { return FleetsMarkdown(b, driftRun(), MarkdownOptions{}) })
	tests := []struct {
		reason string
		out    string
		want   []string
		not    []string
	}{
		{"each fleet that ran has a heading and its own plan", text,
			[]string{"=== fleet studio · fleets/studio\ndeskfleet plan · fleet studio", "=== fleet course-101 · fleets/course\n", "No changes. The live fleet matches the spec."}, nil},
		{"a fleet not changed since the ref is not planned, and the table says why", text,
			[]string{"unchanged  old", "no file changed since origin/main: not run"}, []string{"=== fleet old"}},
		{"a failed fleet shows its error, diagnostics and hint in its section", text,
			[]string{"error: the spec has 1 errors", "  fleets/broken/fleet.yaml:3:1: unknown key \"bogus\" · hint: remove it"}, nil},
		{"the table ends with the run's exit, the worst of the fleets'", text,
			[]string{"deskfleet plan · 4 fleets in fleets · 3 changed since origin/main", "exit 1 (error): the worst of the fleets' exits"}, nil},
		{"Markdown: a heading with the exit, a table, a section per fleet with its own marker, and the run's marker", md,
			[]string{"## deskfleet plan · 4 fleets: exit 1 (error)", "| `studio` | `fleets/studio` | changes |", "### deskfleet · studio:", "<!-- deskfleet-plan:studio -->", "<!-- deskfleet-plan:course-101 -->", "<!-- deskfleet-fleets:plan -->\n"},
			[]string{"<!-- deskfleet-plan:old -->"}},
		{"Markdown: a failed fleet's section says so, with its diagnostics", md,
			[]string{"### deskfleet · broken: error", "**Error**:", "- fleets/broken/fleet.yaml:3:1: unknown key"}, nil},
		{"Markdown of a drift run holds each fleet's drift report, and names the bases not run", driftMD,
			[]string{"_Bases other fleets extend (not run): fleets/base._", "## deskfleet drift · 2 fleets: exit 6 (drift)", "<!-- deskfleet-drift:studio -->", "<!-- deskfleet-drift:course-101 -->"}, nil},
	}
	for _, tt := range tests {
		for _, w := range tt.want {
			if !strings.Contains(tt.out, w) {
				t.Errorf("%s: missing %q in\n%s", tt.reason, w, tt.out)
			}
		}
		for _, w := range tt.not {
			if strings.Contains(tt.out, w) {
				t.Errorf("%s: unexpected %q", tt.reason, w)
			}
		}
	}
}

// TestFleetsMarkdownCap: each fleet's section is cut to its share, so the comment stays near the cap.
func TestFleetsMarkdownCap(t *testing.T) {
	rep := &fleets.Report{Command: fleets.CommandPlan, Root: "fleets", Exit: fleets.ExitChanges}
	for i := range 6 {
		p := bigPlan()
		p.Fleet = strings.Repeat("f", i+1)
		rep.Fleets = append(rep.Fleets, &fleets.Result{Dir: "fleets/" + p.Fleet, Fleet: p.Fleet, Plan: p, Exit: fleets.ExitChanges})
	}
	var b bytes.Buffer
	if err := FleetsMarkdown(&b, rep, MarkdownOptions{MaxBytes: 30000}); err != nil {
		t.Fatal(err)
	}
	if b.Len() > 30000+6*600 {
		t.Errorf("six big plans under a 30,000-byte cap made %d bytes", b.Len())
	}
	if n := strings.Count(b.String(), "<!-- deskfleet-plan:"); n != 6 {
		t.Errorf("every fleet keeps its section and marker: %d of 6", n)
	}
}

// TestFleetsJSON: the run's JSON decodes to what it says, and embeds each plan in the plan's own form.
func TestFleetsJSON(t *testing.T) {
	var b bytes.Buffer
	if err := FleetsJSON(&b, planRun()); err != nil {
		t.Fatal(err)
	}
	var got struct {
		FormatVersion int    `json:"format_version"`
		Exit          int    `json:"exit"`
		Status        string `json:"status"`
		Fleets        []struct {
			Fleet, Status string
			Exit          int
			Plan          *engine.Plan
		} `json:"fleets"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	var status []string
	for _, f := range got.Fleets {
		status = append(status, f.Fleet+":"+f.Status)
	}
	if got.FormatVersion != fleets.ReportFormatVersion || got.Exit != 1 || got.Status != "error" ||
		!slices.Equal(status, []string{"broken:error", "course-101:ok", "old:unchanged", "studio:changes"}) {
		t.Fatalf("decoded %+v", got)
	}
	var plan, want bytes.Buffer
	JSON(&want, studioPlan()) //nolint:errcheck
	enc := json.NewEncoder(&plan)
	enc.SetIndent("", "  ")
	if err := enc.Encode(got.Fleets[3].Plan); err != nil || plan.String() != want.String() {
		t.Errorf("the embedded plan is not the plan's own JSON form (err %v)", err)
	}
}

// TestFleetsJSONDocumented keeps docs/fleets-json.md true: every key of the run's JSON form and of
// apply's fleet events is mentioned there in backquotes (the embedded plan and drift report have
// their own pages), and its example is FleetsJSON's output.
func TestFleetsJSONDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "fleets-json.md"))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, v := range []any{fleetsJSON{}, fleetEventJSON{}} {
		ownKeys(reflect.TypeOf(v), keys)
	}
	var missing []string
	for k := range keys {
		if !bytes.Contains(doc, []byte("`"+k+"`")) {
			missing = append(missing, k)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("docs/fleets-json.md does not mention: %s", strings.Join(missing, ", "))
	}
	var ex bytes.Buffer
	if err := FleetsJSON(&ex, docExampleRun()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, ex.Bytes()) {
		t.Errorf("docs/fleets-json.md's example is not FleetsJSON's output for docExampleRun; it should read:\n%s", ex.Bytes())
	}
}

// docExampleRun is the example of docs/fleets-json.md: a plan run with --changed-since, one fleet
// planned (the plan left out: see docs/plan-json.md), one failed, one unchanged.
func docExampleRun() *fleets.Report {
	return &fleets.Report{Command: fleets.CommandPlan, Root: "fleets", ChangedSince: "origin/main", Exit: fleets.ExitError,
		Fleets: []*fleets.Result{
			badSpecResult(),
			{Dir: "fleets/course", Fleet: "course-101", Exit: fleets.ExitChanges},
			{Dir: "fleets/old", Fleet: "old", Unchanged: true},
		}}
}

// ownKeys collects the json names of t's fields and of the structs it holds, but not of the plan and
// the drift report and the cost, which have their own pages (TestJSONDocumented,
// TestDriftJSONDocumented, TestCostJSONDocumented).
func ownKeys(t reflect.Type, keys map[string]bool) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == reflect.TypeOf(time.Time{}) {
		return
	}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		keys[name] = true
		if f.Type != reflect.TypeOf(&engine.Plan{}) && f.Type != reflect.TypeOf(&engine.DriftReport{}) &&
			f.Type != reflect.TypeOf(&engine.FleetCost{}) {
			ownKeys(f.Type, keys)
		}
	}
}

// TestFleetsProgress: an apply over many fleets, as it goes: in text each fleet's heading, its step
// table and error; in JSON the fleet events around each fleet and one fleets_done line.
func TestFleetsProgress(t *testing.T) {
	rep := applyRun()
	run := func(jsonOut bool) string {
		var b bytes.Buffer
		fp := &FleetsProgress{Progress: &Progress{W: &b, JSON: jsonOut}, Now: func() time.Time { return planTime }}
		for _, r := range rep.Fleets {
			fp.Started(&fleets.Fleet{Dir: r.Dir, Spec: &engine.Spec{Fleet: &spec.Fleet{Name: r.Fleet}}})
			fp.Done(r)
		}
		if err := fp.End(rep); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	text := run(false)
	for _, w := range []string{"=== fleet lab · fleets/lab\nerror: 1 change needs a flag", "hint: run again with --allow-delete",
		"Apply partial in 0s:", "exit 3 (partial): the worst of the fleets' exits\n"} {
		if !strings.Contains(text, w) {
			t.Errorf("text progress lacks %q:\n%s", w, text)
		}
	}
	var kinds []string
	for _, line := range strings.Split(strings.TrimSpace(run(true)), "\n") {
		var e struct{ Event, Fleet string }
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		kinds = append(kinds, e.Event+":"+e.Fleet)
	}
	want := []string{"fleet_started:course-101", "fleet_done:course-101", "fleet_started:lab", "fleet_done:lab",
		"fleet_started:studio", "fleet_done:studio", "fleets_done:"}
	if !slices.Equal(kinds, want) {
		t.Errorf("JSON events %v, want %v", kinds, want)
	}
}

// TestFleetsCostTotal: a cost run sums its fleets' months in the summary only when two or more were
// priced in one currency.
func TestFleetsCostTotal(t *testing.T) {
	fc := func(cur string, now, after float64, n int) *engine.FleetCost {
		return &engine.FleetCost{Currency: cur, Total: engine.CostRow{Now: engine.CostTotal{Month: now, Desktops: n},
			Projected: engine.CostTotal{Month: after, Desktops: n}}}
	}
	cases := []struct {
		name, reason string
		costs        []*engine.FleetCost
		want         string
	}{
		{"two fleets", "their months add up", []*engine.FleetCost{fc("CNY", 100, 150, 2), fc("CNY", 50, 25, 1)},
			"¥150.00 -> ¥175.00 a month (3 desktops)"},
		{"one fleet", "a total of one is its own row: none", []*engine.FleetCost{fc("CNY", 100, 150, 2)}, ""},
		{"two currencies", "yuan and dollars do not add up", []*engine.FleetCost{fc("CNY", 100, 150, 2), fc("USD", 5, 5, 1)}, ""},
		{"a failed fleet", "a fleet that was not priced is left out", []*engine.FleetCost{fc("CNY", 100, 150, 2), nil, fc("CNY", 1, 2, 1)},
			"¥101.00 -> ¥152.00 a month (3 desktops)"},
	}
	for _, tc := range cases {
		rep := &fleets.Report{Command: fleets.CommandCost}
		for _, c := range tc.costs {
			rep.Fleets = append(rep.Fleets, &fleets.Result{Fleet: "f", Cost: c})
		}
		got, ok := costTotal(rep)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%s: costTotal = %q, %v; want %q (%s)", tc.name, got, ok, tc.want, tc.reason)
		}
	}
}

package render

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/engine/fleets"
	"github.com/deskfleet/deskfleet/spec"
)

// A run over a fleet repository (package fleets) gets the same three forms as one fleet: FleetsText
// (each fleet's plan or drift report under a heading of its own, then a table of the fleets), and
// FleetsMarkdown and FleetsJSON (docs/fleets-json.md). Apply streams: FleetHeading before each fleet,
// FleetsSummary at the end; in JSON, FleetStartedJSON, FleetDoneJSON and FleetsDoneJSON bracket the
// fleets' NDJSON events (docs/apply-json.md).

// FleetHeading writes the line that opens a fleet's part of a run over many:
//
//	=== fleet lab · examples/two-fleets/lab
func FleetHeading(w io.Writer, name, dir string, opt TextOptions) error {
	if name == "" {
		name = "?"
	}
	_, err := fmt.Fprintf(w, "%s\n", style{opt.Color}.bold("=== fleet "+safe(name)+" · "+safe(dir)))
	return err
}

// FleetsText writes a plan or drift run: for each fleet that ran, its heading and its plan or drift
// report as Text or DriftText write it (a fleet that failed: its error, the spec's diagnostics and a
// hint), a blank line between fleets, then FleetsSummary. The only error is w's.
func FleetsText(w io.Writer, rep *fleets.Report, opt TextOptions) error {
	for _, r := range rep.Fleets {
		if r.Unchanged {
			continue
		}
		if err := FleetHeading(w, r.Fleet, r.Dir, opt); err != nil {
			return err
		}
		var err error
		switch {
		case r.Plan != nil:
			err = Text(w, r.Plan, opt)
		case r.Drift != nil:
			err = DriftText(w, r.Drift, opt)
		case r.Cost != nil:
			err = CostText(w, r.Cost, opt)
		}
		if err != nil {
			return err
		}
		if err := FleetErrorText(w, r, opt); err != nil {
			return err
		}
		if _, err := io.WriteString(w, "\n"); err != nil {
			return err
		}
	}
	return FleetsSummary(w, rep, opt)
}

// FleetErrorText writes a failed fleet's error, the spec's diagnostics and a hint, one per line, and
// nothing for a fleet without an error. The only error is w's.
func FleetErrorText(w io.Writer, r *fleets.Result, opt TextOptions) error {
	if r.Err == nil {
		return nil
	}
	_, err := io.WriteString(w, fleetErrorText(r, opt))
	return err
}

// fleetErrorText is a failed fleet's error, diagnostics and hint, one per line.
func fleetErrorText(r *fleets.Result, opt TextOptions) string {
	st := style{opt.Color}
	var b strings.Builder
	b.WriteString(st.red("error: "+safe(r.Err.Error())) + "\n")
	for _, d := range r.Diagnostics {
		b.WriteString("  " + safe(d.String()) + "\n")
	}
	if r.Hint != "" {
		b.WriteString("hint: " + safe(r.Hint) + "\n")
	}
	return b.String()
}

// FleetsSummary writes the table that ends a run over many fleets, one row per fleet (its status,
// name, folder and what it found or did), and the run's exit:
//
//	deskfleet plan · 2 fleets in examples/two-fleets
//	  changes  lab     examples/two-fleets/lab     3 to create
//	  ok       studio  examples/two-fleets/studio  no changes
//	exit 2 (changes): the worst of the fleets' exits
func FleetsSummary(w io.Writer, rep *fleets.Report, opt TextOptions) error {
	st := style{opt.Color}
	var b strings.Builder
	head := fmt.Sprintf("deskfleet %s · %s in %s", rep.Command, plural(len(rep.Fleets), "fleet", "fleets"), safe(rep.Root))
	if rep.ChangedSince != "" {
		head += fmt.Sprintf(" · %d changed since %s", ran(rep), safe(rep.ChangedSince))
	}
	b.WriteString(st.bold(head) + "\n")
	var rows [][3]string
	widths := [3]int{}
	for _, r := range rep.Fleets {
		name := r.Fleet
		if name == "" {
			name = "?"
		}
		row := [3]string{status(r), safe(name), safe(r.Dir)}
		for i, c := range row {
			widths[i] = max(widths[i], displayWidth(c))
		}
		rows = append(rows, row)
	}
	for i, row := range rows {
		r := rep.Fleets[i]
		st1 := pad(row[0], widths[0])
		if r.Exit != fleets.ExitOK && r.Exit != fleets.ExitChanges {
			st1 = st.red(st1)
		}
		fmt.Fprintf(&b, "  %s  %s  %s  %s\n", st1, pad(row[1], widths[1]), pad(row[2], widths[2]), safe(fleetWhat(rep, r)))
	}
	if len(rep.Bases) > 0 {
		fmt.Fprintf(&b, "  bases other fleets extend (not run): %s\n", safe(strings.Join(rep.Bases, ", ")))
	}
	if t, ok := costTotal(rep); ok {
		fmt.Fprintf(&b, "  all fleets: %s\n", t)
	}
	fmt.Fprintf(&b, "%s\n", st.bold(fmt.Sprintf("exit %d (%s): the worst of the fleets' exits", int(rep.Exit), rep.Exit)))
	_, err := io.WriteString(w, b.String())
	return err
}

// ran counts the fleets that ran (not skipped as unchanged).
func ran(rep *fleets.Report) int {
	n := 0
	for _, r := range rep.Fleets {
		if !r.Unchanged {
			n++
		}
	}
	return n
}

// status is a fleet's status word: its exit's name, or "unchanged".
func status(r *fleets.Result) string {
	if r.Unchanged {
		return "unchanged"
	}
	return r.Exit.String()
}

// fleetWhat says in a few words what the command found or did for the fleet.
func fleetWhat(rep *fleets.Report, r *fleets.Result) string {
	switch {
	case r.Unchanged:
		return "no file changed since " + rep.ChangedSince + ": not run"
	case r.Err != nil:
		return firstLine(r.Err.Error())
	case r.Plan != nil:
		return planWhat(r.Plan)
	case r.Drift != nil:
		return driftWhat(r.Drift)
	case r.Cost != nil:
		return costWhat(r.Cost.Currency, r.Cost.Total)
	case r.Applied != nil && r.Applied.Result != nil:
		res := r.Applied.Result
		return fmt.Sprintf("applied: %d of %s done", len(res.With(engine.StepDone)), plural(len(res.Steps), "step", "steps"))
	}
	return "no changes"
}

func planWhat(p *engine.Plan) string {
	what := counts(p, "").phrase()
	if what == "" {
		what = "no changes"
	}
	if len(p.Errors) > 0 {
		what += ", " + plural(len(p.Errors), "error", "errors")
	}
	if mc := p.Monthly; mc != nil && mc.Fleet.Projected.Month != mc.Fleet.Now.Month {
		what += fmt.Sprintf("; month %s -> %s", money(mc.Currency, mc.Fleet.Now.Month, false), money(mc.Currency, mc.Fleet.Projected.Month, false))
	}
	return what
}

// costWhat is a fleet's month now and projected: "¥16,549.10 -> ¥19,213.67 a month (3 desktops)".
func costWhat(cur string, t engine.CostRow) string {
	return fmt.Sprintf("%s -> %s a month (%s)", money(cur, t.Now.Month, false), money(cur, t.Projected.Month, false),
		plural(t.Projected.Desktops, "desktop", "desktops"))
}

// costTotal is the month of every fleet a cost run priced, summed, when there are two or more and
// they share a currency.
func costTotal(rep *fleets.Report) (string, bool) {
	var sum engine.CostRow
	cur, n := "", 0
	for _, r := range rep.Fleets {
		if r.Cost == nil {
			continue
		}
		if n > 0 && r.Cost.Currency != cur {
			return "", false
		}
		cur, n = r.Cost.Currency, n+1
		sum.Now.Month += r.Cost.Total.Now.Month
		sum.Projected.Month += r.Cost.Total.Projected.Month
		sum.Projected.Desktops += r.Cost.Total.Projected.Desktops
	}
	if n < 2 {
		return "", false
	}
	return costWhat(cur, sum), true
}

func driftWhat(d *engine.DriftReport) string {
	var found []string
	if n := len(d.Items); n > 0 {
		found = append(found, plural(n, "drifted value", "drifted values"))
	}
	if n := len(d.Expiring); n > 0 {
		found = append(found, fmt.Sprintf("%d expiring", n))
	}
	if n := len(d.InError); n > 0 {
		found = append(found, fmt.Sprintf("%d in error", n))
	}
	if len(found) == 0 {
		return "no drift"
	}
	return strings.Join(found, ", ")
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// FleetsMarkdown writes a plan or drift run as one pull-request comment (or issue body): a heading
// with the run's exit, a table of the fleets, then a section per fleet that ran (its plan or drift
// report as Markdown or DriftMarkdown write it, each with its own marker; a failed fleet's error,
// diagnostics and hint), and last the hidden marker `<!-- deskfleet-fleets:COMMAND -->`. Each
// fleet's section gets an equal share of MarkdownOptions.MaxBytes (at least 4,000 bytes), within
// which it cuts itself as it would alone. The only error is w's.
func FleetsMarkdown(w io.Writer, rep *fleets.Report, opt MarkdownOptions) error {
	limit := opt.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## deskfleet %s · %s: exit %d (%s)\n\n", rep.Command, plural(len(rep.Fleets), "fleet", "fleets"), int(rep.Exit), rep.Exit)
	if rep.ChangedSince != "" {
		fmt.Fprintf(&b, "_%d of %d changed since %s; the others are not run._\n\n", ran(rep), len(rep.Fleets), code(rep.ChangedSince))
	}
	b.WriteString("| fleet | folder | status | |\n|---|---|---|---|\n")
	for _, r := range rep.Fleets {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mdValue(r.Fleet), mdValue(r.Dir), status(r), mdEscape(fleetWhat(rep, r)))
	}
	if len(rep.Bases) > 0 {
		fmt.Fprintf(&b, "\n_Bases other fleets extend (not run): %s._\n", mdEscape(strings.Join(rep.Bases, ", ")))
	}
	if t, ok := costTotal(rep); ok {
		fmt.Fprintf(&b, "\n**All fleets**: %s\n", mdEscape(t))
	}
	share := max(4000, (limit-b.Len())/max(1, ran(rep)))
	for _, r := range rep.Fleets {
		if r.Unchanged {
			continue
		}
		b.WriteString("\n")
		var err error
		switch {
		case r.Plan != nil:
			err = Markdown(&b, r.Plan, MarkdownOptions{MaxBytes: share})
		case r.Drift != nil:
			err = DriftMarkdown(&b, r.Drift, MarkdownOptions{MaxBytes: share})
		case r.Cost != nil:
			err = CostMarkdown(&b, r.Cost)
		default:
			fmt.Fprintf(&b, "### deskfleet · %s: %s\n", mdEscape(r.Fleet), r.Exit)
		}
		if err != nil {
			return err
		}
		if r.Err != nil {
			b.WriteString(fleetErrorMarkdown(r))
		}
	}
	fmt.Fprintf(&b, "<!-- deskfleet-fleets:%s -->\n", rep.Command)
	_, err := io.WriteString(w, b.String())
	return err
}

// fleetErrorMarkdown is a failed fleet's error, diagnostics (a list) and hint.
func fleetErrorMarkdown(r *fleets.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n**Error**: %s\n", mdEscape(r.Err.Error()))
	for _, d := range r.Diagnostics {
		fmt.Fprintf(&b, "- %s\n", mdEscape(d.String()))
	}
	if r.Hint != "" {
		fmt.Fprintf(&b, "\n_hint_: %s\n", mdEscape(r.Hint))
	}
	return b.String()
}

// fleetsJSON is a run's JSON form (docs/fleets-json.md).
type fleetsJSON struct {
	FormatVersion int         `json:"format_version"`
	Command       string      `json:"command"`
	Root          string      `json:"root"`
	ChangedSince  string      `json:"changed_since,omitempty"`
	Exit          int         `json:"exit"`
	Status        string      `json:"status"`
	Fleets        []fleetJSON `json:"fleets"`
	Bases         []string    `json:"bases,omitempty"`
}

// fleetJSON is one fleet's part of a run.
type fleetJSON struct {
	Dir         string              `json:"dir"`
	Fleet       string              `json:"fleet,omitempty"`
	Status      string              `json:"status"`
	Exit        int                 `json:"exit"`
	Error       string              `json:"error,omitempty"`
	Hint        string              `json:"hint,omitempty"`
	Diagnostics []diagnosticJSON    `json:"diagnostics,omitempty"`
	Plan        *engine.Plan        `json:"plan,omitempty"`
	Drift       *engine.DriftReport `json:"drift,omitempty"`
	Apply       *applyJSON          `json:"apply,omitempty"`
	Cost        *engine.FleetCost   `json:"cost,omitempty"`
}

// diagnosticJSON is one problem of a fleet's spec.
type diagnosticJSON struct {
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Col      int    `json:"col,omitempty"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	Hint     string `json:"hint,omitempty"`
}

// applyJSON is what an apply executed: its run's id, outcome and the steps by how they ended.
type applyJSON struct {
	RunID       string `json:"run_id"`
	Outcome     string `json:"outcome"`
	Done        int    `json:"done"`
	Partial     int    `json:"partial"`
	Failed      int    `json:"failed"`
	Skipped     int    `json:"skipped"`
	Unknown     int    `json:"unknown"`
	Interrupted int    `json:"interrupted"`
}

// FleetsJSON writes a run as indented JSON (two spaces) and a newline, versioned by its
// format_version (fleets.ReportFormatVersion): the run's exit and status, and the list of fleets,
// each with its status and exit, and its plan (as `deskfleet plan --format json` writes it) or drift
// report (as `deskfleet drift --format json`), or its error. The only error is w's.
func FleetsJSON(w io.Writer, rep *fleets.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(reportJSON(rep))
}

func reportJSON(rep *fleets.Report) fleetsJSON {
	j := fleetsJSON{FormatVersion: fleets.ReportFormatVersion, Command: string(rep.Command), Root: rep.Root,
		ChangedSince: rep.ChangedSince, Exit: int(rep.Exit), Status: rep.Exit.String(), Fleets: []fleetJSON{}, Bases: rep.Bases}
	for _, r := range rep.Fleets {
		j.Fleets = append(j.Fleets, resultJSON(r))
	}
	return j
}

func resultJSON(r *fleets.Result) fleetJSON {
	f := fleetJSON{Dir: r.Dir, Fleet: r.Fleet, Status: status(r), Exit: int(r.Exit), Hint: r.Hint,
		Plan: r.Plan, Drift: r.Drift, Cost: r.Cost}
	if r.Err != nil {
		f.Error = r.Err.Error()
	}
	for _, d := range r.Diagnostics {
		f.Diagnostics = append(f.Diagnostics, diagnosticJSON{File: d.Pos.File, Line: d.Pos.Line, Col: d.Pos.Col,
			Severity: severityName(d.Severity), Message: d.Message, Hint: d.Hint})
	}
	if r.Applied != nil && r.Applied.Result != nil {
		res := r.Applied.Result
		a := &applyJSON{RunID: res.RunID, Outcome: string(res.Outcome)}
		for _, s := range res.Steps {
			switch s.Status {
			case engine.StepDone:
				a.Done++
			case engine.StepPartial:
				a.Partial++
			case engine.StepFailed:
				a.Failed++
			case engine.StepSkipped:
				a.Skipped++
			case engine.StepUnknown:
				a.Unknown++
			case engine.StepInterrupted:
				a.Interrupted++
			}
		}
		f.Apply = a
	}
	return f
}

func severityName(s spec.Severity) string {
	if s == spec.Warning {
		return "warning"
	}
	return "error"
}

// fleetEventJSON is a fleet_started, fleet_done or fleets_done line of apply's NDJSON.
type fleetEventJSON struct {
	FormatVersion int         `json:"format_version"`
	Kind          string      `json:"event"`
	At            time.Time   `json:"at"`
	Dir           string      `json:"dir,omitempty"`
	Fleet         string      `json:"fleet,omitempty"`
	Status        string      `json:"status,omitempty"`
	Exit          *int        `json:"exit,omitempty"`
	Error         string      `json:"error,omitempty"`
	Hint          string      `json:"hint,omitempty"`
	Apply         *applyJSON  `json:"apply,omitempty"`
	Fleets        []fleetJSON `json:"fleets,omitempty"`
}

// The apply events of a run over many fleets (docs/apply-json.md): a fleet's own events come
// between its fleet_started and fleet_done; fleets_done ends the run.
const (
	EventFleetStarted = "fleet_started"
	EventFleetDone    = "fleet_done"
	EventFleetsDone   = "fleets_done"
)

// FleetStartedJSON writes the NDJSON line that opens a fleet's events.
func FleetStartedJSON(w io.Writer, name, dir string, at time.Time) error {
	return writeEvent(w, fleetEventJSON{Kind: EventFleetStarted, At: at, Dir: dir, Fleet: name})
}

// FleetDoneJSON writes the NDJSON line that closes a fleet's events: its status, exit, error and
// hint, and what its apply executed.
func FleetDoneJSON(w io.Writer, r *fleets.Result, at time.Time) error {
	f := resultJSON(r)
	return writeEvent(w, fleetEventJSON{Kind: EventFleetDone, At: at, Dir: r.Dir, Fleet: r.Fleet, Status: f.Status,
		Exit: &f.Exit, Error: f.Error, Hint: f.Hint, Apply: f.Apply})
}

// FleetsDoneJSON writes the NDJSON line that ends a run over many fleets: its exit and the fleets.
func FleetsDoneJSON(w io.Writer, rep *fleets.Report, at time.Time) error {
	j := reportJSON(rep)
	return writeEvent(w, fleetEventJSON{Kind: EventFleetsDone, At: at, Status: j.Status, Exit: &j.Exit, Fleets: j.Fleets})
}

func writeEvent(w io.Writer, e fleetEventJSON) error {
	e.FormatVersion, e.At = ApplyEventsFormatVersion, e.At.UTC()
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

// FleetsProgress writes an apply over many fleets as it goes, around each fleet's own progress
// (Progress): in text, each fleet's heading before it and its step table (Progress.Summary) and
// error after it, then the table of fleets (FleetsSummary); in JSON (Progress.JSON), a fleet_started
// and a fleet_done line around each fleet's events, then a fleets_done line. Its methods fit
// fleets.Runner's Before and After. Output errors surface in End.
type FleetsProgress struct {
	Progress *Progress
	// Now stamps the JSON lines (time.Now when nil).
	Now func() time.Time
}

func (fp *FleetsProgress) now() time.Time {
	if fp.Now == nil {
		return time.Now()
	}
	return fp.Now()
}

func (fp *FleetsProgress) text() TextOptions { return TextOptions{Color: fp.Progress.Terminal} }

// Started opens a fleet's part.
func (fp *FleetsProgress) Started(f *fleets.Fleet) {
	if fp.Progress.JSON {
		FleetStartedJSON(fp.Progress.W, f.Name(), f.Dir, fp.now()) //nolint:errcheck // surfaces in End
		return
	}
	FleetHeading(fp.Progress.W, f.Name(), f.Dir, fp.text()) //nolint:errcheck
}

// Done closes a fleet's part with what it did.
func (fp *FleetsProgress) Done(r *fleets.Result) {
	w := fp.Progress.W
	if fp.Progress.JSON {
		FleetDoneJSON(w, r, fp.now()) //nolint:errcheck
		return
	}
	if r.Applied != nil && r.Applied.Result != nil {
		fp.Progress.Summary(r.Applied.Result)
	}
	FleetErrorText(w, r, fp.text()) //nolint:errcheck
	fmt.Fprintln(w)
}

// End writes how the run ended.
func (fp *FleetsProgress) End(rep *fleets.Report) error {
	if fp.Progress.JSON {
		return FleetsDoneJSON(fp.Progress.W, rep, fp.now())
	}
	return FleetsSummary(fp.Progress.W, rep, fp.text())
}

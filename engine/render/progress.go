package render

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/deskfleet/deskfleet/engine"
)

// Progress writes an apply's events as they come: one line per event (prefixed with the UTC time off a
// terminal), or one JSON object per line (NDJSON) when JSON is set. The executor serialises its
// events, so Event needs no lock.
type Progress struct {
	W io.Writer
	// JSON writes NDJSON; Terminal drops the timestamps a log needs and a person at a terminal does not.
	JSON, Terminal bool
}

// ApplyEventsFormatVersion is the version of apply's NDJSON events (docs/apply-json.md), carried by
// every line as format_version. It changes when a field changes meaning or goes away; a new field or a
// new event kind leaves it as it is.
const ApplyEventsFormatVersion = 1

// eventJSON is an event as one NDJSON line.
type eventJSON struct {
	FormatVersion int              `json:"format_version"`
	Kind          engine.EventKind `json:"event"`
	At            time.Time        `json:"at"`
	Step          int              `json:"step,omitempty"`
	Action        string           `json:"action,omitempty"`
	Targets       string           `json:"targets,omitempty"`
	TaskID        string           `json:"task_id,omitempty"`
	TaskStatus    string           `json:"task_status,omitempty"`
	ElapsedMS     int64            `json:"elapsed_ms,omitempty"`
	Error         string           `json:"error,omitempty"`
	Intent        string           `json:"intent,omitempty"`
	Status        string           `json:"status,omitempty"`
	OpenCalls     int              `json:"open_calls,omitempty"`
	Throttled     int              `json:"throttled,omitempty"`
	SettledRate   float64          `json:"settled_rate,omitempty"`
}

// eventThrottled is the NDJSON event Summary writes when the API throttled the apply's requests
// (throttled answers, the rate settled at): the one summary line of the JSON form.
const eventThrottled engine.EventKind = "throttled"

var eventGlyph = map[engine.EventKind]string{
	engine.EventStepStarted: "→", engine.EventTaskPolled: "…", engine.EventStepDone: "✓",
	engine.EventStepPartial: "~", engine.EventStepFailed: "✗", engine.EventStepUnknown: "?",
	engine.EventStepInterrupted: "‖", engine.EventStepSkipped: "-", engine.EventIntentSettled: "=",
}

// Event writes one event.
func (pr *Progress) Event(e engine.Event) {
	if e.Kind == engine.EventSettleStarted {
		pr.Settling(e.OpenCalls, e.At)
		return
	}
	if pr.JSON {
		j := eventJSON{FormatVersion: ApplyEventsFormatVersion, Kind: e.Kind, At: e.At.UTC(), Step: e.Step, Action: string(e.Action), Targets: e.Targets,
			TaskID: e.TaskID, TaskStatus: string(e.TaskStatus), ElapsedMS: e.Elapsed.Milliseconds(),
			Intent: e.Intent, Status: string(e.Status)}
		if e.Err != nil {
			j.Error = e.Err.Error()
		}
		pr.writeJSON(j)
		return
	}
	pr.writeLine(e.At, eventLine(e))
}

// Settling says that apply is about to settle n calls an earlier run left open (n > 0), before the
// first of them is polled to its end: a task of the earlier run can take minutes, and its
// intent_settled event comes only then.
func (pr *Progress) Settling(n int, at time.Time) {
	if pr.JSON {
		pr.writeJSON(eventJSON{FormatVersion: ApplyEventsFormatVersion, Kind: engine.EventSettleStarted, At: at.UTC(), OpenCalls: n})
		return
	}
	calls := "calls"
	if n == 1 {
		calls = "call"
	}
	pr.writeLine(at, fmt.Sprintf("settling %d %s of an earlier run (waiting for their tasks to end)...", n, calls))
}

func (pr *Progress) writeJSON(j eventJSON) {
	if b, err := json.Marshal(j); err == nil {
		fmt.Fprintln(pr.W, string(b))
	}
}

func (pr *Progress) writeLine(at time.Time, line string) {
	if !pr.Terminal {
		line = at.UTC().Format("15:04:05") + " " + line
	}
	fmt.Fprintln(pr.W, line)
}

func eventLine(e engine.Event) string {
	if e.Kind == engine.EventIntentSettled {
		return fmt.Sprintf("settled %s from an earlier run: %s", e.Intent, e.Status)
	}
	line := fmt.Sprintf("%s %2d %s %s", eventGlyph[e.Kind], e.Step, e.Action, e.Targets)
	if el := e.Elapsed.Round(100 * time.Millisecond); el > 0 {
		line += "  " + el.String()
	}
	if e.TaskID != "" {
		line += fmt.Sprintf("  task %s %s", ShortID(e.TaskID), e.TaskStatus)
	}
	if e.Err != nil {
		line += "  " + e.Err.Error()
	}
	return line
}

// Summary writes the table of an apply's steps (done, failed with the API's code and message, skipped
// and why) and the count line; nothing in JSON mode, whose events already say it all.
func (pr *Progress) Summary(res *engine.Result) {
	if pr.JSON {
		if th := res.Throttle; th != nil {
			pr.writeJSON(eventJSON{FormatVersion: ApplyEventsFormatVersion, Kind: eventThrottled, At: time.Now().UTC(),
				Throttled: th.Throttled, SettledRate: th.SettledRate})
		}
		return
	}
	fmt.Fprintf(pr.W, "\nApply %s in %s:\n", res.Outcome, res.Elapsed.Round(100*time.Millisecond))
	counts := map[engine.StepStatus]int{}
	for _, s := range res.Steps {
		counts[s.Status]++
		fmt.Fprintln(pr.W, stepResultLine(s))
	}
	fmt.Fprintf(pr.W, "%d done, %d partial, %d failed, %d skipped, %d unknown, %d interrupted.\n",
		counts[engine.StepDone], counts[engine.StepPartial], counts[engine.StepFailed], counts[engine.StepSkipped],
		counts[engine.StepUnknown], counts[engine.StepInterrupted])
	if l := throttleLine(res.Throttle); l != "" {
		fmt.Fprintln(pr.W, l)
	}
}

func stepResultLine(s engine.StepResult) string {
	line := fmt.Sprintf("  %-11s %2d %s %s", s.Status, s.Step, s.Action, s.Targets)
	switch {
	case s.Code != "":
		line += fmt.Sprintf("  (%s %s)", s.Code, s.Message)
	case s.Err != nil && s.Status != engine.StepDone:
		line += "  (" + s.Err.Error() + ")"
	}
	if len(s.Failed) > 0 {
		line += "  failed: " + strings.Join(s.Failed, ", ")
	}
	if len(s.SkippedFor) > 0 {
		line += fmt.Sprintf("  after failed step %v", s.SkippedFor)
	}
	return line
}

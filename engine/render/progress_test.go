package render

import (
	"bufio"
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
	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/state"
)

// progressEvents is one event of each kind, every field set somewhere.
func progressEvents() []engine.Event {
	at := time.Date(2026, 12, 6, 18, 10, 30, 0, time.UTC)
	step := func(k engine.EventKind) engine.Event {
		return engine.Event{Kind: k, At: at, Step: 3, Action: provider.Action("CreateVm"), Targets: "review",
			TaskID: "383947f1-594b-48ab-ad89-188d192d1993", Elapsed: 1764 * time.Millisecond}
	}
	var evs []engine.Event
	for k := range eventGlyph {
		e := step(k)
		switch k {
		case engine.EventTaskPolled:
			e.TaskStatus = provider.TaskStatus("Completed")
		case engine.EventStepFailed, engine.EventStepSkipped, engine.EventStepUnknown, engine.EventStepPartial:
			e.Err = errors.New("boom")
		case engine.EventIntentSettled:
			e.Intent, e.Status = "20261206T180950Z-3f9a2c/2", state.IntentDone
		}
		evs = append(evs, e)
	}
	slices.SortFunc(evs, func(a, b engine.Event) int { return strings.Compare(string(a.Kind), string(b.Kind)) })
	return evs
}

// TestProgressJSONVersioned: every NDJSON line, the engine's events and settle_started alike, is one
// object whose first key is format_version, ApplyEventsFormatVersion.
func TestProgressJSONVersioned(t *testing.T) {
	var b bytes.Buffer
	pr := &Progress{W: &b, JSON: true}
	pr.Settling(2, time.Date(2026, 12, 6, 18, 10, 2, 0, time.UTC))
	for _, e := range progressEvents() {
		pr.Event(e)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != len(eventGlyph)+1 {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(eventGlyph)+1, b.String())
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, `{"format_version":1,"event":`) {
			t.Errorf("line does not start with format_version 1: %s", l)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Errorf("not one JSON object: %s: %v", l, err)
		}
	}
	if !strings.Contains(lines[0], `"event":"settle_started"`) || !strings.Contains(lines[0], `"open_calls":2`) {
		t.Errorf("first line is not settle_started with open_calls 2: %s", lines[0])
	}
}

// TestProgressSettlingText: the text form says how many calls are being settled, before the wait.
func TestProgressSettlingText(t *testing.T) {
	at := time.Date(2026, 12, 6, 18, 10, 2, 0, time.UTC)
	for _, tc := range []struct {
		reason   string
		n        int
		terminal bool
		want     string
	}{
		{"one call, singular, timestamped off a terminal", 1, false,
			"18:10:02 settling 1 call of an earlier run (waiting for their tasks to end)...\n"},
		{"several calls, at a terminal: no timestamp", 3, true,
			"settling 3 calls of an earlier run (waiting for their tasks to end)...\n"},
	} {
		var b bytes.Buffer
		(&Progress{W: &b, Terminal: tc.terminal}).Settling(tc.n, at)
		if b.String() != tc.want {
			t.Errorf("%s: got %q, want %q", tc.reason, b.String(), tc.want)
		}
	}
}

// TestApplyJSONDocumented keeps docs/apply-json.md true: it names every key and every event kind,
// and each line of its example is an event of the current format_version.
func TestApplyJSONDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "apply-json.md"))
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	ty := reflect.TypeOf(eventJSON{})
	for i := range ty.NumField() {
		name, _, _ := strings.Cut(ty.Field(i).Tag.Get("json"), ",")
		if !bytes.Contains(doc, []byte("`"+name+"`")) {
			missing = append(missing, "key "+name)
		}
	}
	kinds := []engine.EventKind{engine.EventSettleStarted, eventThrottled}
	for k := range eventGlyph {
		kinds = append(kinds, k)
	}
	for _, k := range kinds {
		if !bytes.Contains(doc, []byte("`"+string(k)+"`")) {
			missing = append(missing, "event "+string(k))
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("docs/apply-json.md does not mention: %s", strings.Join(missing, ", "))
	}
	_, example, ok := bytes.Cut(doc, []byte("## Example"))
	if !ok {
		t.Fatal("docs/apply-json.md has no Example section")
	}
	sc := bufio.NewScanner(bytes.NewReader(example))
	n := 0
	for sc.Scan() {
		l := sc.Text()
		if !strings.HasPrefix(l, "{") {
			continue
		}
		n++
		var e eventJSON
		dec := json.NewDecoder(strings.NewReader(l))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			t.Errorf("example line is not an event: %s: %v", l, err)
		} else if e.FormatVersion != ApplyEventsFormatVersion {
			t.Errorf("example line has format_version %d, want %d: %s", e.FormatVersion, ApplyEventsFormatVersion, l)
		}
	}
	if n == 0 {
		t.Error("docs/apply-json.md's example has no event")
	}
}

// TestProgressSummaryThrottle: an apply whose requests the API throttled says so, with the rate the
// client settled at, in text (after the count line) and in NDJSON (one throttled event); an apply
// that was never throttled says nothing of it.
func TestProgressSummaryThrottle(t *testing.T) {
	res := func(th *engine.Throttle) *engine.Result {
		return &engine.Result{Outcome: engine.OutcomeDone, Elapsed: 414 * time.Second, Throttle: th, Steps: []engine.StepResult{
			{Step: 1, Action: "CreateVm", Targets: "cad, cad_001 and 48 more", Status: engine.StepDone}}}
	}
	for _, tc := range []struct {
		name, reason string
		json         bool
		th           *engine.Throttle
	}{
		{"progress-summary-throttled", "text: a line after the counts says how often and the settled rate", false, &engine.Throttle{Throttled: 9, SettledRate: 52.3}},
		{"progress-summary-throttled-json", "NDJSON: one throttled event with throttled and settled_rate", true, &engine.Throttle{Throttled: 9, SettledRate: 52.3}},
		{"progress-summary-fixed-rate", "a client that does not adapt (--rate below 0) says its rate does not adapt", false, &engine.Throttle{Throttled: 3}},
		{"progress-summary-unthrottled", "never throttled: no throttle line", false, nil},
	} {
		var b bytes.Buffer
		(&Progress{W: &b, JSON: tc.json, Terminal: true}).Summary(res(tc.th))
		out := b.String()
		if tc.json {
			// The event's time is the clock's: compare the line without it.
			var m map[string]any
			if err := json.Unmarshal(b.Bytes(), &m); err != nil {
				t.Fatalf("%s: %s: not one JSON object: %v\n%s", tc.name, tc.reason, err, out)
			}
			delete(m, "at")
			out1, _ := json.Marshal(m)
			out = string(out1) + "\n"
		}
		if has := strings.Contains(out, "throttled"); has != (tc.th != nil) {
			t.Errorf("%s: %s: mentions throttling = %v:\n%s", tc.name, tc.reason, has, out)
		}
		goldenFile(t, tc.name, []byte(out))
	}
}

package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/deskfleet/deskfleet/engine"
)

func TestText(t *testing.T) {
	cases := []struct {
		name   string
		reason string
		plan   func() *engine.Plan
		opt    TextOptions
	}{
		{"text-empty", "a plan that changes nothing says so in one line", emptyPlan, TextOptions{}},
		{"text-studio", "the studio plan sketch (its golden under testdata): accounts, creates merged into one row with cost, grouped desktop changes, guards, adoption, out-of-band, unmanaged", studioPlan, TextOptions{}},
		{"text-studio-color", "colour: glyphs, diffs, guards and the summary are coloured", studioPlan, TextOptions{Color: true}},
		{"text-every-attribute", "every attribute the planner writes, wide (CJK) and over-long names, diffs that read well and badly, wrapping at the width", everyAttributePlan, TextOptions{Width: 100}},
		{"text-narrow", "a narrow terminal wraps long values at their separators", studioPlan, TextOptions{Width: 60}},
		{"text-problems", "errors and warnings with file:line:col and hints", problemsPlan, TextOptions{}},
		{"text-errors-only", "a plan with errors and nothing else does not claim the fleet matches", errorsOnlyPlan, TextOptions{}},
		{"text-guards", "plan-wide guards come first and name the flag", guardsPlan, TextOptions{}},
		{"text-throttled", "the API throttled the plan's reads: the header says how often and the rate the client settled at", throttledPlan, TextOptions{}},
		{"text-big", "1000 desktops: created alike in one row, step target lists shortened, unmanaged capped", bigPlan, TextOptions{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Text(&b, tc.plan(), tc.opt); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if !tc.opt.Color && strings.Contains(out, "\x1b") {
				t.Errorf("%s: an escape byte without colour", tc.reason)
			}
			if tc.opt.Color && !strings.Contains(out, "\x1b[") {
				t.Errorf("%s: no colour with Color set", tc.reason)
			}
			if !strings.Contains(out, summaryLine(tc.plan())) {
				t.Errorf("%s: no summary line", tc.reason)
			}
			goldenFile(t, tc.name, b.Bytes())
		})
	}
}

// TestTextDeterministic renders each plan twice: map order and the clock must not show.
func TestTextDeterministic(t *testing.T) {
	for _, p := range []*engine.Plan{studioPlan(), everyAttributePlan(), bigPlan(), fullPlan()} {
		var a, b bytes.Buffer
		for range 3 {
			a.Reset()
			b.Reset()
			_ = Text(&a, p, TextOptions{Color: true})
			_ = Text(&b, p, TextOptions{Color: true})
			if a.String() != b.String() {
				t.Fatalf("plan %s renders differently twice", p.Fleet)
			}
		}
	}
}

func TestSummaryLine(t *testing.T) {
	cases := []struct {
		reason string
		plan   func() *engine.Plan
		want   string
	}{
		{"nothing to do", emptyPlan, "No changes. The live fleet matches the spec."},
		{"objects counted once under their most severe action; flags named", studioPlan,
			"Plan: 4 to create, 4 to change, 1 to rebuild, 1 to delete, 1 to adopt; 2 changes need flags to apply (--allow-delete, --allow-rebuild)."},
		{"errors only", errorsOnlyPlan, "No changes can be planned; 1 error (those objects are not planned)."},
		{"plan-wide guard", guardsPlan, "Plan: 5 to delete; 5 changes need a flag to apply (--allow-delete); the whole plan needs --force."},
	}
	for _, tc := range cases {
		if got := summaryLine(tc.plan()); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.reason, got, tc.want)
		}
	}
}

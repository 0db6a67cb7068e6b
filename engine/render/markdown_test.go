package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/deskfleet/deskfleet/engine"
)

func TestMarkdown(t *testing.T) {
	cases := []struct {
		name     string
		reason   string
		plan     func() *engine.Plan
		maxBytes int
		wantCut  bool
	}{
		{"md-empty", "no changes: the first line says so, the marker is there", emptyPlan, 0, false},
		{"md-studio", "the studio plan sketch (its golden under testdata): table, destructive first with why and who, who is affected, folded details", studioPlan, 0, false},
		{"md-every-attribute", "every attribute; out-of-band changes folded separately", everyAttributePlan, 0, false},
		{"md-problems", "errors and warnings listed before the details", problemsPlan, 0, false},
		{"md-guards", "plan-wide guards under the table; markdown-special characters escaped", guardsPlan, 0, false},
		{"md-throttled", "the API throttled the plan's reads: a line under the table says how often and the rate the client settled at", throttledPlan, 0, false},
		{"md-big-cut", "over the cap: details cut at a line, a note says how much, destructive list and marker kept", bigPlan, 12000, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			p := tc.plan()
			if err := Markdown(&b, p, MarkdownOptions{MaxBytes: tc.maxBytes}); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			limit := tc.maxBytes
			if limit == 0 {
				limit = DefaultMaxBytes
			}
			if len(out) > limit {
				t.Errorf("%s: %d bytes, over the cap of %d", tc.reason, len(out), limit)
			}
			if marker := "<!-- deskfleet-plan:" + p.Fleet + " -->\n"; !strings.HasSuffix(out, marker) {
				t.Errorf("%s: the comment does not end with the marker %q", tc.reason, marker)
			}
			if cut := strings.Contains(out, "This comment was cut"); cut != tc.wantCut {
				t.Errorf("%s: cut note present = %v, want %v", tc.reason, cut, tc.wantCut)
			}
			if strings.Contains(out, "\x1b") {
				t.Errorf("%s: an escape byte in markdown", tc.reason)
			}
			for _, c := range p.Changes {
				if isDestructive(c) && !strings.Contains(out, code(c.Name)+" ") {
					t.Errorf("%s: destructive change of %s not listed", tc.reason, c.Name)
				}
			}
			goldenFile(t, tc.name, b.Bytes())
		})
	}
}

// TestMarkdownTinyCap: when even the destructive list does not fit, it is shortened, never dropped.
func TestMarkdownTinyCap(t *testing.T) {
	var b bytes.Buffer
	if err := Markdown(&b, bigPlan(), MarkdownOptions{MaxBytes: 1200}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if len(out) > 1200 {
		t.Errorf("%d bytes, over the cap of 1200", len(out))
	}
	for _, want := range []string{"**Destructive**", "`gone-00` delete", "more destructive changes: see the JSON artifact",
		"This comment was cut", "<!-- deskfleet-plan:farm -->\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
}

// TestMarkdownCap renders the 1000-desktop plan under caps from tight to loose: the cap always holds,
// the marker is always last, and the note appears exactly when something was left out.
func TestMarkdownCap(t *testing.T) {
	var full bytes.Buffer
	if err := Markdown(&full, bigPlan(), MarkdownOptions{MaxBytes: 1 << 30}); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{3000, 5000, 20000, 40000, DefaultMaxBytes, full.Len() - 1, full.Len()} {
		var b bytes.Buffer
		if err := Markdown(&b, bigPlan(), MarkdownOptions{MaxBytes: limit}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if len(out) > limit {
			t.Errorf("cap %d: %d bytes", limit, len(out))
		}
		if !strings.HasSuffix(out, "<!-- deskfleet-plan:farm -->\n") {
			t.Errorf("cap %d: no marker at the end", limit)
		}
		if !strings.HasPrefix(out, "### deskfleet · farm: 1000 to create, 300 to change, 12 to delete\n") {
			t.Errorf("cap %d: the first line is missing or changed:\n%.200s", limit, out)
		}
		if cut := strings.Contains(out, "This comment was cut"); cut != (limit < full.Len()) {
			t.Errorf("cap %d (whole is %d): cut note = %v", limit, full.Len(), cut)
		}
	}
}

func TestMarkdownEscape(t *testing.T) {
	cases := []struct {
		reason, in, want string
	}{
		{"table pipe", "a|b", `a\|b`},
		{"html", "<b>x</b>", `\<b>x\</b>`},
		{"backtick and emphasis", "`x`*_", "\\`x\\`\\*\\_"},
		{"line break", "a\nb", `a\\nb`},
		{"unicode kept", "渲染-01", "渲染-01"},
	}
	for _, tc := range cases {
		if got := mdEscape(tc.in); got != tc.want {
			t.Errorf("%s: mdEscape(%q) = %q, want %q", tc.reason, tc.in, got, tc.want)
		}
	}
	codes := []struct {
		reason, in, want string
	}{
		{"plain", "lab-03", "`lab-03`"},
		{"backtick inside", "a`b", "``a`b``"},
		{"backtick at the edge", "`a", "`` `a ``"},
	}
	for _, tc := range codes {
		if got := code(tc.in); got != tc.want {
			t.Errorf("%s: code(%q) = %q, want %q", tc.reason, tc.in, got, tc.want)
		}
	}
}

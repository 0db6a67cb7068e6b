package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/deskfleet/deskfleet/engine"
)

// TestTargetBanner: a plan narrowed by --target or --exclude says so in text and Markdown, and its
// no-changes line speaks of the targets only; a whole plan has no banner.
func TestTargetBanner(t *testing.T) {
	cases := []struct {
		name, reason      string
		targets, excludes []string
		wantText, wantMD  string
		wantSummary       string
	}{
		{"whole", "no globs: no banner, the usual summary", nil, nil, "", "", "No changes. The live fleet matches the spec"},
		{"target", "a target", []string{"render*"}, nil,
			"Targeted plan: only what matches --target 'render*'; the rest of the fleet was not planned",
			"> **Targeted plan**: only what matches --target `render*`; the rest of the fleet was not planned.",
			"No changes to the targeted objects"},
		{"exclude", "an exclude alone narrows too", nil, []string{"a", "b"},
			"Targeted plan: leaving out what matches --exclude 'a', 'b'",
			"> **Targeted plan**: leaving out what matches --exclude `a`, `b`", "No changes to the targeted objects"},
		{"escaped", "a glob is shown through safe", []string{"x\x1b[31m"}, nil, `--target 'x\x1b[31m'`, "", ""},
	}
	for _, c := range cases {
		p := &engine.Plan{FormatVersion: engine.FormatVersion, Fleet: "lab", Changes: []engine.Change{}, Steps: []engine.Step{},
			Targets: c.targets, Excludes: c.excludes}
		var txt, md bytes.Buffer
		if err := Text(&txt, p, TextOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := Markdown(&md, p, MarkdownOptions{}); err != nil {
			t.Fatal(err)
		}
		banner := strings.Contains(txt.String(), "Targeted plan") || strings.Contains(md.String(), "Targeted plan")
		if c.wantText == "" && banner {
			t.Errorf("%s: %s: a whole plan has no banner:\n%s\n%s", c.name, c.reason, txt.String(), md.String())
		}
		if !strings.Contains(txt.String(), c.wantText) || !strings.Contains(txt.String(), c.wantSummary) {
			t.Errorf("%s: %s: text lacks %q or %q:\n%s", c.name, c.reason, c.wantText, c.wantSummary, txt.String())
		}
		if !strings.Contains(md.String(), c.wantMD) {
			t.Errorf("%s: %s: Markdown lacks %q:\n%s", c.name, c.reason, c.wantMD, md.String())
		}
	}
}

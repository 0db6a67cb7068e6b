package render

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/provider"
)

// Hostile values, as the spec, the account (a label or remark set in the console) or an edited plan
// file can carry them: terminal escapes (clear screen, window title, OSC 8 link, a colour), a C1 CSI,
// DEL, a right-to-left override, line breaks that forge a summary line, Markdown table and code
// breakers, invalid UTF-8, and the hidden marker of another fleet.
const (
	hostileClear  = "ws-01\x1b[2J\x1b[H"
	hostileTitle  = "lab\x1b]0;pwned\x07\x1b]8;;https://evil.example\x07click\x1b]8;;\x07"
	hostileBidi   = "cad\u202egnp.exe\u2066x\u2069"
	hostileBreak  = "eve@example.com\r\nPlan: No changes. The live fleet matches the spec."
	hostileTable  = "a|b`c``d\\|e"
	hostileMarker = "team-a <!-- deskfleet-plan:prod --> <!-- deskfleet-drift:prod -->"
	hostileC1     = "remark\u009b31m\x7f\xff\tend\u2028"
	hostileColour = "\x1b[32mgreen\x1b[0m"
)

// hostilePlan carries a hostile value in every string a plan shows.
func hostilePlan() *engine.Plan {
	p := base("studio\x1b[31m<!--x-->")
	site := engine.Site{ID: "site-1", Name: hostileBidi}
	target := engine.Target{Name: hostileClear, VmID: "vm-1"}
	p.Changes = []engine.Change{
		{Object: engine.ObjectAccount, Name: hostileBreak, Action: engine.ActionCreate, Attribute: "create", Detail: hostileC1, Steps: []int{1}},
		{Object: engine.ObjectAccount, Name: "alice@example.com", ID: "acc-1", Action: engine.ActionUpdate, Attribute: "remark", Before: hostileC1, After: hostileMarker, Steps: []int{2}},
		{Object: engine.ObjectDesktop, Name: hostileClear, Action: engine.ActionCreate, Attribute: "create", Detail: hostileTitle, Account: hostileBreak, Steps: []int{3}},
		{Object: engine.ObjectDesktop, Name: hostileTable, ID: "id\x1b[2J", Action: engine.ActionUpdate, Attribute: "label", Before: hostileMarker, After: hostileMarker + "!", Steps: []int{4}},
		{Object: engine.ObjectDesktop, Name: hostileTable, ID: "id\x1b[2J", Action: engine.ActionUpdate, Attribute: "image", Before: hostileColour, After: hostileMarker, Reason: hostileBidi, Steps: []int{4}},
		{Object: engine.ObjectDesktop, Name: hostileMarker, ID: "vm-2", Action: engine.ActionDelete, Attribute: "delete", Reason: hostileTitle, Guard: engine.GuardDelete, Account: hostileMarker, Steps: []int{5}},
		{Object: engine.ObjectDesktop, Name: hostileBidi, ID: "vm-3", Action: engine.ActionUpdate, Attribute: "power" + hostileClear, Before: hostileClear, After: hostileTable, OutOfBand: true, Account: hostileTable, Steps: []int{6}},
		{Object: engine.ObjectNetwork, Name: hostileBidi, Action: engine.ActionCreate, Attribute: "create", Detail: hostileMarker, Steps: []int{7}},
	}
	p.Steps = []engine.Step{
		{ID: 1, Op: engine.CreateSubAccounts{New: []engine.NewAccount{{Email: hostileBreak, Name: hostileTable, Remark: hostileC1}}}},
		{ID: 2, Op: engine.ChangeSubAccountRemark{Targets: []engine.AccountRef{{Email: hostileMarker, ID: "acc-1"}}, Remark: hostileMarker}},
		{ID: 3, Op: engine.LabelDesktops{Label: hostileTitle, Targets: []engine.Target{target}}, After: []int{1}},
		{ID: 4, Op: engine.PowerDesktops{Power: provider.PowerAction(hostileColour), Targets: []engine.Target{{Name: hostileTable, VmID: "vm-4"}}}},
		{ID: 5, Op: engine.DeleteDesktop{Desktop: engine.Target{Name: hostileMarker, VmID: "vm-2"}}, Guard: engine.GuardDelete},
		{ID: 6, Op: engine.BindAccounts{Account: engine.AccountRef{Email: hostileBreak}, Targets: []engine.Target{target}}},
		{ID: 7, Op: engine.CreateDefaultNet{Site: site}},
		{ID: 8, Op: engine.RenameDesktop{Desktop: target, From: hostileMarker}},
	}
	p.Errors = []engine.Problem{{Object: engine.ObjectDesktop, Name: hostileClear, Pos: "fleet.yaml\x1b[2J:3:5", Message: hostileBreak, Hint: hostileMarker}}
	p.Warnings = []engine.Problem{{Object: engine.ObjectAccount, Name: hostileTable, Message: hostileBidi, Hint: hostileC1}}
	p.Guards = []engine.GuardFinding{{Guard: engine.Guard("mass_delete" + hostileClear), Message: hostileMarker}}
	p.Unmanaged = []string{hostileClear, hostileBidi, hostileMarker, hostileBreak}
	p.Cost = &engine.Cost{Currency: "X|\x1b[2J", RunRateDelta: 1.5, Prepaid: 10,
		Lines: []engine.CostLine{{What: hostileTitle, Prepaid: 10, Steps: []int{3}}, {What: hostileMarker, PerHour: 1.5}}}
	return p
}

// ourSGR are the colour sequences the text plan writes itself (style.go).
var ourSGR = regexp.MustCompile("\x1b\\[(0|1|2|31|32|33|36)m")

// unsafeIn returns the first character of out that safe would escape (other than the line breaks
// out is made of), or "" when there is none.
func unsafeIn(out string) string {
	for i := 0; i < len(out); {
		r, size := utf8.DecodeRuneInString(out[i:])
		if r != '\n' && unsafeRune(r, size) {
			return out[i : i+size]
		}
		i += size
	}
	return ""
}

// TestHostileText: no value of a plan reaches the terminal as a control character, a bidirectional
// control or a byte that is not UTF-8, in colour or not; each is shown as its escape, and a line break
// in a value cannot start a line of its own.
func TestHostileText(t *testing.T) {
	cases := []struct {
		name   string
		reason string
		opt    TextOptions
	}{
		{"text-hostile", "without colour, the output holds no control character but its line breaks", TextOptions{}},
		{"text-hostile-color", "in colour, the only escapes are the plan's own colours", TextOptions{Color: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Text(&b, hostilePlan(), tc.opt); err != nil {
				t.Fatal(err)
			}
			out := ourSGR.ReplaceAllString(b.String(), "")
			if c := unsafeIn(out); c != "" {
				t.Errorf("%s: %q reaches the terminal:\n%s", tc.reason, c, out)
			}
			for _, line := range strings.Split(out, "\n") {
				if strings.HasPrefix(line, "Plan: No changes") {
					t.Errorf("%s: a value forged the summary line %q", tc.reason, line)
				}
			}
			for _, want := range []string{`ws-01\x1b[2J\x1b[H`, `cad\u202egnp.exe\u2066x\u2069`, `lab\x1b]0;pwned\x07`,
				`remark\u009b31m\x7f\xff\tend\u2028`, `eve@example.com\r\nPlan: No changes.`} {
				if !strings.Contains(out, want) {
					t.Errorf("%s: %q not shown as its escape", tc.reason, want)
				}
			}
			goldenFile(t, tc.name, b.Bytes())
		})
	}
}

// TestHostileMarkdown: in the pull-request comment, no value holds a control character, ends a table
// cell, starts a line, opens an HTML comment or forges the hidden marker that the CI recipes of
// examples/ci search for (GitHub's takes the first match, GitLab's the last line that matches).
func TestHostileMarkdown(t *testing.T) {
	var b bytes.Buffer
	p := hostilePlan()
	if err := Markdown(&b, p, MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if c := unsafeIn(out); c != "" {
		t.Errorf("%q is in the comment", c)
	}
	marker := "<!-- deskfleet-plan:" + markerEscape(p.Fleet) + " -->"
	if !strings.HasSuffix(out, marker+"\n") {
		t.Errorf("the comment does not end with its marker %q", marker)
	}
	if n := strings.Count(out, "<!--"); n != 1 {
		t.Errorf("%d HTML comment openers, want only the marker's", n)
	}
	github := regexp.MustCompile(`<!-- deskfleet-plan:.*? -->`) // examples/ci/github/deskfleet-plan.yml
	if got := github.FindString(out); got != marker {
		t.Errorf("the GitHub recipe finds %q, want %q", got, marker)
	}
	gitlab := regexp.MustCompile(`<!-- deskfleet-plan:.* -->`) // examples/ci/gitlab/.gitlab-ci.yml: grep -o | tail -n 1
	if got := gitlab.FindAllString(out, -1); len(got) != 1 || got[0] != marker {
		t.Errorf("the GitLab recipe finds %q, want only %q", got, marker)
	}
	cells := func(row string) int { return strings.Count(strings.ReplaceAll(row, `\|`, ""), "|") }
	inFence, header := false, 0
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "```") {
			inFence = !inFence
		}
		switch {
		case inFence:
		case strings.HasPrefix(line, "| | "):
			header = cells(line)
		case strings.HasPrefix(line, "Plan: No changes"),
			strings.HasPrefix(line, "| this plan") && cells(line) != header:
			t.Errorf("a value broke the comment's structure: %q", line)
		}
	}
	goldenFile(t, "md-hostile", b.Bytes())
}

func TestSafe(t *testing.T) {
	cases := []struct{ reason, in, want string }{
		{"plain text and wide characters are kept", "渲染-01 café", "渲染-01 café"},
		{"ESC (C0)", "a\x1b[2Jb", `a\x1b[2Jb`},
		{"line breaks and tabs", "a\r\n\tb", `a\r\n\tb`},
		{"NUL and BEL", "\x00\x07", `\x00\x07`},
		{"DEL", "a\x7f", `a\x7f`},
		{"C1 CSI", "a\u009b31m", `a\u009b31m`},
		{"right-to-left override", "cad\u202egnp.exe", `cad\u202egnp.exe`},
		{"isolates and marks", "\u2066\u2067\u2068\u2069\u200e\u200f\u061c", `\u2066\u2067\u2068\u2069\u200e\u200f\u061c`},
		{"line and paragraph separators", "a\u2028b\u2029", `a\u2028b\u2029`},
		{"invalid UTF-8", "a\xffb\xc3", `a\xffb\xc3`},
		{"comment opener", "x <!-- deskfleet-plan:prod -->", `x \x3c!-- deskfleet-plan:prod -->`},
		{"a lone < or comment closer is kept", "a<b --> <!-", "a<b --> <!-"},
	}
	for _, tc := range cases {
		if got := safe(tc.in); got != tc.want {
			t.Errorf("%s: safe(%q) = %q, want %q", tc.reason, tc.in, got, tc.want)
		}
	}
	if got := quote("a<!--b\x1b"); got != `"a\x3c!--b\x1b"` {
		t.Errorf("quote: a comment opener in a quoted value: %s", got)
	}
	if got := codeCell("a|b"); got != "`a\\|b`" {
		t.Errorf("codeCell: %s", got)
	}
}

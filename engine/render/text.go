package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/deskfleet/deskfleet/engine"
)

// TextOptions shape the text plan.
type TextOptions struct {
	// Color adds ANSI colours (glyphs, diffs, errors, guards). When false the output holds no escape
	// byte at all.
	Color bool
	// Width is the terminal width in columns: long values wrap at their " · " separators to stay
	// within it (a single piece longer than the width is not broken). Zero or less means 100.
	Width int
}

// defaultWidth is the width used when TextOptions.Width is not set.
const defaultWidth = 100

// Column caps: a longer name is put on a line of its own; a longer step call or target list pushes
// the rest of its line to the right.
const (
	nameCap   = 28
	callCap   = 34
	targetCap = 44
)

// Text writes the plan for people at a terminal, in the order they check it: the header (what was
// read), plan-wide guards, the changes per object (networks, sub-accounts, desktops), what was
// changed outside deskfleet, what is left alone, errors and warnings, the steps, the cost, and one
// summary line. Objects are shown by name, with ids shortened to the fewest characters (at least 4)
// that tell the plan's ids apart; an object's changes are listed under its name; consecutive
// desktops created alike share one row; no-op changes are not shown. Free-text values are diffed;
// every guarded change says which flag allows it. Every value from the spec, the account or the plan
// file is shown through safe: a control character, a bidirectional control or an HTML comment opener
// in a name, label, remark or message is shown as its escape (\x1b, \u202e, \x3c!--), so it can
// neither act on the terminal nor start a line. The output is deterministic and ends with a newline;
// the only error is w's.
func Text(w io.Writer, p *engine.Plan, opt TextOptions) error {
	if opt.Width <= 0 {
		opt.Width = defaultWidth
	}
	t := newTextWriter(p, style{on: opt.Color}, opt.Width)
	t.header()
	if l := throttleLine(p.Reads.Throttle); l != "" {
		t.line(t.st.yellow(l))
	}
	if b := targetBanner(p, func(g string) string { return "'" + safe(g) + "'" }); b != "" {
		t.line(t.st.yellow(b))
	}
	t.guards()
	t.changes()
	t.unmanaged()
	t.problems("Errors (these objects are not planned)", p.Errors, t.st.red)
	t.problems("Expiring (monthly terms ending soon)", p.Expiring, t.st.yellow)
	t.problems("Overrides (power held against the schedule)", p.Overrides, t.st.yellow)
	t.problems("Needs attention (not in sync; nothing is planned for these)", p.Unhealthy, t.st.red)
	t.problems("Warnings", p.Warnings, t.st.yellow)
	t.steps()
	t.cost()
	t.budget()
	t.blank()
	t.line(t.st.bold(targetedSummary(p, summaryLine(p))))
	_, err := io.WriteString(w, t.b.String())
	return err
}

// textWriter accumulates the text plan.
type textWriter struct {
	p     *engine.Plan
	st    style
	width int
	// idLen is how many characters of a desktop id are shown.
	idLen int
	b     strings.Builder
}

func newTextWriter(p *engine.Plan, st style, width int) *textWriter {
	var ids []string
	for _, c := range p.Changes {
		if c.Object == engine.ObjectDesktop && c.ID != "" {
			ids = append(ids, c.ID)
		}
	}
	return &textWriter{p: p, st: st, width: width, idLen: idLen(ids)}
}

func (t *textWriter) line(s string) {
	t.b.WriteString(strings.TrimRight(s, " "))
	t.b.WriteByte('\n')
}

func (t *textWriter) blank() { t.b.WriteByte('\n') }

// section starts a titled block, after a blank line.
func (t *textWriter) section(title string) {
	t.blank()
	t.line(t.st.bold(title))
}

// wrapped writes prefix followed by parts joined with sep; a part that would cross the width starts
// a new line instead, indented by indent columns (the separator is dropped at the break).
func (t *textWriter) wrapped(prefix string, indent int, parts []string, sep string) {
	cur := prefix
	col := displayWidth(prefix)
	for i, part := range parts {
		w := displayWidth(part)
		switch {
		case i == 0:
			cur += part
			col += w
		case col+len(sep)+w > t.width:
			t.line(cur)
			cur = strings.Repeat(" ", indent) + part
			col = indent + w
		default:
			cur += sep + part
			col += len(sep) + w
		}
	}
	t.line(cur)
}

func (t *textWriter) header() {
	r := t.p.Reads
	fleet := safe(t.p.Fleet)
	t.line(t.st.bold(fmt.Sprintf("deskfleet plan · fleet %s · read %s and %s in %s (%s, %s)", fleet,
		plural(r.Desktops, "desktop", "desktops"), plural(r.Accounts, "account", "accounts"),
		plural(r.Sites, "site", "sites"), plural(r.Calls, "API call", "API calls"), elapsed(r.Elapsed))))
}

// guards shows the plan-wide guards first, so they are not missed.
func (t *textWriter) guards() {
	if len(t.p.Guards) == 0 {
		return
	}
	t.section(t.st.red("Guards (apply refuses the whole plan without the flag)"))
	for _, g := range t.p.Guards {
		parts := []string{safe(g.Message), t.st.red("needs "+g.Guard.Flag()) + " (" + safe(string(g.Guard)) + ")"}
		t.wrapped("  "+t.st.red("!")+" ", 4, parts, " · ")
	}
}

func (t *textWriter) unmanaged() {
	u := t.p.Unmanaged
	if len(u) == 0 {
		return
	}
	const limit, head = 12, 10
	names := make([]string, 0, min(len(u), limit))
	for _, n := range u[:min(len(u), head)] {
		names = append(names, safe(n))
	}
	switch {
	case len(u) > limit:
		names = append(names, fmt.Sprintf("and %d more", len(u)-head))
	case len(u) > head:
		for _, n := range u[head:] {
			names = append(names, safe(n))
		}
	}
	t.blank()
	prefix := "Not managed (left alone): "
	t.wrapped(prefix, len(prefix), names, ", ")
}

func (t *textWriter) problems(title string, ps []engine.Problem, colour func(string) string) {
	if len(ps) == 0 {
		return
	}
	t.section(colour(title))
	for _, pr := range ps {
		t.wrapped("  ", 4, problemParts(pr), " · ")
	}
}

// problemParts is a problem as "file:line:col: name: message", then "hint: …".
func problemParts(pr engine.Problem) []string {
	msg := safe(pr.Message)
	if pr.Name != "" {
		msg = safe(pr.Name) + ": " + msg
	}
	if pr.Pos != "" {
		msg = safe(pr.Pos) + ": " + msg
	}
	parts := []string{msg}
	if pr.Hint != "" {
		parts = append(parts, "hint: "+safe(pr.Hint))
	}
	return parts
}

func (t *textWriter) steps() {
	p := t.p
	if len(p.Steps) == 0 {
		return
	}
	nt := tasks(p)
	taskWord := plural(nt, "task", "tasks")
	if nt == 0 {
		taskWord = "no task"
	}
	t.section(fmt.Sprintf("Steps (%s, %s; %s to wait for)", plural(len(p.Steps), "step", "steps"),
		plural(apiCalls(p), "API call", "API calls"), taskWord))
	idW, callW, targetW := 0, 0, 0
	for _, s := range p.Steps {
		idW = max(idW, len(fmt.Sprint(s.ID)))
		callW = max(callW, min(displayWidth(stepCall(s.Op)), callCap))
		targetW = max(targetW, min(displayWidth(stepTargets(s.Op)), targetCap))
	}
	for _, s := range p.Steps {
		var flags []string
		if len(s.After) > 0 {
			flags = append(flags, "after "+shortInts(s.After))
		}
		if s.Op != nil && s.Async() {
			flags = append(flags, "task")
		}
		if s.Guard != engine.GuardNone {
			flags = append(flags, t.st.red("guarded ("+s.Guard.Flag()+")"))
		}
		t.line(fmt.Sprintf("  %s  %s  %s  %s", padLeft(fmt.Sprint(s.ID), idW), pad(stepCall(s.Op), callW),
			pad(stepTargets(s.Op), targetW), strings.Join(flags, " · ")))
	}
}

func (t *textWriter) cost() {
	c := t.p.Cost
	if c == nil {
		return
	}
	t.section("Cost")
	prepaid := "nothing prepaid"
	if c.Prepaid != 0 {
		prepaid = "prepaid now " + money(c.Currency, c.Prepaid, false)
	}
	t.line(fmt.Sprintf("  run rate %s · %s", rate(c.Currency, c.RunRateDelta), prepaid))
	whatW := 0
	for _, l := range c.Lines {
		whatW = max(whatW, min(displayWidth(safe(l.What)), targetCap))
	}
	for _, l := range c.Lines {
		var parts []string
		if l.Prepaid != 0 {
			parts = append(parts, "prepaid "+money(c.Currency, l.Prepaid, false))
		}
		if l.PerHour != 0 {
			parts = append(parts, rate(c.Currency, l.PerHour))
		}
		t.line("    " + pad(safe(l.What), whatW) + "  " + strings.Join(parts, " · "))
	}
	if mc := t.p.Monthly; mc != nil {
		t.line(fmt.Sprintf("  projected month %s -> %s (%s)", money(mc.Currency, mc.Fleet.Now.Month, false),
			money(mc.Currency, mc.Fleet.Projected.Month, false), money(mc.Currency, mc.Fleet.Projected.Month-mc.Fleet.Now.Month, true)))
		nameW := 0
		for _, g := range mc.Groups {
			nameW = max(nameW, min(displayWidth(safe(g.Key)), targetCap))
		}
		for _, g := range mc.Groups {
			if g.Now.Month == g.Projected.Month {
				continue // the groups the plan does not change are in the JSON and the PR comment
			}
			t.line(fmt.Sprintf("    group %s  %s -> %s (%s)", pad(safe(g.Key), nameW), money(mc.Currency, g.Now.Month, false),
				money(mc.Currency, g.Projected.Month, false), money(mc.Currency, g.Projected.Month-g.Now.Month, true)))
		}
	}
	for _, sv := range t.p.ScheduleSavings {
		t.line(fmt.Sprintf("  schedule %s saves %s a month against always-on (%d desktops, %.1f h)",
			safe(sv.Schedule), money(c.Currency, sv.Saving, false), sv.Desktops, sv.Hours))
	}
}

// budget lists the spec's budgets against the projected month, now and after the plan.
func (t *textWriter) budget() {
	if len(t.p.Budget) == 0 {
		return
	}
	cur := "CNY"
	if t.p.Cost != nil && t.p.Cost.Currency != "" {
		cur = t.p.Cost.Currency
	}
	t.section("Budget (projected month)")
	for _, l := range budgetRows(t.p.Budget, cur) {
		line := "  " + l
		if strings.HasSuffix(l, "OVER") {
			line = t.st.red(line)
		}
		t.line(line)
	}
}

// budgetRows are the budget lines as text: "fleet  ¥1,200.00 -> ¥1,500.00 of ¥1,400.00  OVER".
func budgetRows(lines []engine.BudgetLine, currency string) []string {
	nameW := 0
	names := make([]string, len(lines))
	for i, l := range lines {
		names[i] = l.Scope
		if l.Name != "" {
			names[i] += " " + safe(l.Name)
		}
		nameW = max(nameW, displayWidth(names[i]))
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		verdict := "within"
		if l.Over {
			verdict = "OVER"
		}
		out[i] = fmt.Sprintf("%s  %s -> %s of %s  %s", pad(names[i], nameW), money(currency, l.Now, false),
			money(currency, l.After, false), money(currency, l.Amount, false), verdict)
	}
	return out
}

// targetBanner says that a plan narrowed by --target or --exclude is partial, naming the globs (each
// shown through quote): "" for a plan of the whole fleet. Text, Markdown (and JSON's targets and
// excludes keys) all say it, so a partial plan never reads as the whole fleet's.
func targetBanner(p *engine.Plan, quote func(string) string) string {
	return narrowedBanner("Targeted plan", "planned", p.Targets, p.Excludes, quote)
}

// narrowedBanner is the banner of a report (what: "Targeted plan") narrowed by --target or
// --exclude globs, whose rest was not done ("planned", "checked"): "" when not narrowed.
func narrowedBanner(what, done string, targets, excludes []string, quote func(string) string) string {
	if len(targets) == 0 && len(excludes) == 0 {
		return ""
	}
	list := func(flag string, globs []string) string {
		q := make([]string, len(globs))
		for i, g := range globs {
			q[i] = quote(g)
		}
		return flag + " " + strings.Join(q, ", ")
	}
	var parts []string
	if len(targets) > 0 {
		parts = append(parts, "only what matches "+list("--target", targets))
	}
	if len(excludes) > 0 {
		parts = append(parts, "leaving out what matches "+list("--exclude", excludes))
	}
	return what + ": " + strings.Join(parts, ", ") + "; the rest of the fleet was not " + done
}

// targetedSummary is the summary line of a targeted plan: "no changes" speaks only of what it planned.
func targetedSummary(p *engine.Plan, line string) string {
	if len(p.Targets) == 0 && len(p.Excludes) == 0 {
		return line
	}
	return strings.Replace(line, "No changes. The live fleet matches the spec",
		"No changes to the targeted objects. They match the spec (the rest of the fleet was not planned)", 1)
}

package render

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/deskfleet/deskfleet/engine"
)

// MarkdownOptions shape the pull-request comment.
type MarkdownOptions struct {
	// MaxBytes caps the comment's size in bytes; zero or less means DefaultMaxBytes.
	MaxBytes int
}

// DefaultMaxBytes is the default cap of a Markdown plan: under the 65,536 characters a GitHub
// comment may hold, with room for what a CI step adds around it.
const DefaultMaxBytes = 60000

// cutNoteReserve is the room kept for the note that says what was cut.
const cutNoteReserve = 400

// Markdown writes the plan as a pull-request comment, in a reviewer's order: a first line with what
// the plan does, a summary table, plan-wide guards, the destructive changes (each with why it is
// guarded and who is bound to the desktop), who is affected, errors and warnings, then, folded, the
// whole text plan and the changes made outside deskfleet, and last the hidden marker
// `<!-- deskfleet-plan:FLEET -->` that lets a CI job find and update its comment.
//
// The comment is at most MaxBytes long: when the whole rendering is longer, the folded details (then
// who is affected, warnings and errors) are cut at a line boundary and a note says how much was left
// out and that the full plan is in the JSON artifact. The first line, the table, the guards and the
// marker are never cut; the destructive list is shortened only when it alone would not fit (and then
// still shows its title and how many it left out), so the cap is exceeded only when those alone
// exceed it. Names and values are escaped so that they cannot break the Markdown: what safe escapes
// is shown as its escape, Markdown's special characters get a backslash ("|" included), names are
// code spans, and no value can hold an HTML comment opener, so none can hide text or forge the
// marker. The only error is w's.
func Markdown(w io.Writer, p *engine.Plan, opt MarkdownOptions) error {
	limit := opt.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	m := mdWriter{p: p, plain: newTextWriter(p, style{}, defaultWidth)}
	head := m.head()
	destructive := m.destructive()
	marker := "<!-- deskfleet-plan:" + markerEscape(p.Fleet) + " -->\n"
	optional := []mdBlock{m.affected(), m.problems("Errors", "these objects are not planned", p.Errors),
		m.problems("Expiring", "monthly terms ending soon", p.Expiring),
		m.problems("Overrides", "power held against the schedule", p.Overrides),
		m.problems("Needs attention", "not in sync; nothing is planned for these", p.Unhealthy),
		m.problems("Warnings", "", p.Warnings), m.monthly(), m.budget(), m.allChanges(), m.outOfBand()}

	var whole strings.Builder
	whole.WriteString(head)
	whole.WriteString(destructive.String())
	for _, b := range optional {
		whole.WriteString(b.String())
	}
	whole.WriteString(marker)
	if whole.Len() <= limit {
		_, err := io.WriteString(w, whole.String())
		return err
	}

	var out strings.Builder
	cut := cutCount{limit: limit}
	budget := limit - len(head) - len(marker) - cutNoteReserve
	out.WriteString(head)
	d := destructive.fit(budget, &cut)
	out.WriteString(d)
	budget -= len(d)
	for _, b := range optional {
		s := b.fit(budget, &cut)
		out.WriteString(s)
		budget -= len(s)
	}
	out.WriteString(cut.note())
	out.WriteString(marker)
	_, err := io.WriteString(w, out.String())
	return err
}

// mdBlock is a part of the comment that can be shortened: a head, items (lines, each ending in a
// newline) and a tail. Shortened, it keeps its head, the first items that fit, a line saying how many
// were left out, and its tail.
type mdBlock struct {
	head, tail string
	items      []string
	// more is the line that replaces the items left out ("%d" is their number).
	more string
	// keep: cut to no item, the block still shows its head and "more" line (it is never dropped).
	keep bool
}

func (b mdBlock) String() string {
	if len(b.items) == 0 {
		return ""
	}
	return b.head + strings.Join(b.items, "") + b.tail
}

// cutCount adds up what was left out of a comment capped at limit bytes.
type cutCount struct{ limit, lines, bytes int }

// note says what was cut ("" when nothing was).
func (c cutCount) note() string {
	if c.lines == 0 {
		return ""
	}
	return fmt.Sprintf("\n> [!NOTE]\n> This comment was cut to fit %s bytes: %s (%s bytes) were left out. "+
		"The full plan is in the JSON artifact (`deskfleet plan --format json`).\n\n",
		engine.GroupThousands(int64(c.limit)), plural(c.lines, "line", "lines"), engine.GroupThousands(int64(c.bytes)))
}

// fit returns the block whole when it fits in budget bytes, else shortened to fit (or "" when not even
// its head, tail and the "more" line fit, unless keep), counting what it leaves out.
func (b mdBlock) fit(budget int, cut *cutCount) string {
	whole := b.String()
	if len(whole) <= budget {
		return whole
	}
	frame := len(b.head) + len(b.tail) + len(fmt.Sprintf(b.more, len(b.items)))
	used := frame
	n := 0
	for n < len(b.items) && used+len(b.items[n]) <= budget {
		used += len(b.items[n])
		n++
	}
	if n == 0 && !b.keep {
		cut.lines += len(b.items)
		cut.bytes += len(whole)
		return ""
	}
	left := len(b.items) - n
	for _, it := range b.items[n:] {
		cut.bytes += len(it)
	}
	cut.lines += left
	return b.head + strings.Join(b.items[:n], "") + fmt.Sprintf(b.more, left) + b.tail
}

// mdWriter renders the parts of the comment.
type mdWriter struct {
	p *engine.Plan
	// plain renders values and the folded text plan without colour.
	plain *textWriter
}

// head is the first line, the summary table and the plan-wide guards.
func (m mdWriter) head() string {
	p := m.p
	var b strings.Builder
	what := counts(p, "").phrase()
	if what == "" {
		what = "no changes"
	}
	if len(p.Errors) > 0 {
		what += " · " + plural(len(p.Errors), "error", "errors")
	}
	if len(p.Unhealthy) > 0 {
		what += " · " + plural(len(p.Unhealthy), "needs attention", "need attention")
	}
	if targetBanner(p, code) != "" {
		what += " (targeted)"
	}
	fmt.Fprintf(&b, "### deskfleet · %s: %s\n\n", mdEscape(p.Fleet), what)
	if banner := targetBanner(p, code); banner != "" {
		title, rest, _ := strings.Cut(banner, ": ")
		fmt.Fprintf(&b, "> **%s**: %s.\n\n", title, rest)
	}

	cols := []string{"desktops", "accounts"}
	cells := []string{cell(counts(p, engine.ObjectDesktop).glyphs()), cell(counts(p, engine.ObjectAccount).glyphs())}
	if n := counts(p, engine.ObjectNetwork).glyphs(); n != "" {
		cols = append(cols, "networks")
		cells = append(cells, n)
	}
	cols = append(cols, "API calls", "run rate", "prepaid")
	cells = append(cells, fmt.Sprint(apiCalls(p)))
	if c := p.Cost; c != nil {
		cells = append(cells, mdEscape(rate(c.Currency, c.RunRateDelta)), mdEscape(money(c.Currency, c.Prepaid, false)))
	} else {
		cells = append(cells, "not priced", "not priced")
	}
	fmt.Fprintf(&b, "| | %s |\n|---|%s\n| this plan | %s |\n", strings.Join(cols, " | "),
		strings.Repeat("---|", len(cols)), strings.Join(cells, " | "))
	if l := throttleLine(p.Reads.Throttle); l != "" {
		fmt.Fprintf(&b, "\n%s\n", mdEscape(l))
	}

	if len(p.Guards) > 0 {
		fmt.Fprintf(&b, "\n**Blocked**: the whole plan needs %s to apply\n", codeList(planFlags(p)))
		for _, g := range p.Guards {
			fmt.Fprintf(&b, "- %s: %s\n", mdEscape(string(g.Guard)), mdEscape(g.Message))
		}
	}
	return b.String()
}

// cell shows an empty count as "none".
func cell(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// destructive lists the changes that lose data or need a flag.
func (m mdWriter) destructive() mdBlock {
	b := mdBlock{more: "- and %d more destructive changes: see the JSON artifact\n", keep: true}
	var flags []string
	for _, c := range m.p.Changes {
		if !isDestructive(c) {
			continue
		}
		if f := c.Guard.Flag(); f != "" && !slices.Contains(flags, f) {
			flags = append(flags, f)
		}
		var parts []string
		if v := m.plain.values(c, c.OutOfBand); v != "" {
			parts = append(parts, mdEscape(v))
		}
		for _, s := range []string{c.Detail, c.Reason} {
			if s != "" {
				parts = append(parts, mdEscape(s))
			}
		}
		if c.Guard != engine.GuardNone {
			parts = append(parts, "needs "+code(c.Guard.Flag()))
		}
		if c.Account != "" {
			parts = append(parts, "bound to "+mdEscape(c.Account))
		}
		b.items = append(b.items, "- "+code(c.Name)+" "+mdEscape(string(c.Attribute))+": "+strings.Join(parts, " · ")+"\n")
	}
	slices.Sort(flags)
	b.head = "\n**Destructive**"
	if len(flags) > 0 {
		b.head += " (apply needs the flag each names: " + codeList(flags) + "; the CI recipes of examples/ci pass them " +
			"on merge only after an approving review by the configured team or a code owner, and hold these changes back otherwise)"
	}
	b.head += "\n"
	return b
}

// affected lists the accounts bound to desktops the plan changes, with those desktops.
func (m mdWriter) affected() mdBlock {
	const perAccount = 5
	type desk struct {
		name  string
		attrs []string
	}
	var order []string
	byAccount := map[string][]desk{}
	index := map[[2]string]int{} // account and desktop name -> index in byAccount[account]
	for _, c := range m.p.Changes {
		if c.Account == "" || c.Action == engine.ActionNoop || c.Object != engine.ObjectDesktop {
			continue
		}
		ds, ok := byAccount[c.Account]
		if !ok {
			order = append(order, c.Account)
		}
		k := [2]string{c.Account, c.Name}
		i, ok := index[k]
		if !ok {
			ds = append(ds, desk{name: c.Name})
			i = len(ds) - 1
			index[k] = i
		}
		if !slices.Contains(ds[i].attrs, string(c.Attribute)) {
			ds[i].attrs = append(ds[i].attrs, string(c.Attribute))
		}
		byAccount[c.Account] = ds
	}
	b := mdBlock{head: "\n**Who is affected** (accounts bound to desktops this plan changes)\n",
		more: "- and %d more accounts: see the JSON artifact\n"}
	for _, a := range order {
		ds := byAccount[a]
		var parts []string
		for _, d := range ds[:min(len(ds), perAccount)] {
			parts = append(parts, code(d.name)+" "+mdEscape(strings.Join(d.attrs, ", ")))
		}
		if len(ds) > perAccount {
			parts = append(parts, fmt.Sprintf("and %d more", len(ds)-perAccount))
		}
		b.items = append(b.items, "- "+mdEscape(a)+": "+strings.Join(parts, "; ")+"\n")
	}
	return b
}

func (m mdWriter) problems(title, note string, ps []engine.Problem) mdBlock {
	b := mdBlock{head: "\n**" + title + "**", more: "- and %d more: see the JSON artifact\n"}
	if note != "" {
		b.head += " (" + note + ")"
	}
	b.head += "\n"
	for _, pr := range ps {
		msg := mdEscape(pr.Message)
		if pr.Name != "" {
			msg = code(pr.Name) + ": " + msg
		}
		if pr.Pos != "" {
			msg = code(pr.Pos) + ": " + msg
		}
		if pr.Hint != "" {
			msg += " · hint: " + mdEscape(pr.Hint)
		}
		b.items = append(b.items, "- "+msg+"\n")
	}
	return b
}

// allChanges folds the whole text plan, without colour, in a fenced block.
func (m mdWriter) allChanges() mdBlock {
	if changeCount(m.p) == 0 && len(m.p.Steps) == 0 {
		return mdBlock{} // the first line says it all
	}
	var text strings.Builder
	_ = Text(&text, m.p, TextOptions{Width: defaultWidth}) // a strings.Builder does not fail
	fence := fenceFor(text.String())
	b := mdBlock{
		head: fmt.Sprintf("\n<details><summary>All changes (%d)</summary>\n\n%stext\n", changeCount(m.p), fence),
		tail: fence + "\n\n</details>\n",
		more: "… %d more lines left out (see the note below)\n",
	}
	for _, l := range strings.SplitAfter(text.String(), "\n") {
		if l != "" {
			b.items = append(b.items, l)
		}
	}
	return b
}

// outOfBand folds the changes that set back what was changed outside deskfleet.
func (m mdWriter) outOfBand() mdBlock {
	b := mdBlock{tail: "\n</details>\n", more: "- and %d more: see the JSON artifact\n"}
	for _, c := range m.p.Changes {
		if !c.OutOfBand || c.Action == engine.ActionNoop {
			continue
		}
		item := "- " + code(c.Name) + " " + mdEscape(string(c.Attribute))
		if v := m.plain.values(c, true); v != "" {
			item += ": " + mdEscape(v)
		}
		b.items = append(b.items, item+"\n")
	}
	b.head = fmt.Sprintf("\n<details><summary>Changed outside deskfleet (%d)</summary>\n\n", len(b.items))
	return b
}

// monthly is the fleet's projected month before and after the plan, then each group's, as a table
// (the groups are cut first when the comment is long).
func (m mdWriter) monthly() mdBlock {
	mc := m.p.Monthly
	if mc == nil {
		return mdBlock{}
	}
	head := "\n**Monthly cost** (projected month: before -> after this plan)\n\n" +
		"| | Desktops | Before | After | Change |\n|---|---:|---:|---:|---:|\n" +
		monthlyRow(mc.Currency, "**fleet** "+code(mc.Fleet.Key), mc.Fleet)
	b := mdBlock{head: head, more: "| _and %d more groups: see the JSON artifact_ | | | | |\n", keep: true}
	for _, g := range mc.Groups {
		b.items = append(b.items, monthlyRow(mc.Currency, "group "+code(g.Key), g))
	}
	return b
}

// monthlyRow is one row of the monthly table: desktops, month before, after, and the change.
func monthlyRow(cur, name string, r engine.CostRow) string {
	desktops := strconv.Itoa(r.Now.Desktops)
	if r.Projected.Desktops != r.Now.Desktops {
		desktops += " -> " + strconv.Itoa(r.Projected.Desktops)
	}
	return fmt.Sprintf("| %s | %s | %s | %s | %s |\n", name, desktops, money(cur, r.Now.Month, false),
		money(cur, r.Projected.Month, false), money(cur, r.Projected.Month-r.Now.Month, true))
}

// budget lists the spec's budgets against the projected month, now and after the plan.
func (m mdWriter) budget() mdBlock {
	if len(m.p.Budget) == 0 {
		return mdBlock{}
	}
	cur := "CNY"
	if m.p.Cost != nil && m.p.Cost.Currency != "" {
		cur = m.p.Cost.Currency
	}
	b := mdBlock{head: "\n**Budget** (projected month: now -> after this plan, of the budget)\n", more: "- and %d more: see the JSON artifact\n"}
	for _, row := range budgetRows(m.p.Budget, cur) {
		b.items = append(b.items, "- `"+row+"`\n")
	}
	return b
}

package render

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/deskfleet/deskfleet/engine"
)

// Drift reports are rendered like plans: pure functions of the report and the options, deterministic,
// golden-tested. Free-text values (labels, names, remarks) and emails are quoted; words (on, off,
// per-minute) are not; an empty value shows as "none".

// DriftText writes the drift report for people at a terminal, in the order of the drift sketch (its golden under testdata): a
// header (fleet, what it manages, when), the drifted values (one line each: name, attribute, want,
// live, and a note when the spec caused it or apply cannot simply set it back), the desktops expiring
// within the window, those in error, the unmanaged and not yet adopted ones, and a last line that
// says whether drift was found (and what `deskfleet apply` does about it) or that the live fleet
// matches the spec. Only TextOptions.Color is used. The only error is w's.
func DriftText(w io.Writer, r *engine.DriftReport, opt TextOptions) error {
	st := style{on: opt.Color}
	var b strings.Builder
	line := func(s string) {
		b.WriteString(strings.TrimRight(s, " "))
		b.WriteByte('\n')
	}
	line(st.bold(driftHeader(r)))
	if b := narrowedBanner("Targeted drift check", "checked", r.Targets, r.Excludes, func(g string) string { return "'" + safe(g) + "'" }); b != "" {
		line(st.yellow(b))
	}
	if n := len(r.Items); n > 0 {
		line(st.yellow(st.bold(fmt.Sprintf("Drifted (%d)", n))))
		nameW, attrW, wantW := 0, 0, 0
		for _, it := range r.Items {
			nameW = max(nameW, min(displayWidth(safe(it.Name)), nameCap))
			attrW = max(attrW, displayWidth(safe(string(it.Attribute))))
			wantW = max(wantW, min(displayWidth(driftValue(it, it.Want)), nameCap))
		}
		for _, it := range r.Items {
			s := "  " + pad(safe(it.Name), nameW) + "  " + pad(safe(string(it.Attribute)), attrW) + "  want " +
				st.green(pad(driftValue(it, it.Want), wantW)) + "  live " + st.red(driftValue(it, it.Live))
			if note := driftNote(it); note != "" {
				s += "  " + st.dim(safe(note))
			}
			line(s)
		}
	}
	var managedErr, unmanagedErr []engine.StatusItem
	for _, s := range r.InError {
		if s.Managed {
			managedErr = append(managedErr, s)
		} else {
			unmanagedErr = append(unmanagedErr, s)
		}
	}
	list := func(title string, items []string, colour func(string) string) {
		if len(items) == 0 {
			return
		}
		head := colour(fmt.Sprintf("%s (%d)", title, len(items)))
		if len(items) == 1 {
			line(head + ": " + items[0])
			return
		}
		line(head)
		for _, it := range items {
			line("  " + it)
		}
	}
	var exp []string
	for _, e := range r.Expiring {
		exp = append(exp, safe(expiringText(e)))
	}
	list("Expiring within "+window(r.ExpiringWithin), exp, st.yellow)
	var errs []string
	for _, s := range managedErr {
		errs = append(errs, safe(fmt.Sprintf("%s (%s, status %s)", s.Name, s.Status, s.RawStatus)))
	}
	list("In error", errs, st.red)
	if len(r.Unmanaged) > 0 {
		status := map[string]string{}
		for _, s := range unmanagedErr {
			status[s.Name] = s.RawStatus
		}
		names := make([]string, 0, len(r.Unmanaged))
		for _, n := range r.Unmanaged {
			if raw, ok := status[n]; ok {
				n += " (status " + raw + ")"
			}
			names = append(names, safe(n))
		}
		line(fmt.Sprintf("Not managed (%d): %s", len(names), cappedList(names)))
	}
	if len(r.Unadopted) > 0 {
		line(fmt.Sprintf("Not adopted yet (%d): %s · `deskfleet apply` adopts them", len(r.Unadopted), cappedList(safeAll(r.Unadopted))))
	}
	if len(r.Uncreated) > 0 {
		line(fmt.Sprintf("Not created yet (%d): %s · `deskfleet apply` creates them", len(r.Uncreated), cappedList(safeAll(r.Uncreated))))
	}
	line(st.bold(driftVerdict(r)))
	_, err := io.WriteString(w, b.String())
	return err
}

// driftHeader is "deskfleet drift · fleet studio · 14 desktops, 3 accounts · 2026-11-26 09:00 UTC"
// (the counts are the managed objects).
func driftHeader(r *engine.DriftReport) string {
	return fmt.Sprintf("deskfleet drift · fleet %s · %s, %s · %s", safe(r.Fleet),
		plural(r.ManagedDesktops, "desktop", "desktops"), plural(r.ManagedAccounts, "account", "accounts"),
		r.At.UTC().Format("2006-01-02 15:04 UTC"))
}

// driftVerdict is the last line: what was found and what to do about it.
func driftVerdict(r *engine.DriftReport) string {
	switch {
	case len(r.Items) > 0:
		return "exit 6: drift found · `deskfleet apply` sets it back"
	case r.Drifted():
		return "exit 6: managed desktops need attention (expiring or in error) · renew them or check them in the console"
	case len(r.Unadopted)+len(r.Uncreated) > 0:
		return "No drift in what deskfleet manages; the spec's other desktops are not applied yet (`deskfleet plan` shows them)."
	}
	return "No drift: the live fleet matches the spec."
}

// driftValue shows a value: quoted when free text or an email, "none" when empty.
func driftValue(it engine.DriftItem, v string) string {
	switch {
	case v == "" && (it.Attribute == engine.AttrBind || it.Attribute == engine.AttrUnbind):
		return "none"
	case it.Attribute.FreeText() || it.Attribute == engine.AttrBind || it.Attribute == engine.AttrUnbind:
		return quote(v)
	}
	return safe(v)
}

// safeAll is safe of each name.
func safeAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = safe(n)
	}
	return out
}

// driftNote is what the line adds after the values: the item's note, else why it differs when the
// spec (not a change outside deskfleet) caused it.
func driftNote(it engine.DriftItem) string {
	parts := []string{}
	if it.Cause == engine.CauseSpec {
		parts = append(parts, "the spec changed since the last apply")
	}
	if it.Note != "" {
		parts = append(parts, it.Note)
	}
	return strings.Join(parts, " · ")
}

// expiringText is "lead (monthly, expires 2026-11-30, auto-renew off)".
func expiringText(e engine.ExpiringItem) string {
	var parts []string
	if !e.Managed {
		parts = append(parts, "not managed")
	}
	switch {
	case e.ExpireTime.IsZero():
		parts = append(parts, "expires within 7d (QueryExpireVms)")
	case e.Expired:
		parts = append(parts, "expired "+e.ExpireTime.UTC().Format("2006-01-02"))
	default:
		parts = append(parts, fmt.Sprintf("monthly, expires %s, in %s", e.ExpireTime.UTC().Format("2006-01-02"), plural(e.DaysLeft, "day", "days")))
	}
	if e.AutoRenew != nil {
		parts = append(parts, "auto-renew "+map[bool]string{true: "on", false: "off"}[*e.AutoRenew])
	}
	return e.Name + " (" + strings.Join(parts, ", ") + ")"
}

// window shows a duration in whole days when it is one ("7d"), else as Go does.
func window(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// cappedList joins names, showing the first ten and "and N more" when there are more than twelve.
func cappedList(names []string) string {
	const limit, head = 12, 10
	if len(names) > limit {
		return strings.Join(names[:head], ", ") + fmt.Sprintf(" and %d more", len(names)-head)
	}
	return strings.Join(names, ", ")
}

// DriftMarkdown writes the drift report as the body of an issue: a first line with what was found, a
// table of the drifted values, the expiring desktops and those in error as lists, the unmanaged and
// not yet adopted desktops folded, the verdict, and last the hidden marker
// `<!-- deskfleet-drift:FLEET -->` that lets a scheduled job find and update its issue. Names are
// escaped so that they cannot break the Markdown. The body is at most MarkdownOptions.MaxBytes
// (DefaultMaxBytes when not set): beyond it, list items are left out, with a line that says how many
// and that `deskfleet drift --format json` has them all; the first line, the verdict and the marker
// are never cut. The only error is w's.
func DriftMarkdown(w io.Writer, r *engine.DriftReport, opt MarkdownOptions) error {
	limit := opt.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	var found []string
	if n := len(r.Items); n > 0 {
		found = append(found, plural(n, "drifted value", "drifted values"))
	}
	if n := len(r.Expiring); n > 0 {
		found = append(found, fmt.Sprintf("%d expiring", n))
	}
	if n := len(r.InError); n > 0 {
		found = append(found, fmt.Sprintf("%d in error", n))
	}
	if n := len(r.Unmanaged); n > 0 {
		found = append(found, fmt.Sprintf("%d not managed", n))
	}
	title := "no drift"
	if len(found) > 0 {
		title = strings.Join(found, ", ")
	}
	head := fmt.Sprintf("### deskfleet drift · %s: %s\n\n_%s_\n", mdEscape(r.Fleet), title, mdEscape(strings.TrimPrefix(driftHeader(r), "deskfleet drift · ")))
	if b := narrowedBanner("**Targeted drift check**", "checked", r.Targets, r.Excludes, code); b != "" {
		head += "\n> " + b + ".\n"
	}
	// The verdict is fixed text whose only Markdown is the code span of the command.
	tail := "\n" + driftVerdict(r) + "\n<!-- deskfleet-drift:" + markerEscape(r.Fleet) + " -->\n"

	budget := limit - len(head) - len(tail) - cutNoteReserve
	var body strings.Builder
	left := 0
	// block writes a titled block of items, as many as the budget allows.
	block := func(start string, items []string, end string) {
		if len(items) == 0 {
			return
		}
		if len(start)+len(end) > budget {
			left += len(items)
			return
		}
		body.WriteString(start)
		budget -= len(start) + len(end)
		for i, it := range items {
			if len(it) > budget {
				left += len(items) - i
				break
			}
			body.WriteString(it)
			budget -= len(it)
		}
		body.WriteString(end)
	}
	var rows []string
	for _, it := range r.Items {
		rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s | %s |\n", codeCell(it.Name), mdEscape(string(it.Attribute)),
			mdValue(it.Want), mdValue(it.Live), mdEscape(driftNote(it))))
	}
	block("\n| object | attribute | want | live | note |\n|---|---|---|---|---|\n", rows, "")
	var exp []string
	for _, e := range r.Expiring {
		exp = append(exp, "- "+mdEscape(expiringText(e))+"\n")
	}
	block(fmt.Sprintf("\n**Expiring within %s** (%d)\n", window(r.ExpiringWithin), len(exp)), exp, "")
	var errs []string
	for _, s := range r.InError {
		m := ""
		if !s.Managed {
			m = ", not managed"
		}
		errs = append(errs, fmt.Sprintf("- %s: %s (status %s%s)\n", code(s.Name), mdEscape(string(s.Status)), mdEscape(s.RawStatus), m))
	}
	block(fmt.Sprintf("\n**In error** (%d)\n", len(errs)), errs, "")
	var un []string
	for _, n := range r.Unmanaged {
		un = append(un, "- "+code(n)+"\n")
	}
	block(fmt.Sprintf("\n<details><summary>Not managed (%d): left alone</summary>\n\n", len(un)), un, "\n</details>\n")
	var ad []string
	for _, n := range r.Unadopted {
		ad = append(ad, "- "+code(n)+"\n")
	}
	block(fmt.Sprintf("\n<details><summary>Not adopted yet (%d): the next apply adopts them</summary>\n\n", len(ad)), ad, "\n</details>\n")
	var uc []string
	for _, n := range r.Uncreated {
		uc = append(uc, "- "+code(n)+"\n")
	}
	block(fmt.Sprintf("\n<details><summary>Not created yet (%d): the next apply creates them</summary>\n\n", len(uc)), uc, "\n</details>\n")
	if left > 0 {
		body.WriteString(fmt.Sprintf("\n_%d more items left out to stay under %d bytes: `deskfleet drift --format json` lists them all._\n", left, limit))
	}
	_, err := io.WriteString(w, head+body.String()+tail)
	return err
}

// mdValue is a value as an inline code span for a table cell (shown verbatim, so not quoted),
// "_none_" when empty.
func mdValue(v string) string {
	if v == "" {
		return "_none_"
	}
	return codeCell(v)
}

// DriftJSON writes the report as indented JSON (two spaces) and a newline, versioned by its
// format_version field (engine.DriftFormatVersion). Empty lists are [], never null. The only error
// is w's.
func DriftJSON(w io.Writer, r *engine.DriftReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

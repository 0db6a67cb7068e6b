package render

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/state"
)

// StateOptions say which state is shown, and when and where it is read: a lock's description depends
// on the time (its heartbeat's age) and on the host (only a holder on this host can be checked).
type StateOptions struct {
	Location string    // the state's location as shown (a URL with its password masked)
	Now      time.Time // for the age of a lock's heartbeat
	Host     string    // this machine's host name: a holder on it whose process runs is "still running"
	// Gone reports whether a holder's process is known to have ended; nil: state.Holder.ProcessGone.
	Gone func(state.Holder) bool
}

func (o StateOptions) gone(h state.Holder) bool {
	if o.Gone != nil {
		return o.Gone(h)
	}
	return h.ProcessGone()
}

// FleetState is one fleet as the state commands show it: its record and the holder of its lock.
type FleetState = engine.FleetState

// StateList writes one line per fleet (managed desktops and accounts, serial, last apply, lock), or
// that the state holds no fleet.
func StateList(w io.Writer, fleets []FleetState, opt StateOptions) error {
	if len(fleets) == 0 {
		_, err := fmt.Fprintf(w, "No fleets in %s: nothing applied yet.\n", opt.Location)
		return err
	}
	fmt.Fprintf(w, "State %s: %s\n\n", opt.Location, plural(len(fleets), "fleet", "fleets"))
	tw := newStateTable(w)
	fmt.Fprintln(tw, "FLEET\tDESKTOPS\tACCOUNTS\tSERIAL\tLAST APPLY\tLOCK")
	for _, f := range fleets {
		rec, last := f.Record, "-"
		if n := len(rec.Runs); n > 0 {
			r := rec.Runs[n-1]
			last = fmt.Sprintf("%s %s", utcTime(r.StartedAt), r.Outcome)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\n", f.Name, len(rec.Desktops), len(rec.Accounts), rec.Serial, last,
			LockText(f.Lock, opt))
	}
	return tw.Flush()
}

// StateShow writes one fleet's record: its serial and lock, the managed desktops (by name) and
// accounts (by email) with the values last applied, and the open intents the next apply settles.
func StateShow(w io.Writer, f FleetState, opt StateOptions) error {
	fmt.Fprintf(w, "Fleet %s · serial %d · %s\n", f.Name, f.Record.Serial, opt.Location)
	fmt.Fprintf(w, "Lock: %s\n", LockText(f.Lock, opt))
	stateDesktops(w, f.Record)
	stateAccounts(w, f.Record)
	return stateIntents(w, OpenIntents(f.Record))
}

func stateDesktops(w io.Writer, rec *state.Record) {
	ids := make([]string, 0, len(rec.Desktops))
	for id := range rec.Desktops {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := rec.Desktops[ids[i]], rec.Desktops[ids[j]]
		return a.Name < b.Name || a.Name == b.Name && a.VmID < b.VmID
	})
	fmt.Fprintf(w, "\nDesktops (%d)\n", len(ids))
	if len(ids) == 0 {
		return
	}
	tw := newStateTable(w)
	fmt.Fprintln(tw, "  NAME\tVMID\tIMAGE\tPROTECT\tLABEL\tACCOUNT\tPOWER\tAPPLIED")
	for _, id := range ids {
		d := rec.Desktops[id]
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Name, d.VmID, orDash(d.ImageID), yesOrNo(d.Protect),
			lastApplied(d.Label), lastApplied(d.Account), orDash(d.Power), utcTime(d.AppliedAt))
	}
	tw.Flush()
}

func stateAccounts(w io.Writer, rec *state.Record) {
	emails := make([]string, 0, len(rec.Accounts))
	for e := range rec.Accounts {
		emails = append(emails, e)
	}
	sort.Strings(emails)
	fmt.Fprintf(w, "\nAccounts (%d)\n", len(emails))
	if len(emails) == 0 {
		return
	}
	tw := newStateTable(w)
	fmt.Fprintln(tw, "  EMAIL\tACCOUNT ID\tNAME\tREMARK")
	for _, e := range emails {
		a := rec.Accounts[e]
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", a.Email, orDash(a.AccountID), orDash(a.Name), lastApplied(a.Remark))
	}
	tw.Flush()
}

func stateIntents(w io.Writer, open []state.Intent) error {
	if len(open) == 0 {
		_, err := fmt.Fprintln(w, "\nOpen intents: none")
		return err
	}
	fmt.Fprintf(w, "\nOpen intents (%d): calls of an apply that did not finish; the next apply settles them first\n", len(open))
	tw := newStateTable(w)
	fmt.Fprintln(tw, "  ID\tACTION\tSTATUS\tTARGETS\tTASK\tREQUEST\tSTARTED")
	for _, in := range open {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", in.ID, orDash(in.Action), in.Status,
			firstItems(in.Targets, 4), orDash(in.TaskID), orDash(in.RequestID), utcTime(in.StartedAt))
	}
	return tw.Flush()
}

// OpenIntents returns rec's intents that still need settling (pending or sent), oldest first.
func OpenIntents(rec *state.Record) []state.Intent {
	var open []state.Intent
	for _, in := range rec.Intents {
		if in.Open() {
			open = append(open, in)
		}
	}
	return open
}

// StateHistory writes rec's journal: its runs, newest first, at most limit (0: all), each with who ran
// it, when, the spec's digest and commit, its outcome and that of each step.
func StateHistory(w io.Writer, rec *state.Record, limit int) error {
	runs := rec.Runs
	shown := len(runs)
	if limit > 0 && shown > limit {
		shown = limit
	}
	switch {
	case len(runs) == 0:
		_, err := fmt.Fprintf(w, "Fleet %s: no runs recorded\n", rec.Fleet)
		return err
	case shown < len(runs):
		fmt.Fprintf(w, "Fleet %s: %s, the newest %d shown (--limit 0 shows all)\n", rec.Fleet,
			plural(len(runs), "run", "runs"), shown)
	default:
		fmt.Fprintf(w, "Fleet %s: %s, newest first\n", rec.Fleet, plural(len(runs), "run", "runs"))
	}
	for i := len(runs) - 1; i >= len(runs)-shown; i-- {
		if err := historyRun(w, runs[i]); err != nil {
			return err
		}
	}
	return nil
}

func historyRun(w io.Writer, r state.Run) error {
	took := "still running or interrupted"
	if !r.EndedAt.IsZero() {
		took = r.EndedAt.Sub(r.StartedAt).Round(100 * time.Millisecond).String()
	}
	fmt.Fprintf(w, "\n%s  %s  %s@%s  %s  (%s)\n", r.ID, strings.ToUpper(orDash(r.Outcome)), r.User, r.Host,
		utcTime(r.StartedAt), took)
	if r.Command != "" {
		fmt.Fprintf(w, "  command  %s\n", r.Command)
	}
	fmt.Fprintf(w, "  spec     %s", orDash(r.SpecDigest))
	if r.GitCommit != "" {
		fmt.Fprintf(w, "  commit %s", r.GitCommit)
	}
	fmt.Fprintln(w)
	if len(r.Steps) == 0 {
		return nil
	}
	tw := newStateTable(w)
	for _, s := range r.Steps {
		line := fmt.Sprintf("  %s %d\t%s\t%s\t%s", stepMark(s.Status), s.Step, s.Action, s.Targets, s.Status)
		if s.Error != "" {
			line += ": " + s.Error
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// LockText is a lock's one-line description: "free", or its holder with its liveness.
func LockText(h *state.Holder, opt StateOptions) string {
	if h == nil {
		return "free"
	}
	return h.String() + ", " + LockLiveness(*h, opt)
}

// LockLiveness says what is known of a lock holder's process: gone (the lock is stale), still
// running (on this host), or on another host (with its last heartbeat's age when it has one).
func LockLiveness(h state.Holder, opt StateOptions) string {
	switch {
	case opt.gone(h):
		return "STALE: that process is gone (`deskfleet state unlock` clears it)"
	case h.Host == opt.Host:
		return "still running"
	case h.Heartbeat.IsZero():
		return "on another host"
	default:
		return "on another host, last heartbeat " + opt.Now.Sub(h.Heartbeat).Round(time.Second).String() + " ago"
	}
}

func newStateTable(w io.Writer) *table { return &table{w: w} }

// table lines up tab-separated cells as text/tabwriter does (minimum width 2, padding 2, blanks, no
// flags: a tab ends a cell, the text after a line's last tab is no column), but measures cells in
// terminal columns (displayWidth): tabwriter counts a Chinese name's characters as one column each,
// and the columns after it come out short. Write collects; Flush writes the table.
type table struct {
	w   io.Writer
	buf strings.Builder
}

const (
	tableMinWidth = 2
	tablePadding  = 2
)

func (t *table) Write(p []byte) (int, error) { return t.buf.Write(p) }

// Flush writes the lines written so far, aligned; a last line without a newline is written without one.
func (t *table) Flush() error {
	text := t.buf.String()
	t.buf.Reset()
	if text == "" {
		return nil
	}
	var lines [][]string
	for _, l := range strings.SplitAfter(text, "\n") {
		if l != "" {
			lines = append(lines, strings.Split(l, "\t"))
		}
	}
	var out strings.Builder
	t.format(&out, lines, nil, 0, len(lines))
	_, err := io.WriteString(t.w, out.String())
	return err
}

// format writes lines[line0:line1] given the widths of the columns to the left, as tabwriter's
// format does: a column is a block of consecutive lines that have a tab-ended cell in it.
func (t *table) format(out *strings.Builder, lines [][]string, widths []int, line0, line1 int) {
	col := len(widths)
	for this := line0; this < line1; this++ {
		if col >= len(lines[this])-1 {
			continue
		}
		t.writeLines(out, lines[line0:this], widths)
		line0 = this
		w := tableMinWidth
		for ; this < line1 && col < len(lines[this])-1; this++ {
			w = max(w, displayWidth(lines[this][col])+tablePadding)
		}
		t.format(out, lines, append(widths, w), line0, this)
		line0 = this
	}
	t.writeLines(out, lines[line0:line1], widths)
}

func (t *table) writeLines(out *strings.Builder, lines [][]string, widths []int) {
	for _, cells := range lines {
		for j, c := range cells {
			if j < len(widths) && j < len(cells)-1 {
				out.WriteString(pad(c, widths[j]))
			} else {
				out.WriteString(c)
			}
		}
	}
}

// stepMark is the glyph of a step's outcome in the journal.
func stepMark(status string) string {
	switch status {
	case "done":
		return "✓"
	case "failed":
		return "✗"
	case "partial":
		return "~"
	default:
		return "-"
	}
}

func utcTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// lastApplied shows a last-applied value that may be unmanaged (nil: "-") or empty ("").
func lastApplied(p *string) string {
	if p == nil {
		return "-"
	}
	if *p == "" {
		return `""`
	}
	return *p
}

func yesOrNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// firstItems joins at most n items, then "+K more".
func firstItems(items []string, n int) string {
	if len(items) <= n {
		return orDash(strings.Join(items, ","))
	}
	return strings.Join(items[:n], ",") + " +" + strconv.Itoa(len(items)-n) + " more"
}

// Unlocked writes the outcome of clearing fleet's lock: that it was not locked (removed nil), or whose
// lock was removed, stale (its process gone) or forced, and that its unfinished calls stay recorded.
func Unlocked(w io.Writer, fleet string, removed *state.Holder, stale bool) error {
	var err error
	switch {
	case removed == nil:
		_, err = fmt.Fprintf(w, "Fleet %s is not locked.\n", fleet)
		return err
	case stale:
		fmt.Fprintf(w, "Removed the stale lock of fleet %s held by %s: that process is gone.\n", fleet, removed)
	default:
		fmt.Fprintf(w, "Removed the lock of fleet %s held by %s (--force).\n", fleet, removed)
	}
	_, err = fmt.Fprintln(w, "Unfinished calls stay recorded: the next apply settles them first (`deskfleet state show "+fleet+"`).")
	return err
}

// Restored writes what `state restore` put back (restored, as stores.Restore returns it) in the state
// shown as location, whose file is file (for the whole file's previous generation, file.prev), and that
// what the lost generation recorded is gone.
func Restored(w io.Writer, restored []state.Restored, location, file string) error {
	var b strings.Builder
	if len(restored) > 0 && restored[0].Whole {
		fmt.Fprintf(&b, "Restored %s from its previous generation (%s.prev); the damaged file is kept beside it.\n", location, file)
	}
	for _, r := range restored {
		fmt.Fprintf(&b, "Fleet %s: restored to serial %d.\n", r.Fleet, r.Serial)
	}
	if len(restored) == 0 {
		b.WriteString("The previous generation holds no fleet.\n")
	}
	b.WriteString("What the lost generation recorded is gone: run `deskfleet plan` to see what differs.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// Migrated writes that fleet's record was copied from one store to another: what it holds, as read
// back from the target (rec), and its serial there.
func Migrated(w io.Writer, fleet string, rec *state.Record, from, to string) error {
	_, err := fmt.Fprintf(w, "Copied fleet %s (%s, %s, %s, %s) from %s to %s: serial %d there.\n", fleet,
		plural(len(rec.Desktops), "desktop", "desktops"), plural(len(rec.Accounts), "account", "accounts"),
		plural(len(rec.Runs), "run", "runs"), plural(len(OpenIntents(rec)), "unfinished call", "unfinished calls"),
		from, to, rec.Serial)
	return err
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/spec"
	"github.com/deskfleet/deskfleet/state"
)

// Flags of the state commands (apply has its own --force).
const (
	flagLimit       = "limit"
	flagUnlockForce = "force"
)

// stateCommand groups the commands that read the state file and clear its locks. None of them calls
// the API, and only `state unlock` writes.
func stateCommand() *cli.Command {
	return &cli.Command{
		Name:  "state",
		Usage: "read the state (managed desktops and accounts, the apply journal, locks); clear a stale lock",
		Description: "The state (--state: a file, default .deskfleet/state.db, or a postgres:// URL shared by a team)\n" +
			"records what deskfleet manages in each fleet, the values it last applied, the calls of unfinished\n" +
			"applies and the journal of past ones, and who holds each fleet's lock. These commands read it\n" +
			"without taking the lock; `state unlock` clears a lock left by a process that is gone, `state\n" +
			"settle` records the outcome of a call deskfleet cannot read back, `state migrate` copies fleets\n" +
			"to another store.\n\n" +
			"Exit codes: 0 done, 1 error, 4 a live lock was not removed (state unlock without --force).\n\n" +
			"Examples:\n" +
			"   deskfleet state list\n" +
			"   deskfleet state show studio\n" +
			"   deskfleet state history studio --limit 5\n" +
			"   deskfleet state unlock studio\n" +
			"   deskfleet state settle 20261126T090001Z-1a2b3c4d/7 --done\n" +
			"   deskfleet state migrate --to postgres://deskfleet@db.internal/deskfleet",
		Subcommands: []*cli.Command{
			stateListCommand(),
			stateShowCommand(),
			stateHistoryCommand(),
			stateUnlockCommand(),
			stateSettleCommand(),
			stateMigrateCommand(),
		},
	}
}

func stateListCommand() *cli.Command {
	return &cli.Command{
		Name:      "list",
		Usage:     "list the fleets in the state file, with their counts, serial and lock holder",
		UsageText: "deskfleet state list [--state FILE]",
		Description: "One line per fleet: managed desktops and accounts, the serial (one more per recorded change),\n" +
			"the last apply and who holds the lock (stale when its process is gone). A missing state file\n" +
			"lists nothing and is not created.\n\n" +
			"Examples:\n" +
			"   deskfleet state list\n" +
			"   deskfleet state list --state ci/.deskfleet/state.db\n" +
			"   deskfleet state list --state postgres://deskfleet@db.internal/deskfleet",
		Flags:  []cli.Flag{stateFileFlag()},
		Action: runStateList,
	}
}

func stateShowCommand() *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "show one fleet's managed desktops and accounts, its lock and its unfinished calls",
		UsageText: "deskfleet state show [--state FILE] FLEET",
		Description: "Managed desktops with their id, image, protect flag, and the label, bound account and power\n" +
			"deskfleet last applied (\"-\": not managed); managed sub-accounts; intents of an apply that did not\n" +
			"finish (the next apply settles them before anything else).\n\n" +
			"Examples:\n" +
			"   deskfleet state show studio\n" +
			"   deskfleet state show --state ci/.deskfleet/state.db render-farm",
		Flags:  []cli.Flag{stateFileFlag()},
		Action: runStateShow,
	}
}

func stateHistoryCommand() *cli.Command {
	return &cli.Command{
		Name:      "history",
		Usage:     "show the apply journal: who applied what, when, and how each step ended",
		UsageText: "deskfleet state history [--state FILE] [--limit N] [FLEET]",
		Description: "Runs newest first, each with its user, host, start and duration, the spec's digest and Git\n" +
			"commit, its outcome (done, partial, failed, interrupted, running, or abandoned: killed\n" +
			"or crashed, as the next apply found it) and the outcome of each step.\n" +
			"Without FLEET, every fleet's journal.\n\n" +
			"Examples:\n" +
			"   deskfleet state history studio\n" +
			"   deskfleet state history --limit 0         # every run kept (the newest 200 per fleet)",
		Flags: []cli.Flag{
			stateFileFlag(),
			&cli.IntFlag{Name: flagLimit, Aliases: []string{"n"}, Value: 20, Usage: "show the newest `N` runs per fleet (0: all)"},
		},
		Action: runStateHistory,
	}
}

func stateUnlockCommand() *cli.Command {
	return &cli.Command{
		Name:      "unlock",
		Usage:     "clear a fleet's lock left by a process that is gone (--force: any lock)",
		UsageText: "deskfleet state unlock [--state FILE] FLEET [--force]",
		Description: "Removes the fleet's lock when its holder is known to be gone: same host, process no longer\n" +
			"running (e.g. an apply killed with SIGKILL or a crashed CI runner on this machine). A lock whose\n" +
			"process still runs, or held from another host (whose process deskfleet cannot check), is removed\n" +
			"only with --force: an apply running without its lock can no longer record its progress, so make\n" +
			"sure it is stopped first. Its unfinished calls stay in the state; the next apply settles them.\n\n" +
			"Exit codes: 0 removed (or not locked), 1 error, 4 refused: the lock is live or foreign.\n\n" +
			"Examples:\n" +
			"   deskfleet state unlock studio\n" +
			"   deskfleet state unlock studio --force      # the holder on another host is known to be dead",
		Flags: []cli.Flag{
			stateFileFlag(),
			&cli.BoolFlag{Name: flagUnlockForce, Usage: "remove the lock even if its holder may still be running"},
		},
		Action: runStateUnlock,
	}
}

// positionalArgs returns c's positional arguments, at most max (max < 0: any number), after applying the command's flags
// written after them: urfave/cli stops parsing flags at the first argument, but README.md documents
// `state unlock FLEET --force`. A "--" ends flags.
func positionalArgs(c *cli.Context, max int) ([]string, error) {
	var args []string
	in := c.Args().Slice()
	for i := 0; i < len(in); i++ {
		a := in[i]
		if a == "--" {
			args = append(args, in[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			args = append(args, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f := commandFlag(c.Command, name)
		if f == nil {
			return nil, withHint(fmt.Errorf("unknown flag %s", a), "see `deskfleet "+c.Command.FullName()+" --help`")
		}
		if _, isBool := f.(*cli.BoolFlag); isBool && !hasValue {
			value = "true"
		} else if !hasValue {
			if i+1 >= len(in) {
				return nil, fmt.Errorf("flag %s needs a value", a)
			}
			i++
			value = in[i]
		}
		if err := c.Set(name, value); err != nil {
			return nil, fmt.Errorf("%s: %w", a, err)
		}
	}
	if max >= 0 && len(args) > max {
		return nil, fmt.Errorf("%s takes at most %d argument(s), got %d: %s", c.Command.FullName(), max, len(args),
			strings.Join(args, " "))
	}
	return args, nil
}

func commandFlag(cmd *cli.Command, name string) cli.Flag {
	for _, f := range cmd.Flags {
		for _, n := range f.Names() {
			if n == name {
				return f
			}
		}
	}
	return nil
}

// fleetArg is the one FLEET argument a command requires.
func fleetArg(c *cli.Context) (string, error) {
	args, err := positionalArgs(c, 1)
	if err != nil {
		return "", err
	}
	if len(args) == 0 {
		return "", withHint(errors.New("name the fleet"), "`deskfleet state list` lists the fleets")
	}
	return args[0], nil
}

func runStateList(c *cli.Context) error {
	if _, err := positionalArgs(c, 0); err != nil {
		return err
	}
	st, err := openStore(c)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx, w, path := c.Context, c.App.Writer, stateLocation(c)
	fleets, err := st.Fleets(ctx)
	if err != nil {
		return err
	}
	if len(fleets) == 0 {
		fmt.Fprintf(w, "No fleets in %s: nothing applied yet.\n", path)
		return nil
	}
	fmt.Fprintf(w, "State %s: %s\n\n", path, plural(len(fleets), "fleet"))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FLEET\tDESKTOPS\tACCOUNTS\tSERIAL\tLAST APPLY\tLOCK")
	for _, name := range fleets {
		rec, err := st.Read(ctx, name)
		if err != nil {
			return err
		}
		h, err := lockHolder(ctx, st, name)
		if err != nil {
			return err
		}
		last := "-"
		if n := len(rec.Runs); n > 0 {
			r := rec.Runs[n-1]
			last = fmt.Sprintf("%s %s", formatTime(r.StartedAt), r.Outcome)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\n", name, len(rec.Desktops), len(rec.Accounts), rec.Serial, last,
			describeLock(h, time.Now()))
	}
	return tw.Flush()
}

func runStateShow(c *cli.Context) error {
	fleet, err := fleetArg(c)
	if err != nil {
		return err
	}
	st, err := openStore(c)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx, w, path := c.Context, c.App.Writer, stateLocation(c)
	rec, err := st.Read(ctx, fleet)
	if err != nil {
		return err
	}
	h, err := lockHolder(ctx, st, fleet)
	if err != nil {
		return err
	}
	if rec.Serial == 0 && h == nil {
		return unknownFleet(c, st, fleet, path)
	}
	fmt.Fprintf(w, "Fleet %s · serial %d · %s\n", fleet, rec.Serial, path)
	fmt.Fprintf(w, "Lock: %s\n", describeLock(h, time.Now()))

	ids := make([]string, 0, len(rec.Desktops))
	for id := range rec.Desktops {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := rec.Desktops[ids[i]], rec.Desktops[ids[j]]
		return a.Name < b.Name || a.Name == b.Name && a.VmID < b.VmID
	})
	fmt.Fprintf(w, "\nDesktops (%d)\n", len(ids))
	if len(ids) > 0 {
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  NAME\tVMID\tIMAGE\tPROTECT\tLABEL\tACCOUNT\tPOWER\tAPPLIED")
		for _, id := range ids {
			d := rec.Desktops[id]
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Name, d.VmID, dash(d.ImageID), yesNo(d.Protect),
				optional(d.Label), optional(d.Account), dash(d.Power), formatTime(d.AppliedAt))
		}
		tw.Flush()
	}

	emails := make([]string, 0, len(rec.Accounts))
	for e := range rec.Accounts {
		emails = append(emails, e)
	}
	sort.Strings(emails)
	fmt.Fprintf(w, "\nAccounts (%d)\n", len(emails))
	if len(emails) > 0 {
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  EMAIL\tACCOUNT ID\tNAME\tREMARK")
		for _, e := range emails {
			a := rec.Accounts[e]
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", a.Email, dash(a.AccountID), dash(a.Name), optional(a.Remark))
		}
		tw.Flush()
	}

	var open []state.Intent
	for _, in := range rec.Intents {
		if in.Open() {
			open = append(open, in)
		}
	}
	if len(open) == 0 {
		fmt.Fprintln(w, "\nOpen intents: none")
		return nil
	}
	fmt.Fprintf(w, "\nOpen intents (%d): calls of an apply that did not finish; the next apply settles them first\n", len(open))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  ID\tACTION\tSTATUS\tTARGETS\tTASK\tREQUEST\tSTARTED")
	for _, in := range open {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", in.ID, dash(in.Action), in.Status,
			truncateList(in.Targets, 4), dash(in.TaskID), dash(in.RequestID), formatTime(in.StartedAt))
	}
	return tw.Flush()
}

func runStateHistory(c *cli.Context) error {
	args, err := positionalArgs(c, 1)
	if err != nil {
		return err
	}
	limit := c.Int(flagLimit)
	if limit < 0 {
		return fmt.Errorf("--limit %d: want 0 (all) or more", limit)
	}
	st, err := openStore(c)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx, w, path := c.Context, c.App.Writer, stateLocation(c)
	fleets := args
	if len(args) == 0 {
		if fleets, err = st.Fleets(ctx); err != nil {
			return err
		}
		if len(fleets) == 0 {
			fmt.Fprintf(w, "No fleets in %s: nothing applied yet.\n", path)
			return nil
		}
	}
	for i, fleet := range fleets {
		rec, err := st.Read(ctx, fleet)
		if err != nil {
			return err
		}
		if rec.Serial == 0 && len(args) > 0 {
			return unknownFleet(c, st, fleet, path)
		}
		if i > 0 {
			fmt.Fprintln(w)
		}
		writeHistory(w, rec, limit)
	}
	return nil
}

// writeHistory prints rec's runs, newest first, at most limit (0: all).
func writeHistory(w io.Writer, rec *state.Record, limit int) {
	runs := rec.Runs
	shown := len(runs)
	if limit > 0 && shown > limit {
		shown = limit
	}
	switch {
	case len(runs) == 0:
		fmt.Fprintf(w, "Fleet %s: no runs recorded\n", rec.Fleet)
		return
	case shown < len(runs):
		fmt.Fprintf(w, "Fleet %s: %s, the newest %d shown (--limit 0 shows all)\n", rec.Fleet, plural(len(runs), "run"), shown)
	default:
		fmt.Fprintf(w, "Fleet %s: %s, newest first\n", rec.Fleet, plural(len(runs), "run"))
	}
	for i := len(runs) - 1; i >= len(runs)-shown; i-- {
		r := runs[i]
		took := "still running or interrupted"
		if !r.EndedAt.IsZero() {
			took = r.EndedAt.Sub(r.StartedAt).Round(100 * time.Millisecond).String()
		}
		fmt.Fprintf(w, "\n%s  %s  %s@%s  %s  (%s)\n", r.ID, strings.ToUpper(dash(r.Outcome)), r.User, r.Host,
			formatTime(r.StartedAt), took)
		if r.Command != "" {
			fmt.Fprintf(w, "  command  %s\n", r.Command)
		}
		fmt.Fprintf(w, "  spec     %s", dash(r.SpecDigest))
		if r.GitCommit != "" {
			fmt.Fprintf(w, "  commit %s", r.GitCommit)
		}
		fmt.Fprintln(w)
		if len(r.Steps) == 0 {
			continue
		}
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		for _, s := range r.Steps {
			line := fmt.Sprintf("  %s %d\t%s\t%s\t%s", stepGlyph(s.Status), s.Step, s.Action, s.Targets, s.Status)
			if s.Error != "" {
				line += ": " + s.Error
			}
			fmt.Fprintln(tw, line)
		}
		tw.Flush()
	}
}

func runStateUnlock(c *cli.Context) error {
	fleet, err := fleetArg(c)
	if err != nil {
		return err
	}
	st, err := openStore(c)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx, w := c.Context, c.App.Writer
	cur, err := st.CurrentLock(ctx, fleet)
	if err != nil {
		return err
	}
	if cur == nil {
		fmt.Fprintf(w, "Fleet %s is not locked.\n", fleet)
		return nil
	}
	h := &cur.Holder
	stale := h.ProcessGone()
	if !stale && !c.Bool(flagUnlockForce) {
		return withCode(exitLockHeld, withHint(fmt.Errorf("fleet %s is locked by %s, %s; not removed",
			fleet, h, liveness(*h, time.Now())),
			"make sure that run is stopped, then `deskfleet state unlock "+fleet+" --force`"))
	}
	// Unlock removes exactly the lock looked at: if it changed hands meanwhile, nothing is removed.
	if err := st.Unlock(ctx, cur); err != nil {
		return err
	}
	if now, err := st.CurrentLock(ctx, fleet); err != nil {
		return err
	} else if now != nil && now.Token != cur.Token {
		return withCode(exitLockHeld, fmt.Errorf("fleet %s is now locked by %s, who took it after %s released it; not removed",
			fleet, now.Holder, h))
	}
	removed := h
	if stale {
		fmt.Fprintf(w, "Removed the stale lock of fleet %s held by %s: that process is gone.\n", fleet, removed)
	} else {
		fmt.Fprintf(w, "Removed the lock of fleet %s held by %s (--force).\n", fleet, removed)
	}
	fmt.Fprintln(w, "Unfinished calls stay recorded: the next apply settles them first (`deskfleet state show "+fleet+"`).")
	return nil
}

// unknownFleet is the error for a fleet with no record, naming the fleets there are.
func unknownFleet(c *cli.Context, st state.Store, fleet, path string) error {
	fleets, err := st.Fleets(c.Context)
	if err != nil {
		return err
	}
	if len(fleets) == 0 {
		return withHint(fmt.Errorf("no fleet %s in %s: it holds no fleet yet", fleet, path),
			"a fleet is recorded by its first apply; if it was applied elsewhere, point --state (or DESKFLEET_STATE) at that state")
	}
	hint := "`deskfleet state list` lists them"
	if s := spec.Suggest(fleet, fleets); s != "" {
		hint = "did you mean " + s + "?"
	}
	return withHint(fmt.Errorf("no fleet %s in %s; fleets: %s", fleet, path, strings.Join(fleets, ", ")), hint)
}

// describeLock is a lock's one-line description: "free", or its holder with its liveness.
func describeLock(h *state.Holder, now time.Time) string {
	if h == nil {
		return "free"
	}
	return h.String() + ", " + liveness(*h, now)
}

// liveness says what deskfleet knows of a holder's process.
func liveness(h state.Holder, now time.Time) string {
	switch {
	case h.ProcessGone():
		return "STALE: that process is gone (`deskfleet state unlock` clears it)"
	case h.Host == currentHolder("").Host:
		return "still running"
	case h.Heartbeat.IsZero():
		return "on another host"
	default:
		return "on another host, last heartbeat " + now.Sub(h.Heartbeat).Round(time.Second).String() + " ago"
	}
}

func stepGlyph(status string) string {
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

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// optional shows a last-applied value that may be unmanaged (nil: "-") or empty ("").
func optional(p *string) string {
	if p == nil {
		return "-"
	}
	if *p == "" {
		return `""`
	}
	return *p
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// truncateList joins at most n items, then "+K more".
func truncateList(items []string, n int) string {
	if len(items) <= n {
		return dash(strings.Join(items, ","))
	}
	return strings.Join(items[:n], ",") + " +" + strconv.Itoa(len(items)-n) + " more"
}

// lockHolder returns the holder of fleet's lock, nil when it is free.
func lockHolder(ctx context.Context, st state.Store, fleet string) (*state.Holder, error) {
	l, err := st.CurrentLock(ctx, fleet)
	if err != nil || l == nil {
		return nil, err
	}
	return &l.Holder, nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/engine/render"
	"github.com/deskfleet/deskfleet/spec"
	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/stores"
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
		Name:        "state",
		Usage:       "read the state (managed desktops and accounts, the apply journal, locks); clear a stale lock",
		Description: help("state"),
		Subcommands: []*cli.Command{
			stateListCommand(),
			stateShowCommand(),
			stateHistoryCommand(),
			stateUnlockCommand(),
			stateSettleCommand(),
			stateMigrateCommand(),
			stateRestoreCommand(),
			stateForgetCommand(),
		},
	}
}

func stateListCommand() *cli.Command {
	return &cli.Command{
		Name:        "list",
		Usage:       "list the fleets in the state file, with their counts, serial and lock holder",
		UsageText:   "deskfleet state list [--state FILE]",
		Description: help("state-list"),
		Flags:       []cli.Flag{stateFileFlag()},
		Action:      runStateList,
	}
}

func stateShowCommand() *cli.Command {
	return &cli.Command{
		Name:        "show",
		Usage:       "show one fleet's managed desktops and accounts, its lock and its unfinished calls",
		UsageText:   "deskfleet state show [--state FILE] FLEET",
		Description: help("state-show"),
		Flags:       []cli.Flag{stateFileFlag()},
		Action:      runStateShow,
	}
}

func stateHistoryCommand() *cli.Command {
	return &cli.Command{
		Name:        "history",
		Usage:       "show the apply journal: who applied what, when, and how each step ended",
		UsageText:   "deskfleet state history [--state FILE] [--limit N] [FLEET]",
		Description: help("state-history"),
		Flags: []cli.Flag{
			stateFileFlag(),
			&cli.IntFlag{Name: flagLimit, Aliases: []string{"n"}, Value: 20, Usage: "show the newest `N` runs per fleet (0: all)"},
		},
		Action: runStateHistory,
	}
}

func stateUnlockCommand() *cli.Command {
	return &cli.Command{
		Name:        "unlock",
		Usage:       "clear a fleet's lock left by a process that is gone (--force: any lock)",
		UsageText:   "deskfleet state unlock [--state FILE] FLEET [--force]",
		Description: help("state-unlock"),
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
			return nil, unknownFlag(c, a)
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

// stateView is how the state commands show the state the flags name, read now from this host.
func stateView(c *cli.Context) render.StateOptions {
	return render.StateOptions{Location: stateLocation(c), Now: time.Now(), Host: stores.CurrentHolder("").Host}
}

func runStateList(c *cli.Context) error {
	if _, err := positionalArgs(c, 0); err != nil {
		return err
	}
	sess, err := openStateSession(c)
	if err != nil {
		return err
	}
	defer sess.close()
	names, err := sess.Store.Fleets(c.Context)
	if err != nil {
		return err
	}
	fleets := make([]render.FleetState, len(names))
	for i, name := range names {
		if fleets[i], err = readFleet(c.Context, sess, name); err != nil {
			return err
		}
	}
	return render.StateList(c.App.Writer, fleets, stateView(c))
}

// readFleet reads fleet's record and the holder of its lock (nil: free).
func readFleet(ctx context.Context, sess *session, fleet string) (render.FleetState, error) {
	rec, err := sess.History(ctx, fleet)
	if err != nil {
		return render.FleetState{}, err
	}
	l, err := sess.Store.CurrentLock(ctx, fleet)
	if err != nil || l == nil {
		return render.FleetState{Name: fleet, Record: rec}, err
	}
	return render.FleetState{Name: fleet, Record: rec, Lock: &l.Holder}, nil
}

func runStateShow(c *cli.Context) error {
	fleet, err := fleetArg(c)
	if err != nil {
		return err
	}
	sess, err := openStateSession(c)
	if err != nil {
		return err
	}
	defer sess.close()
	f, err := readFleet(c.Context, sess, fleet)
	if err != nil {
		return err
	}
	if f.Record.Serial == 0 && f.Lock == nil {
		return unknownFleet(c, sess.Store, fleet, stateLocation(c))
	}
	return render.StateShow(c.App.Writer, f, stateView(c))
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
	sess, err := openStateSession(c)
	if err != nil {
		return err
	}
	defer sess.close()
	ctx, w, path := c.Context, c.App.Writer, stateLocation(c)
	fleets := args
	if len(args) == 0 {
		if fleets, err = sess.Store.Fleets(ctx); err != nil {
			return err
		}
		if len(fleets) == 0 { // the message of state list
			return render.StateList(w, nil, stateView(c))
		}
	}
	for i, fleet := range fleets {
		rec, err := sess.History(ctx, fleet)
		if err != nil {
			return err
		}
		if rec.Serial == 0 && len(args) > 0 {
			return unknownFleet(c, sess.Store, fleet, path)
		}
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := render.StateHistory(w, rec, limit); err != nil {
			return err
		}
	}
	return nil
}

func runStateUnlock(c *cli.Context) error {
	fleet, err := fleetArg(c)
	if err != nil {
		return err
	}
	sess, err := openStateSession(c)
	if err != nil {
		return err
	}
	defer sess.close()
	removed, stale, err := sess.Unlock(c.Context, fleet, c.Bool(flagUnlockForce))
	var live *engine.LiveLockError
	var taken *state.LockedError
	switch {
	case errors.As(err, &live):
		return withCode(exitLockHeld, withHint(fmt.Errorf("fleet %s is locked by %s, %s; not removed", fleet, live.Holder,
			render.LockLiveness(live.Holder, stateView(c))),
			"make sure that run is stopped, then `deskfleet state unlock "+fleet+" --force`"))
	case errors.As(err, &taken):
		return withCode(exitLockHeld, fmt.Errorf("fleet %s is now locked by %s, who took it after the lock was released; not removed",
			fleet, taken.Holder))
	case err != nil:
		return err
	}
	return render.Unlocked(c.App.Writer, fleet, removed, stale)
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

package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/engine/render"
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
			stateSubcommand("list", "list the fleets in the state file, with their counts, serial and lock holder",
				"deskfleet state list [--state FILE]", runStateList),
			stateSubcommand("show", "show one fleet's managed desktops and accounts, its lock and its unfinished calls",
				"deskfleet state show [--state FILE] FLEET", runStateShow),
			stateSubcommand("history", "show the apply journal: who applied what, when, and how each step ended",
				"deskfleet state history [--state FILE] [--limit N] [FLEET]", runStateHistory,
				&cli.IntFlag{Name: flagLimit, Aliases: []string{"n"}, Value: 20, Usage: "show the newest `N` runs per fleet (0: all)"}),
			stateSubcommand("unlock", "clear a fleet's lock left by a process that is gone (--force: any lock)",
				"deskfleet state unlock [--state FILE] FLEET [--force]", runStateUnlock,
				&cli.BoolFlag{Name: flagUnlockForce, Usage: "remove the lock even if its holder may still be running"}),
			stateSettleCommand(),
			stateMigrateCommand(),
			stateRestoreCommand(),
			stateForgetCommand(),
		},
	}
}

// stateSubcommand is `deskfleet state NAME`, described by help/state-NAME.txt, with --state
// (stateFileFlag) and then flags.
func stateSubcommand(name, usage, usageText string, action cli.ActionFunc, flags ...cli.Flag) *cli.Command {
	return &cli.Command{Name: name, Usage: usage, UsageText: usageText, Description: help("state-" + name),
		Flags: append([]cli.Flag{stateFileFlag()}, flags...), Action: action}
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
	return withStates(c, nil, func(fleets []render.FleetState) error {
		return render.StateList(c.App.Writer, fleets, stateView(c))
	})
}

func runStateShow(c *cli.Context) error {
	fleet, err := fleetArg(c)
	if err != nil {
		return err
	}
	return withStates(c, []string{fleet}, func(fleets []render.FleetState) error {
		return render.StateShow(c.App.Writer, fleets[0], stateView(c))
	})
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
	return withStates(c, args, func(fleets []render.FleetState) error {
		w := c.App.Writer
		if len(fleets) == 0 { // the message of state list
			return render.StateList(w, nil, stateView(c))
		}
		for i, f := range fleets {
			if i > 0 {
				fmt.Fprintln(w)
			}
			if err := render.StateHistory(w, f.Record, limit); err != nil {
				return err
			}
		}
		return nil
	})
}

// withStates reads the named fleets (all when none) from the state and shows them.
func withStates(c *cli.Context, names []string, show func([]render.FleetState) error) error {
	sess, err := openStateSession(c)
	if err != nil {
		return err
	}
	defer sess.close()
	fleets, err := sess.States(c.Context, names, stateLocation(c))
	if err != nil {
		return engineError(c, err)
	}
	return show(fleets)
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

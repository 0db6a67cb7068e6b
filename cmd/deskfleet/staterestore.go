package main

import (
	"errors"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine/render"
	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/stores"
)

// flagRestoreForce puts a previous generation back over state that is not damaged.
const flagRestoreForce = "force"

// stateRestoreCommand puts back the previous generation of damaged state.
func stateRestoreCommand() *cli.Command {
	return stateSubcommand("restore", "put back the previous generation of a damaged state file or record",
		"deskfleet state restore [--state LOCATION] [--force] [FLEET]", runStateRestore,
		&cli.BoolFlag{Name: flagRestoreForce, Usage: "put the previous generation back even when the state is not damaged"})
}

func runStateRestore(c *cli.Context) error {
	args, err := positionalArgs(c, 1)
	if err != nil {
		return err
	}
	fleet := ""
	if len(args) == 1 {
		fleet = args[0]
	}
	location := c.String(flagState)
	restored, err := stores.Restore(c.Context, location, fleet, stores.CurrentHolder("deskfleet state restore"),
		c.Bool(flagRestoreForce))
	if err != nil {
		return restoreError(err)
	}
	return render.Restored(c.App.Writer, restored, stateLocation(c), location)
}

// restoreError gives a held lock its exit code (4).
func restoreError(err error) error {
	var locked *state.LockedError
	if errors.As(err, &locked) {
		return withCode(exitLockHeld, withHint(err, "wait for that run to finish, or clear a stale lock with `deskfleet state unlock`"))
	}
	return err
}

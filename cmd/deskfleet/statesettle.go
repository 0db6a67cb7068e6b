package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine/render"
)

// stateSettleCommand records a person's answer about a call whose outcome deskfleet cannot read back
// (a RebuildVm or RenewalOrder whose response was lost): apply refuses to run until it is settled.
func stateSettleCommand() *cli.Command {
	return stateSubcommand("settle", "record whether a call of an interrupted apply took effect (when deskfleet cannot tell)",
		"deskfleet state settle INTENT-ID --done|--not-done", runStateSettle,
		&cli.BoolFlag{Name: "done", Usage: "the call took effect"},
		&cli.BoolFlag{Name: "not-done", Usage: "the call did not take effect"})
}

func runStateSettle(c *cli.Context) error {
	args, err := positionalArgs(c, 1)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return withHint(errors.New("name the intent to settle"), "apply printed its id: deskfleet state settle ID --done|--not-done")
	}
	if c.Bool("done") == c.Bool("not-done") {
		return errors.New("say either --done or --not-done")
	}
	sess, err := openStateSession(c)
	if err != nil {
		return err
	}
	defer sess.close()
	done := c.Bool("done")
	got, err := sess.SettleIntent(c.Context, args[0], done)
	if err != nil {
		return engineError(c, err)
	}
	fmt.Fprintf(c.App.Writer, "intent %s (%s %s) of fleet %s settled: %s\n", got.Intent.ID, got.Intent.Action,
		render.ShortList(got.Intent.Targets), got.Fleet, map[bool]string{true: "done", false: "not done"}[done])
	return nil
}

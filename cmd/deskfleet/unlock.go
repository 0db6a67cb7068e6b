package main

import (
	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine/render"
)

// unlockCommand ends a pull request's claim of a fleet (engine.Session.Release): at its close, or
// any claim with --force.
func unlockCommand() *cli.Command {
	return claimCommand("unlock", "end a pull request's claim of a fleet (at its close), or any claim with --force",
		"deskfleet unlock (--fleet NAME | -f PATH) (--pr N | --force)", runUnlock,
		&cli.BoolFlag{Name: flagForce, Usage: "end the claim whichever pull request holds it"})
}

func runUnlock(c *cli.Context) error {
	sess, fleet, err := openClaim(c)
	if err != nil {
		return err
	}
	defer sess.close()
	ended, err := sess.Release(c.Context, fleet, c.Int(flagPR), c.Bool(flagForce), c.Duration(flagLockTimeout))
	if err != nil {
		return engineError(c, err)
	}
	return render.Released(c.App.Writer, fleet, c.Int(flagPR), ended)
}

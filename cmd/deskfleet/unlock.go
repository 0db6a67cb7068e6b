package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
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
	switch {
	case err != nil:
		return engineError(c, err)
	case ended == nil && c.Int(flagPR) > 0:
		fmt.Fprintf(c.App.Writer, "fleet %s is not claimed by pull request #%d: nothing to end\n", fleet, c.Int(flagPR))
	case ended == nil:
		fmt.Fprintf(c.App.Writer, "fleet %s is not claimed: nothing to end\n", fleet)
	default:
		fmt.Fprintf(c.App.Writer, "fleet %s is no longer claimed by %s\n", fleet, ended.PR)
	}
	return nil
}

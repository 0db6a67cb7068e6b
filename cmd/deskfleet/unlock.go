package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// unlockCommand ends a pull request's claim of a fleet (engine.Session.Release): at its close, or
// by a person with --force.
func unlockCommand() *cli.Command {
	return &cli.Command{
		Name:        "unlock",
		Usage:       "end a pull request's claim of a fleet (at its close), or break any claim with --force",
		UsageText:   "deskfleet unlock (--fleet NAME | -f PATH) (--pr N | --force)",
		Description: help("unlock"),
		Flags: append([]cli.Flag{specFlag(),
			&cli.StringFlag{Name: flagFleet, Usage: "the fleet `NAME` (default: the spec's, from -f)"},
			&cli.IntFlag{Name: flagPR, Usage: "end only the claim of pull request `N`"},
			&cli.BoolFlag{Name: flagForce, Usage: "end the claim whichever pull request holds it"},
		}, stateFlags()...),
		Action: runUnlock,
	}
}

func runUnlock(c *cli.Context) error {
	fleet, err := claimedFleet(c)
	if err != nil {
		return err
	}
	sess, err := openStateSession(c)
	if err != nil {
		return err
	}
	defer sess.close()
	ended, err := sess.Release(c.Context, fleet, c.Int(flagPR), c.Bool(flagForce), c.Duration(flagLockTimeout))
	switch {
	case err != nil:
		return engineError(c, err)
	case ended == nil:
		fmt.Fprintf(c.App.Writer, "fleet %s is not claimed by %s: nothing to end\n", fleet, claimant(c.Int(flagPR)))
	default:
		fmt.Fprintf(c.App.Writer, "fleet %s is no longer claimed by %s\n", fleet, ended.PR)
	}
	return nil
}

func claimant(pr int) string {
	if pr > 0 {
		return fmt.Sprintf("pull request #%d", pr)
	}
	return "any pull request"
}

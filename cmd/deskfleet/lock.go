package main

import (
	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/engine/render"
)

// Flags of lock and unlock (and apply's --pr).
const (
	flagPR     = "pr"
	flagHead   = "head"
	flagAuthor = "author"
)

// lockCommand takes or refreshes a pull request's claim of a fleet (engine.Session.Claim).
func lockCommand() *cli.Command {
	return claimCommand("lock", "claim a fleet for a pull request, from its plan to its merge or close",
		"deskfleet lock (--fleet NAME | -f PATH) --pr N [--head SHA] [--author LOGIN]", runLock,
		&cli.StringFlag{Name: flagHead, Usage: "its head commit `SHA`"},
		&cli.StringFlag{Name: flagAuthor, Usage: "its author's `LOGIN`"})
}

// claimCommand is lock or unlock: -f or --fleet names the fleet, --pr the pull request.
func claimCommand(name, usage, usageText string, action cli.ActionFunc, flags ...cli.Flag) *cli.Command {
	return &cli.Command{Name: name, Usage: usage, UsageText: usageText, Description: help(name), Action: action,
		Flags: append(append([]cli.Flag{specFlag(),
			&cli.StringFlag{Name: flagFleet, Usage: "the fleet `NAME` (default: the spec's, from -f)"},
			&cli.IntFlag{Name: flagPR, Usage: "the pull (merge) request's number `N`"},
		}, flags...), stateFlags()...)}
}

func runLock(c *cli.Context) error {
	sess, fleet, err := openClaim(c)
	if err != nil {
		return err
	}
	defer sess.close()
	pr := engine.PullRequest{Number: c.Int(flagPR), Head: c.String(flagHead), Author: c.String(flagAuthor)}
	got, fresh, err := sess.Claim(c.Context, fleet, pr, c.Duration(flagLockTimeout))
	if err != nil {
		return engineError(c, err)
	}
	return render.Claimed(c.App.Writer, fleet, got, fresh)
}

// openClaim opens the state and names the fleet lock and unlock work on: --fleet, else the spec's
// (-f, read offline).
func openClaim(c *cli.Context) (*session, string, error) {
	fleet := c.String(flagFleet)
	if fleet == "" {
		sp, err := loadSpec(c)
		if err != nil {
			return nil, "", engineError(c, err)
		}
		fleet = sp.Fleet.Name
	}
	sess, err := openStateSession(c)
	return sess, fleet, err
}

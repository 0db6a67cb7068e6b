package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine"
)

// Flags of lock and unlock (and apply's --pr).
const (
	flagPR     = "pr"
	flagHead   = "head"
	flagAuthor = "author"
)

// lockCommand takes or refreshes a pull request's claim of a fleet (engine.Session.Claim).
func lockCommand() *cli.Command {
	return &cli.Command{
		Name:        "lock",
		Usage:       "claim a fleet for a pull request, from its plan to its merge or close",
		UsageText:   "deskfleet lock (--fleet NAME | -f PATH) --pr N [--head SHA] [--author LOGIN]",
		Description: help("lock"),
		Flags: append([]cli.Flag{specFlag(),
			&cli.StringFlag{Name: flagFleet, Usage: "the fleet `NAME` (default: the spec's, from -f)"},
			&cli.IntFlag{Name: flagPR, Usage: "the pull (merge) request's number `N` (required)"},
			&cli.StringFlag{Name: flagHead, Usage: "its head commit `SHA`"},
			&cli.StringFlag{Name: flagAuthor, Usage: "its author's `LOGIN`"},
		}, stateFlags()...),
		Action: runLock,
	}
}

func runLock(c *cli.Context) error {
	fleet, err := claimedFleet(c)
	if err != nil {
		return err
	}
	sess, err := openStateSession(c)
	if err != nil {
		return err
	}
	defer sess.close()
	pr := engine.PullRequest{Number: c.Int(flagPR), Head: c.String(flagHead), Author: c.String(flagAuthor)}
	got, fresh, err := sess.Claim(c.Context, fleet, pr, c.Duration(flagLockTimeout))
	if errors.Is(err, engine.ErrNoPullRequest) {
		return withHint(err, "--pr N, the pull request's number")
	}
	if err != nil {
		return engineError(c, err)
	}
	verb := "is claimed by"
	if !fresh {
		verb = "stays claimed by"
	}
	fmt.Fprintf(c.App.Writer, "fleet %s %s %s until it merges or closes\n", fleet, verb, got.PR)
	return nil
}

// claimedFleet is the fleet lock and unlock name: --fleet, else the spec's (-f, offline).
func claimedFleet(c *cli.Context) (string, error) {
	if f := c.String(flagFleet); f != "" {
		return f, nil
	}
	sp, err := loadSpec(c)
	if err != nil {
		return "", engineError(c, err)
	}
	return sp.Fleet.Name, nil
}

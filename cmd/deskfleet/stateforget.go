package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine"
)

// stateForgetCommand stops a fleet managing desktops or sub-accounts without touching them: the way
// to let a protected desktop go, or to move an object to another fleet of the same state.
func stateForgetCommand() *cli.Command {
	return &cli.Command{
		Name:        "forget",
		Usage:       "stop managing desktops or sub-accounts (by name or email) without deleting anything",
		UsageText:   "deskfleet state forget --fleet FLEET [--state FILE] NAME...",
		Description: help("state-forget"),
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: flagFleet, Usage: "the fleet whose record forgets them (required)"},
		}, stateFlags()...),
		Action: runStateForget,
	}
}

func runStateForget(c *cli.Context) error {
	names, err := positionalArgs(c, -1)
	if err != nil {
		return err
	}
	fleet := c.String(flagFleet)
	if fleet == "" {
		return withHint(errors.New("name the fleet: --fleet FLEET"), "`deskfleet state list` lists the fleets")
	}
	if len(names) == 0 {
		return withHint(errors.New("name the desktops or sub-accounts to forget"),
			"`deskfleet state show "+fleet+"` lists what the fleet manages")
	}
	sess, err := openStateSession(c)
	if err != nil {
		return err
	}
	defer sess.close()
	got, err := sess.Forget(c.Context, fleet, names, c.Duration(flagLockTimeout))
	if errors.Is(err, engine.ErrNotManaged) {
		return withHint(err, "`deskfleet state show "+fleet+"` lists what the fleet manages; nothing was changed")
	}
	if err != nil {
		return engineError(c, err)
	}
	var what []string
	for _, d := range got.Desktops {
		what = append(what, fmt.Sprintf("desktop %s (%s)", d.Name, d.VmID))
	}
	for _, a := range got.Accounts {
		what = append(what, "account "+a.Email)
	}
	fmt.Fprintf(c.App.Writer, "fleet %s no longer manages %s; nothing was deleted\n", fleet, strings.Join(what, ", "))
	return nil
}

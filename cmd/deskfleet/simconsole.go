package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/provider/sim"
)

// simConsoleCommands are the emulator's console (sim.ConsoleActions): changes made outside deskfleet,
// for demos and tests of drift. They act on the emulator's data file (that of `--endpoint sim` by
// default, or `sim serve --data FILE`), which processes share.
func simConsoleCommands() []*cli.Command {
	data := &cli.StringFlag{Name: "data", Value: defaultSimData,
		Usage: "the emulator's data `FILE` (default: the one --endpoint sim uses)"}
	var cmds []*cli.Command
	for _, a := range sim.ConsoleActions() {
		cmds = append(cmds, &cli.Command{
			Name:      a.Name,
			Usage:     a.Usage,
			UsageText: "deskfleet sim " + a.Name + " " + a.Args + " [--data FILE]",
			Description: a.Usage + ", outside deskfleet, in the emulated cloud.\n\n" +
				"Examples:\n   " + a.Example,
			Flags:  []cli.Flag{data},
			Action: func(c *cli.Context) error { return runConsole(c, a) },
		})
	}
	return cmds
}

func runConsole(c *cli.Context, a sim.ConsoleAction) error {
	args, err := positionalArgs(c, a.NArgs())
	if err != nil {
		return err
	}
	if len(args) != a.NArgs() {
		return fmt.Errorf("deskfleet sim %s takes %d argument(s): %s", a.Name, a.NArgs(), args)
	}
	s, err := sim.OpenConsole(filepath.Clean(c.String("data")))
	if errors.Is(err, sim.ErrNoCloud) {
		return withHint(err, "run a command with --endpoint sim first (or pass the --data of `sim serve`)")
	} else if err != nil {
		return err
	}
	defer s.Close()
	d, ok := s.DesktopByName(args[0])
	if !ok {
		return withHint(fmt.Errorf("no desktop named %q in %s", args[0], c.String("data")),
			"the emulator's desktops are those a plan with --endpoint sim shows")
	}
	if err := a.Do(s, d, args[1:]); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "%s %s (%s): done outside deskfleet\n", a.Name, d.Name, d.ID)
	return nil
}

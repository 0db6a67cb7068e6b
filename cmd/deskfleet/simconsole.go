package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/provider/sim"
)

// simConsoleCommands are the emulator's "console": changes made outside deskfleet, as a person would
// make them in the provider's web console, for demos and tests of drift. They act on the emulator's
// data file (that of `--endpoint sim` by default, or `sim serve --data FILE`), which processes share.
func simConsoleCommands() []*cli.Command {
	data := &cli.StringFlag{Name: "data", Value: defaultSimData,
		Usage: "the emulator's data `FILE` (default: the one --endpoint sim uses)"}
	actions := []consoleAction{
		{"label", "set a desktop's label", "NAME LABEL", "deskfleet sim label design_001 tmp",
			func(s *sim.Sim, d sim.Desktop, a []string) error { return s.ConsoleSetLabel(d.ID, a[0]) }},
		{"rename", "rename a desktop", "NAME NEW-NAME", "deskfleet sim rename review review-old",
			func(s *sim.Sim, d sim.Desktop, a []string) error { return s.ConsoleRename(d.ID, a[0]) }},
		{"power", "power a desktop on or off at once", "NAME on|off", "deskfleet sim power design off", consolePower},
		{"delete", "delete a desktop at once", "NAME", "deskfleet sim delete review",
			func(s *sim.Sim, d sim.Desktop, _ []string) error { return s.ConsoleDelete(d.ID) }},
		{"bind", "bind a desktop to a sub-account (\"-\" unbinds)", "NAME EMAIL|-", "deskfleet sim bind design bob@example.com",
			consoleBind},
	}
	cmds := make([]*cli.Command, len(actions))
	for i, a := range actions {
		cmds[i] = a.command(data)
	}
	return cmds
}

// consoleAction is one console command: a change to one desktop, named by the first of its args.
type consoleAction struct {
	name, usage, args, example string
	do                         func(s *sim.Sim, d sim.Desktop, args []string) error
}

func (a consoleAction) command(data cli.Flag) *cli.Command {
	return &cli.Command{
		Name:      a.name,
		Usage:     a.usage,
		UsageText: "deskfleet sim " + a.name + " " + a.args + " [--data FILE]",
		Description: a.usage + ", outside deskfleet, in the emulated cloud.\n\n" +
			"Examples:\n   " + a.example,
		Flags:  []cli.Flag{data},
		Action: a.run,
	}
}

func (a consoleAction) run(c *cli.Context) error {
	n := len(strings.Fields(a.args))
	args, err := positionalArgs(c, n)
	if err != nil {
		return err
	}
	if len(args) != n {
		return fmt.Errorf("deskfleet sim %s takes %d argument(s): %s", a.name, n, args)
	}
	s, err := openConsoleSim(filepath.Clean(c.String("data")))
	if err != nil {
		return err
	}
	defer s.Close()
	d, ok := s.DesktopByName(args[0])
	if !ok {
		return withHint(fmt.Errorf("no desktop named %q in %s", args[0], c.String("data")),
			"the emulator's desktops are those a plan with --endpoint sim shows")
	}
	if err := a.do(s, d, args[1:]); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "%s %s (%s): done outside deskfleet\n", a.name, d.Name, d.ID)
	return nil
}

// openConsoleSim opens the emulated cloud kept in file, which must exist.
func openConsoleSim(file string) (*sim.Sim, error) {
	if _, err := os.Stat(file); err != nil {
		return nil, withHint(fmt.Errorf("no emulated cloud at %s", file),
			"run a command with --endpoint sim first (or pass the --data of `sim serve`)")
	}
	return sim.New(sim.Options{DataFile: file})
}

func consolePower(s *sim.Sim, d sim.Desktop, a []string) error {
	if a[0] != "on" && a[0] != "off" {
		return fmt.Errorf("power %q: want on or off", a[0])
	}
	return s.ConsolePower(d.ID, a[0] == "on")
}

func consoleBind(s *sim.Sim, d sim.Desktop, a []string) error {
	if a[0] == "-" {
		return s.ConsoleBind(d.ID, "")
	}
	acc, ok := s.AccountByEmail(a[0])
	if !ok {
		return fmt.Errorf("no sub-account %q in the emulator", a[0])
	}
	return s.ConsoleBind(d.ID, acc.ID)
}

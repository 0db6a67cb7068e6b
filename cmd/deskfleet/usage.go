package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/spec"
)

// Mistakes on the command line itself (an unknown command or flag) end, like every other error, with
// a hint and exit code 1: urfave/cli's own handling prints the whole help, or exits 3 for an unknown
// command, which CI would read as "partly applied".

// unknownCommand is the Action of the app and of each command group: with no argument it shows the
// help, with one it is a command that does not exist.
func unknownCommand(c *cli.Context) error {
	path := commandPath(c)
	group := path != c.App.Name
	if c.NArg() == 0 {
		if group {
			return cli.ShowSubcommandHelp(c)
		}
		return cli.ShowAppHelp(c)
	}
	cmds := c.App.Commands
	if group {
		cmds = c.Command.Subcommands
	}
	var names []string
	for _, cmd := range cmds {
		if !cmd.Hidden {
			names = append(names, cmd.Name)
		}
	}
	hint := fmt.Sprintf("`%s --help` lists the commands", path)
	if s := spec.Suggest(c.Args().First(), names); s != "" {
		hint = fmt.Sprintf("did you mean `%s %s`?", path, s)
	}
	words := strings.TrimPrefix(strings.TrimPrefix(path, c.App.Name), " ")
	if words != "" {
		words += " "
	}
	return withHint(fmt.Errorf("unknown command %q", words+c.Args().First()), hint)
}

// usageError is every command's OnUsageError: the parser's message (an unknown flag, a bad value)
// with a pointer to the command's help, instead of the whole help.
func usageError(c *cli.Context, err error, _ bool) error {
	return withHint(err, fmt.Sprintf("see `%s --help`", commandPath(c)))
}

// commandPath is the command line that leads to c's command: "deskfleet state show".
func commandPath(c *cli.Context) string {
	var names []string
	for _, ctx := range c.Lineage() {
		if ctx.Command == nil || ctx.Command.Name == "" || ctx.Command.Name == c.App.Name {
			continue
		}
		if len(names) == 0 || names[len(names)-1] != ctx.Command.Name {
			names = append(names, ctx.Command.Name)
		}
	}
	path := c.App.Name
	for i := len(names) - 1; i >= 0; i-- {
		path += " " + names[i]
	}
	return path
}

// withUsageErrors sets usageError on cmds and their subcommands, and unknownCommand as the Action of
// each group that has none.
func withUsageErrors(cmds []*cli.Command) []*cli.Command {
	for _, cmd := range cmds {
		cmd.OnUsageError = usageError
		if len(cmd.Subcommands) > 0 {
			if cmd.Action == nil {
				cmd.Action = unknownCommand
			}
			withUsageErrors(cmd.Subcommands)
		}
	}
	return cmds
}

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
	if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: "); ok {
		return unknownFlag(c, name)
	}
	return withHint(err, fmt.Sprintf("see `%s --help`", commandPath(c)))
}

// unknownFlag is the error for a flag c's command does not have (written as given: -x, --xyz), with
// the flag it most plausibly misspells, if any, among the command's own.
func unknownFlag(c *cli.Context, given string) error {
	name := strings.TrimLeft(given, "-")
	shown := "--" + name
	if len([]rune(name)) == 1 {
		shown = "-" + name
	}
	hint := fmt.Sprintf("see `%s --help`", commandPath(c))
	if s := suggestFlag(c, name); s != "" {
		hint = fmt.Sprintf("did you mean %s? (`%s --help` lists the flags)", s, commandPath(c))
	}
	return withHint(fmt.Errorf("unknown flag %s", shown), hint)
}

// suggestFlag is the flag of c's command (or of the app, outside a command) that name is most
// plausibly a typo or a truncation of, written --name; "" when none is close enough.
func suggestFlag(c *cli.Context, name string) string {
	flags := c.App.Flags
	if c.Command != nil && c.Command.Name != "" && c.Command.Name != c.App.Name {
		flags = c.Command.Flags
	}
	names := []string{"help"}
	for _, f := range flags {
		if vf, ok := f.(cli.VisibleFlag); ok && !vf.IsVisible() {
			continue
		}
		for _, n := range f.Names() {
			if len([]rune(n)) > 1 {
				names = append(names, n)
			}
		}
	}
	if s := spec.Suggest(name, names); s != "" {
		return "--" + s
	}
	return ""
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
// each group that has none; it gives --no-color to every command that lacks it, so that a script
// (or an alias) can pass it to any command.
func withUsageErrors(cmds []*cli.Command) []*cli.Command {
	for _, cmd := range cmds {
		cmd.OnUsageError = usageError
		if commandFlag(cmd, flagNoColor) == nil {
			cmd.Flags = append(cmd.Flags, noColorFlag())
		}
		if len(cmd.Subcommands) > 0 {
			if cmd.Action == nil {
				cmd.Action = unknownCommand
			}
			withUsageErrors(cmd.Subcommands)
		}
	}
	return cmds
}

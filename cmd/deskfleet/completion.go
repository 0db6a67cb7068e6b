package main

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"
)

// The completion scripts (completions/deskfleet.SHELL) ask the binary itself for the candidates
// (`deskfleet <words> [cur] --generate-bash-completion`, urfave/cli's completion protocol), so they
// never go stale. @PROG@ stands for the program's name. Common to the three:
//   - the word after a flag (-f PATH, --state FILE, --out FILE) completes as a path, not as flags;
//   - the "help"/"h" subcommands urfave/cli adds are left out, so a command with no subcommands (apply
//     PLANFILE) falls back to path completion;
//   - zsh and fish show each subcommand's usage line beside it (urfave/cli prints "name:usage" when the
//     environment variable "0" ends in "zsh").
//
//go:embed completions
var completionScripts embed.FS

// completionShells are the shells `completion` writes a script for, in the order help lists them.
var completionShells = []string{"bash", "zsh", "fish"}

// completionScript returns the completion script of shell for the program prog.
func completionScript(shell, prog string) (string, error) {
	switch shell {
	case "bash", "zsh", "fish":
		script, err := completionScripts.ReadFile("completions/deskfleet." + shell)
		return strings.ReplaceAll(string(script), "@PROG@", prog), err
	case "":
		return "", withHint(errors.New("name the shell to complete for"),
			"deskfleet completion bash, zsh or fish; see `deskfleet completion --help` for how to install it")
	default:
		return "", withHint(fmt.Errorf("no completion for shell %q", shell),
			"deskfleet completion writes bash, zsh or fish; see `deskfleet completion --help` for how to install it")
	}
}

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:        "completion",
		Usage:       "print a shell completion script (bash, zsh or fish) for commands and flags",
		UsageText:   "deskfleet completion bash|zsh|fish",
		Description: help("completion"),
		BashComplete: func(c *cli.Context) {
			if c.NArg() == 0 {
				fmt.Fprintln(c.App.Writer, strings.Join(completionShells, "\n"))
			}
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return withHint(fmt.Errorf("one shell, not %d: %s", c.NArg(), strings.Join(c.Args().Slice(), " ")),
					"deskfleet completion bash, zsh or fish")
			}
			script, err := completionScript(c.Args().First(), c.App.Name)
			if err != nil {
				return err
			}
			_, err = io.WriteString(c.App.Writer, script)
			return err
		},
	}
}

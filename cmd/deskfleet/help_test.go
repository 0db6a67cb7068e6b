package main

import (
	"io"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestEveryCommandHasHelpWithExamples walks the command tree: every runnable command shows, in its
// --help, at least one complete example command line, and a usage line.
func TestEveryCommandHasHelpWithExamples(t *testing.T) {
	app := newApp(io.Discard, io.Discard)
	var walk func(path string, cmds []*cli.Command)
	walk = func(path string, cmds []*cli.Command) {
		for _, c := range cmds {
			full := path + " " + c.Name
			if c.Action != nil {
				help := c.UsageText + "\n" + c.Description
				if !strings.Contains(help, full) {
					t.Errorf("%q: --help shows no example starting with %q", full, full)
				}
				if c.Usage == "" {
					t.Errorf("%q: no one-line usage", full)
				}
			}
			walk(full, c.Subcommands)
		}
	}
	walk("deskfleet", app.Commands)
}

package main

import (
	"io"
	"io/fs"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestHelpTexts: every help/NAME.txt is some command's long help, and every command with a long help
// reads it whole (no text file left over, none missing: help panics on a missing one when the command
// tree is built).
func TestHelpTexts(t *testing.T) {
	app := newApp(io.Discard, io.Discard)
	var descs []string
	var walk func([]*cli.Command)
	walk = func(cmds []*cli.Command) {
		for _, c := range cmds {
			descs = append(descs, c.Description)
			walk(c.Subcommands)
		}
	}
	walk(app.Commands)
	descs = append(descs, app.Description)
	entries, err := fs.ReadDir(helpTexts, "help")
	if err != nil || len(entries) == 0 {
		t.Fatalf("no help texts: %v", err)
	}
	for _, e := range entries {
		text := help(strings.TrimSuffix(e.Name(), ".txt"))
		used := false
		for _, d := range descs {
			if d == text {
				used = true
			}
		}
		if !used {
			t.Errorf("help/%s is no command's help text", e.Name())
		}
	}
}

package main

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestEveryCommandAcceptsNoColor: --no-color is a flag of every command and group, so a script or an
// alias can pass it to any; the parser accepts it (the help is shown, exit 0).
func TestEveryCommandAcceptsNoColor(t *testing.T) {
	app := newApp(io.Discard, io.Discard)
	var walk func(path []string, cmds []*cli.Command)
	walk = func(path []string, cmds []*cli.Command) {
		for _, c := range cmds {
			full := append(append([]string(nil), path...), c.Name)
			if commandFlag(c, flagNoColor) == nil {
				t.Errorf("%q has no --no-color", strings.Join(full, " "))
			}
			var out, errOut bytes.Buffer
			args := append(append([]string(nil), full...), "--no-color", "--help")
			if code := run(args, &out, &errOut); code != exitOK || out.Len() == 0 {
				t.Errorf("%s: exit %d, stderr:\n%s", strings.Join(args, " "), code, errOut.String())
			}
			walk(full, c.Subcommands)
		}
	}
	walk([]string{"deskfleet"}, app.Commands)
}

// TestVersionFlag: `deskfleet --version` prints what `deskfleet version` prints.
func TestVersionFlag(t *testing.T) {
	var cmd, flag, errOut bytes.Buffer
	if code := run([]string{"deskfleet", "version"}, &cmd, &errOut); code != exitOK {
		t.Fatalf("deskfleet version: exit %d, stderr:\n%s", code, errOut.String())
	}
	if code := run([]string{"deskfleet", "--version"}, &flag, &errOut); code != exitOK {
		t.Fatalf("deskfleet --version: exit %d, stderr:\n%s", code, errOut.String())
	}
	if !strings.HasPrefix(cmd.String(), "deskfleet "+version+" (commit ") || flag.String() != cmd.String() {
		t.Errorf("deskfleet --version printed %q, deskfleet version %q: want the same line", flag.String(), cmd.String())
	}
}

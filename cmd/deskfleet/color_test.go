package main

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestUseColor: colour only at a terminal, and never with NO_COLOR (any value, https://no-color.org)
// or --no-color. The terminal is a pseudo-terminal's master side, which is a terminal to isatty.
func TestUseColor(t *testing.T) {
	tty, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	defer tty.Close()
	file, err := os.Create(filepath.Join(t.TempDir(), "out.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()

	cases := []struct {
		reason  string
		w       io.Writer
		noColor bool
		env     string // NO_COLOR's value; "-" leaves it unset
		want    bool
	}{
		{"a terminal gets colour", tty, false, "-", true},
		{"NO_COLOR set (to anything) turns it off", tty, false, "1", false},
		{"NO_COLOR set but empty does not count, as no-color.org says", tty, false, "", true},
		{"--no-color turns it off", tty, true, "-", false},
		{"a file (a redirect) gets none", file, false, "-", false},
		{"/dev/null is a character device but not a terminal", devNull, false, "-", false},
		{"a buffer (tests, pipes in-process) gets none", &bytes.Buffer{}, false, "-", false},
	}
	for _, tc := range cases {
		if tc.env == "-" {
			t.Setenv("NO_COLOR", "")
			os.Unsetenv("NO_COLOR")
		} else {
			t.Setenv("NO_COLOR", tc.env)
		}
		set := flag.NewFlagSet("test", flag.ContinueOnError)
		set.Bool(flagNoColor, tc.noColor, "")
		c := cli.NewContext(cli.NewApp(), set, nil)
		if got := useColor(c, tc.w); got != tc.want {
			t.Errorf("%s: useColor = %v, want %v", tc.reason, got, tc.want)
		}
	}
}

package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

// version and commit are set at build time with -ldflags "-X main.version=... -X main.commit=...".
// When they are not, commit falls back to the VCS revision that the Go toolchain embedded, if any.
var (
	version = "dev"
	commit  = ""
)

func buildCommit() string {
	if commit != "" {
		return commit
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				return s.Value
			}
		}
	}
	return "unknown"
}

func init() {
	// --version (not -v: that reads as --verbose to many) prints what `deskfleet version` prints.
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version, commit and Go version"}
	cli.VersionPrinter = func(c *cli.Context) { printVersion(c.App.Writer) } //nolint:errcheck // nothing to do about a failed write
}

// printVersion writes the one version line of `deskfleet version` and `deskfleet --version`.
func printVersion(w io.Writer) error {
	_, err := fmt.Fprintf(w, "deskfleet %s (commit %s, %s %s/%s)\n",
		version, buildCommit(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:      "version",
		Usage:     "print the version, commit and Go version",
		UsageText: "deskfleet version",
		Action:    func(c *cli.Context) error { return printVersion(c.App.Writer) },
	}
}

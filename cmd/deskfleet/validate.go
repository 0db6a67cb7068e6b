package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/engine/fleets"
	"github.com/deskfleet/deskfleet/spec"
)

// specFlag is the repeatable -f of every command that reads a spec.
func specFlag() *cli.StringSliceFlag {
	return &cli.StringSliceFlag{
		Name:        "file",
		Aliases:     []string{"f"},
		Usage:       "spec file, or folder whose *.yaml and *.yml files are read; repeatable. A folder holding no spec file but fleet folders (each with a fleet.yaml) is a fleet repository: every fleet of it",
		DefaultText: ".",
	}
}

// flagOnline is validate's switch to resolve the spec against the API after the offline checks.
const flagOnline = "online"

// validateCommand checks a spec offline: YAML syntax, strict decoding, cross-references, then the JSON
// Schema; with --online it then resolves every name against the API (reads only). Exit 0 when valid
// (warnings allowed), 1 when not or when the API cannot be read.
func validateCommand() *cli.Command {
	return &cli.Command{
		Name:        "validate",
		Usage:       "check a fleet spec: syntax, unknown keys, references, schema; --online: names against the API",
		UsageText:   "deskfleet validate [-f PATH]... [--online [--endpoint URL]]",
		Description: help("validate"),
		Flags: append([]cli.Flag{specFlag(),
			&cli.BoolFlag{Name: flagOnline, Usage: "after the offline checks, resolve sites, products, images and networks with the API (read-only)"},
		}, apiFlags()...),
		Action: func(c *cli.Context) error {
			if isRepo(c) {
				return validateRepo(c)
			}
			diags, fl, files := engine.CheckSpec(specPaths(c))
			if c.Bool(flagOnline) && !diags.HasErrors() {
				online, endpoint, err := validateOnline(c, fl)
				if err != nil {
					return err
				}
				diags = append(diags, online...)
				diags.Sort()
				fmt.Fprintf(c.App.Writer, "names resolved online against %s\n", endpoint)
			}
			printDiagnostics(c.App.Writer, diags, fl, files)
			if diags.HasErrors() {
				return withCode(exitError, nil)
			}
			return nil
		},
	}
}

// validateRepo checks every fleet of the repository -f names (offline), each under a line naming
// its folder; exit 1 when one has errors.
func validateRepo(c *cli.Context) error {
	repo, err := fleets.Open(specPaths(c)[0])
	if err != nil {
		return engineError(c, err)
	}
	bad := false
	for _, f := range repo.Fleets {
		diags, fl, files := engine.CheckSpec([]string{f.Dir})
		fmt.Fprintf(c.App.Writer, "== %s\n", f.Dir)
		printDiagnostics(c.App.Writer, diags, fl, files)
		bad = bad || diags.HasErrors()
	}
	if bad {
		return withCode(exitError, nil)
	}
	return nil
}

// validateOnline resolves a valid spec's names against the API the flags name (reads only); it
// returns the diagnostics and the endpoint read.
func validateOnline(c *cli.Context, fl *spec.Fleet) (spec.Diagnostics, string, error) {
	sess, err := openAPISession(c)
	if err != nil {
		return nil, "", err
	}
	defer sess.close()
	diags, err := sess.ValidateOnline(c.Context, fl)
	return diags, sess.api.Endpoint, err
}

// printDiagnostics writes one line per diagnostic, then the count line.
func printDiagnostics(w io.Writer, diags spec.Diagnostics, fl *spec.Fleet, files int) {
	for _, d := range diags {
		fmt.Fprintln(w, d.String())
	}
	count := fmt.Sprintf("%s, %s in %s", plural(diags.Count(spec.Error), "error"),
		plural(diags.Count(spec.Warning), "warning"), plural(files, "file"))
	if !diags.HasErrors() && fl != nil {
		count += fmt.Sprintf(": fleet %s is valid (%s, %s)", fl.Name,
			plural(len(fl.Desktops), "desktop"), plural(len(fl.Accounts), "account"))
	}
	fmt.Fprintln(w, count)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/schema"
	"github.com/deskfleet/deskfleet/spec"
)

// specFlag is the repeatable -f of every command that reads a spec.
func specFlag() *cli.StringSliceFlag {
	return &cli.StringSliceFlag{
		Name:        "file",
		Aliases:     []string{"f"},
		Usage:       "spec file, or folder whose *.yaml and *.yml files are read (not recursing); repeatable",
		DefaultText: ".",
	}
}

// validateCommand checks a spec offline: YAML syntax, strict decoding, cross-references, then the JSON
// Schema. Exit 0 when valid (warnings allowed), 1 when not.
func validateCommand() *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check a fleet spec offline: syntax, unknown keys, references, schema",
		UsageText: "deskfleet validate [-f PATH]...",
		Description: "Reads the spec (every *.yaml and *.yml of the current folder unless -f says otherwise) and\n" +
			"prints each problem on its own line as file:line:col: message, warnings marked \"warning:\",\n" +
			"then a count. Exits 0 when the spec is valid (warnings allowed) and 1 when it is not.\n\n" +
			"Examples:\n" +
			"   deskfleet validate                          # the spec in the current folder\n" +
			"   deskfleet validate -f fleet/                # a folder\n" +
			"   deskfleet validate -f base.yaml -f lab.yaml # two files that make one fleet",
		Flags: []cli.Flag{specFlag()},
		Action: func(c *cli.Context) error {
			paths := c.StringSlice("file")
			if len(paths) == 0 {
				paths = []string{"."}
			}
			diags, fl, files := validate(paths)
			printDiagnostics(c.App.Writer, diags, fl, files)
			if diags.HasErrors() {
				return withCode(exitError, nil)
			}
			return nil
		},
	}
}

// validate loads the spec and, when the loader finds no error, also checks every document against the
// JSON Schema: the loader's messages are the more precise, so the schema only reports what the loader
// let through. It returns the diagnostics (sorted), the fleet and the number of files read.
func validate(paths []string) (spec.Diagnostics, *spec.Fleet, int) {
	srcs, read := spec.ReadSources(paths...)
	fl, diags := spec.Finish(srcs, read)
	if !diags.HasErrors() {
		diags = append(diags, schema.Validate(srcs)...)
	}
	diags.Sort()
	files := map[string]bool{}
	for _, s := range srcs {
		files[s.File] = true
	}
	for _, d := range diags {
		if d.Pos.File != "" {
			files[d.Pos.File] = true
		}
	}
	return diags, fl, len(files)
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

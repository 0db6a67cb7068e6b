package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine"
)

// Flags of import.
const (
	flagFleet      = "fleet"
	flagSite       = "site"
	flagNamePrefix = "name-prefix"
	flagLabel      = "label"
	flagAdopt      = "adopt"
)

func importCommand() *cli.Command {
	return &cli.Command{
		Name:        "import",
		Usage:       "write a spec (YAML on stdout) describing live desktops and the sub-accounts bound to them",
		UsageText:   "deskfleet import --fleet NAME [--site SITE]... [--name-prefix PREFIX] [--label LABEL] [--adopt] > fleet.yaml",
		Description: help("import"),
		Flags: append(append([]cli.Flag{
			&cli.StringFlag{Name: flagFleet, Required: true, Usage: "the spec's fleet `NAME` (the key of its state record)"},
			&cli.StringSliceFlag{Name: flagSite, Usage: "import only desktops at `SITE` (name or id; repeatable)"},
			&cli.StringFlag{Name: flagNamePrefix, Usage: "import only desktops whose name starts with `PREFIX`"},
			&cli.StringFlag{Name: flagLabel, Usage: "import only desktops whose label is exactly `LABEL` (\"\" for none)"},
			&cli.BoolFlag{Name: flagAdopt, Usage: "also record the imported desktops and accounts in the state (protected)"},
		}, apiFlags()...), stateFlags()...),
		Action: runImport,
	}
}

func runImport(c *cli.Context) error {
	opt := engine.ImportOptions{Fleet: c.String(flagFleet), Sites: c.StringSlice(flagSite),
		NamePrefix: c.String(flagNamePrefix), Now: time.Now()}
	if c.IsSet(flagLabel) {
		opt.Label = new(c.String(flagLabel))
	}
	sess, err := openSession(c)
	if err != nil {
		return err
	}
	defer sess.close()
	im, err := sess.Import(c.Context, opt)
	if err != nil {
		return withHint(err, "")
	}
	for _, w := range im.Warnings {
		fmt.Fprintln(c.App.ErrWriter, "warning:", w)
	}
	if c.Bool(flagAdopt) {
		if err := sess.Adopt(c.Context, opt.Fleet, im, c.Duration(flagLockTimeout)); err != nil {
			return engineError(c, err)
		}
		fmt.Fprintf(c.App.ErrWriter, "adopted %s and %s into fleet %s (protected)\n",
			plural(len(im.Desktops), "desktop"), plural(len(im.Accounts), "account"), opt.Fleet)
	}
	_, err = c.App.Writer.Write(im.YAML)
	return err
}

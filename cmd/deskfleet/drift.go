package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/engine/render"
	"github.com/deskfleet/deskfleet/spec"
)

// flagExpiringWithin is drift's window for expiring desktops.
const flagExpiringWithin = "expiring-within"

func driftCommand() *cli.Command {
	return &cli.Command{
		Name:        "drift",
		Usage:       "read-only: report what differs between the live fleet and the spec, what expires soon, what is in error",
		UsageText:   "deskfleet drift [-f PATH]... [--expiring-within 7d] [--format text|markdown|json] [--target GLOB]... [--exclude GLOB]...",
		Description: help("drift"),
		Flags: append(append([]cli.Flag{
			specFlag(),
			&cli.StringFlag{Name: flagExpiringWithin, Value: "7d",
				Usage: "report monthly desktops expiring within `DURATION`: a Go duration (36h) or whole days (14d)"},
			&cli.StringFlag{Name: flagFormat, Value: "text", Usage: "output: text, markdown (an issue body) or json"},
			&cli.StringSliceFlag{Name: flagTarget, Usage: "report only desktops and accounts matching `GLOB` (repeatable)"},
			&cli.StringSliceFlag{Name: flagExclude, Usage: "leave out desktops and accounts matching `GLOB` (repeatable)"},
			&cli.BoolFlag{Name: flagNoColor, EnvVars: []string{"DESKFLEET_NO_COLOR"}, Usage: "no colour, even at a terminal (NO_COLOR is honoured too)"},
		}, apiFlags()...), stateFlags()...),
		Action: runDrift,
	}
}

func runDrift(c *cli.Context) error {
	format := c.String(flagFormat)
	switch format {
	case "text", "markdown", "json":
	default:
		return withHint(fmt.Errorf("--format %q: want text, markdown or json", format), "")
	}
	within, err := spec.ParseDuration(c.String(flagExpiringWithin))
	if err != nil {
		return fmt.Errorf("--expiring-within %q: %v; use a Go duration like 36h or days like 7d", c.String(flagExpiringWithin), err)
	}
	sp, err := loadSpec(c)
	if err != nil {
		return err
	}
	sess, err := openSession(c)
	if err != nil {
		return err
	}
	defer sess.close()
	r, err := sess.Drift(c.Context, sp, engine.DriftOptions{ExpiringWithin: within,
		Targets: c.StringSlice(flagTarget), Excludes: c.StringSlice(flagExclude)})
	if err != nil {
		return fleetError(c, err)
	}
	w := c.App.Writer
	switch format {
	case "markdown":
		err = render.DriftMarkdown(w, r, render.MarkdownOptions{})
	case "json":
		err = render.DriftJSON(w, r)
	default:
		err = render.DriftText(w, r, render.TextOptions{Color: useColor(c, w)})
	}
	if err != nil {
		return err
	}
	if r.Drifted() {
		return withCode(exitDrift, nil)
	}
	return nil
}

package main

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/engine/fleets"
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
		Flags: append([]cli.Flag{
			specFlag(),
			&cli.StringFlag{Name: flagExpiringWithin, Value: "7d",
				Usage: "report monthly desktops expiring within `DURATION`: a Go duration (36h) or whole days (14d)"},
			&cli.StringFlag{Name: flagFormat, Value: "text", Usage: "output: text, markdown (an issue body) or json"},
		}, slices.Concat(selectFlags("report"), apiFlags(), stateFlags())...),
		Action: runDrift,
	}
}

func runDrift(c *cli.Context) error {
	format, err := planFormat(c)
	if err != nil {
		return err
	}
	within, err := spec.ParseDuration(c.String(flagExpiringWithin))
	if err != nil {
		return fmt.Errorf("--expiring-within %q: %v; use a Go duration like 36h or days like 7d", c.String(flagExpiringWithin), err)
	}
	opt := engine.DriftOptions{ExpiringWithin: within, Targets: c.StringSlice(flagTarget), Excludes: c.StringSlice(flagExclude)}
	if isRepo(c) {
		return runRepo(c, func(rn *fleets.Runner, repo *fleets.Repo) *fleets.Report {
			return rn.Drift(c.Context, repo, opt)
		}, func(rep *fleets.Report) error { return renderFleets(c, rep, format) })
	}
	r, err := withSpec(c, func(sess *session, sp *engine.Spec) (*engine.DriftReport, error) {
		return sess.Drift(c.Context, sp, opt)
	})
	if err != nil {
		return err
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
	return cmp.Or(err, exitWith(fleets.DriftExit(r), "", nil))
}

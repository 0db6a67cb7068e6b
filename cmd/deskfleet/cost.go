package main

import (
	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/engine/fleets"
	"github.com/deskfleet/deskfleet/engine/render"
)

func costCommand() *cli.Command {
	return &cli.Command{
		Name:        "cost",
		Usage:       "read-only: what the fleet costs a month, now and after the plan, by group, label and bound account",
		UsageText:   "deskfleet cost [-f PATH]... [--at TIME] [--format text|markdown|json]",
		Description: help("cost"),
		Flags: append(append([]cli.Flag{specFlag(),
			&cli.StringFlag{Name: flagFormat, Value: "text", Usage: "output: text, markdown (a job summary or PR comment) or json"},
			&cli.StringFlag{Name: flagAt, Usage: "project the month from `TIME` (RFC 3339, or YYYY-MM-DD HH:MM in the local time zone): schedules' hours count from it"},
		}, apiFlags()...), stateFlags()...),
		Action: runCost,
	}
}

func runCost(c *cli.Context) error {
	format, err := planFormat(c)
	if err != nil {
		return withHint(err, "")
	}
	var opt engine.CostOptions
	if opt.At, err = atOption(c); err != nil {
		return err
	}
	if isRepo(c) {
		return runRepo(c, func(rn *fleets.Runner, repo *fleets.Repo) *fleets.Report {
			return rn.Cost(c.Context, repo, opt)
		}, func(rep *fleets.Report) error { return renderFleets(c, rep, format) })
	}
	fc, err := withSpec(c, func(sess *session, sp *engine.Spec) (*engine.FleetCost, error) {
		return sess.Cost(c.Context, sp, opt)
	})
	if err != nil {
		return err
	}
	switch w := c.App.Writer; format {
	case "markdown":
		return render.CostMarkdown(w, fc)
	case "json":
		return render.CostJSON(w, fc)
	default:
		return render.CostText(w, fc, render.TextOptions{Color: useColor(c, w)})
	}
}

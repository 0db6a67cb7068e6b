package main

import (
	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/engine/render"
)

func costCommand() *cli.Command {
	return &cli.Command{
		Name:        "cost",
		Usage:       "read-only: what the fleet costs a month, now and after the plan, by group, label and bound account",
		UsageText:   "deskfleet cost [-f PATH]... [--format text|markdown|json]",
		Description: help("cost"),
		Flags: append(append([]cli.Flag{specFlag(),
			&cli.StringFlag{Name: flagFormat, Value: "text", Usage: "output: text, markdown (a job summary or PR comment) or json"},
			&cli.BoolFlag{Name: flagNoColor, EnvVars: []string{"DESKFLEET_NO_COLOR"}, Usage: "no colour, even at a terminal (NO_COLOR is honoured too)"},
		}, apiFlags()...), stateFlags()...),
		Action: runCost,
	}
}

func runCost(c *cli.Context) error {
	format, err := planFormat(c)
	if err != nil {
		return withHint(err, "")
	}
	fc, err := withSpec(c, func(sess *session, sp *engine.Spec) (*engine.FleetCost, error) {
		return sess.Cost(c.Context, sp, engine.CostOptions{})
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

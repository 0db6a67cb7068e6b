package main

import (
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/engine/fleets"
	"github.com/deskfleet/deskfleet/engine/render"
)

// Flags of plan (apply and drift share some of them).
const (
	flagOut              = "out"
	flagFormat           = "format"
	flagDetailedExitcode = "detailed-exitcode"
	flagTarget           = "target"
	flagExclude          = "exclude"
	flagNoColor          = "no-color"
	flagMaxDeletePercent = "max-delete-percent" // apply's; read by the shared planning code
)

func planCommand() *cli.Command {
	return &cli.Command{
		Name:        "plan",
		Usage:       "read the live fleet, compare it with the spec, and print what apply would do",
		UsageText:   "deskfleet plan [-f PATH]... [--format text|markdown|json] [--out FILE] [--target GLOB]... [--exclude GLOB]...",
		Description: help("plan"),
		Flags: append([]cli.Flag{
			specFlag(),
			&cli.StringFlag{Name: flagFormat, Value: "text", Usage: "output: text, markdown (a pull-request comment) or json"},
			&cli.StringFlag{Name: flagOut, Usage: "also save the plan to `FILE` (JSON, mode 0600) for `deskfleet apply FILE`"},
			&cli.BoolFlag{Name: flagDetailedExitcode, Usage: "exit 2 when the plan has changes, 0 when it has none"},
			onlyFlag(), atFlag(), batchLimitFlag(),
		}, slices.Concat(selectFlags("plan"), apiFlags(), stateFlags())...),
		Action: runPlan,
	}
}

func runPlan(c *cli.Context) error {
	format, err := planFormat(c)
	if err != nil {
		return err
	}
	opt, err := planOptions(c)
	if err != nil {
		return err
	}
	if isRepo(c) {
		return runRepo(c, func(rn *fleets.Runner, repo *fleets.Repo) *fleets.Report {
			return rn.Plan(c.Context, repo, opt, c.Bool(flagDetailedExitcode))
		}, func(rep *fleets.Report) error { return renderFleets(c, rep, format) })
	}
	p, err := withSpec(c, func(sess *session, sp *engine.Spec) (*engine.Plan, error) {
		return sess.Plan(c.Context, sp, opt)
	})
	if err != nil {
		return err
	}
	out := c.String(flagOut)
	if out != "" {
		if err := engine.SavePlan(out, p); err != nil {
			return fmt.Errorf("saving the plan: %w", err)
		}
	}
	w := c.App.Writer
	if err := renderPlan(c, w, p, format); err != nil {
		return err
	}
	if out != "" && format == "text" {
		fmt.Fprintf(w, "\nSaved to %s: `deskfleet apply %s` applies exactly this plan.\n", out, out)
	}
	if len(p.Errors) > 0 {
		return withCode(exitError, fmt.Errorf("%s cannot be planned (see Errors above); the rest of the plan is shown",
			plural(len(p.Errors), "change")))
	}
	return exitWith(fleets.PlanExit(p, c.Bool(flagDetailedExitcode)), "", nil)
}

// renderFleets writes a plan or drift run over a fleet repository in format.
func renderFleets(c *cli.Context, rep *fleets.Report, format string) error {
	w := c.App.Writer
	switch format {
	case "markdown":
		return render.FleetsMarkdown(w, rep, render.MarkdownOptions{})
	case "json":
		return render.FleetsJSON(w, rep)
	}
	return render.FleetsText(w, rep, render.TextOptions{Color: useColor(c, w)})
}

// maxDeletePercent is --max-delete-percent where the command has it (apply), else nil (Diff's default).
func maxDeletePercent(c *cli.Context) *int {
	if commandFlag(c.Command, flagMaxDeletePercent) == nil {
		return nil
	}
	n := c.Int(flagMaxDeletePercent)
	return &n
}

// useColor reports whether output to w gets colour: only at a terminal, and never with --no-color or
// NO_COLOR set (https://no-color.org).
func useColor(c *cli.Context, w io.Writer) bool {
	if c.Bool(flagNoColor) || os.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && isTerminal(f)
}

// planFormat is --format of plan and show: text, markdown or json.
func planFormat(c *cli.Context) (string, error) {
	switch format := c.String(flagFormat); format {
	case "text", "markdown", "json":
		return format, nil
	default:
		return "", fmt.Errorf("--format %q: want text, markdown or json", format)
	}
}

// renderPlan writes p in format (text in colour at a terminal, unless --no-color or NO_COLOR).
func renderPlan(c *cli.Context, w io.Writer, p *engine.Plan, format string) error {
	switch format {
	case "markdown":
		return render.Markdown(w, p, render.MarkdownOptions{})
	case "json":
		return render.JSON(w, p)
	default:
		return render.Text(w, p, render.TextOptions{Color: useColor(c, w)})
	}
}

package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine"
)

// showCommand prints a saved plan in any of plan's formats, without reading the API or the state: so
// that CI computes a plan once (`plan --out`) and posts the same plan as a comment, keeps it as JSON
// and applies it.
func showCommand() *cli.Command {
	return &cli.Command{
		Name:        "show",
		Usage:       "print a saved plan (plan --out FILE) as text, Markdown or JSON, without calling the API",
		UsageText:   "deskfleet show PLANFILE [--format text|markdown|json] [--no-color]",
		Description: help("show"),
		Flags: []cli.Flag{
			&cli.StringFlag{Name: flagFormat, Value: "text", Usage: "output: text, markdown (a pull-request comment) or json"},
		},
		Action: runShow,
	}
}

func runShow(c *cli.Context) error {
	args, err := positionalArgs(c, 1)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return withHint(errors.New("name the saved plan to show"), "save one with `deskfleet plan --out FILE`")
	}
	format, err := planFormat(c)
	if err != nil {
		return err
	}
	p, err := engine.LoadPlan(args[0])
	if err != nil {
		return withHint(err, "save a plan with `deskfleet plan --out FILE`")
	}
	if p.Damaged() {
		fmt.Fprintf(c.App.ErrWriter, "warning: %s does not match its checksum: it was damaged or edited after it was saved; apply refuses it\n", args[0])
	}
	return renderPlan(c, c.App.Writer, p, format)
}

package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/engine/render"
)

func reportCommand() *cli.Command {
	return &cli.Command{
		Name:        "report",
		Usage:       "read-only: write the fleet report, one self-contained HTML page (status, cost charts, the week's power, the last applies)",
		UsageText:   "deskfleet report [-f PATH]... [--format html] [-o FILE]",
		Description: help("report"),
		Flags: append(append([]cli.Flag{specFlag(),
			&cli.StringFlag{Name: flagFormat, Value: "html", Usage: "output: html (the only format)"},
			&cli.StringFlag{Name: flagOut, Aliases: []string{"o"}, Usage: "write the page to `FILE` (mode 0644; it holds no secret) instead of stdout"},
		}, apiFlags()...), stateFlags()...),
		Action: runReport,
	}
}

func runReport(c *cli.Context) error {
	if f := c.String(flagFormat); f != "html" {
		return withHint(fmt.Errorf("--format %q: want html", f), "for text, Markdown or JSON use `deskfleet cost` and `deskfleet drift`")
	}
	r, err := withSpec(c, func(sess *session, sp *engine.Spec) (*engine.FleetReport, error) {
		return sess.Report(c.Context, sp, engine.ReportOptions{})
	})
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := render.ReportHTML(&b, r); err != nil {
		return err
	}
	if out := c.String(flagOut); out != "" && out != "-" {
		return os.WriteFile(out, b.Bytes(), 0o644)
	}
	_, err = c.App.Writer.Write(b.Bytes())
	return err
}

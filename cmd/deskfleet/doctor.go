package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/engine/render"
)

// doctorCommand checks a first contact with an account: read calls only.
func doctorCommand() *cli.Command {
	return &cli.Command{
		Name:        "doctor",
		Usage:       "check the credentials, the clock and the API's replies before a first apply (read-only)",
		UsageText:   "deskfleet doctor [--site NAME] [--format text|json] [--endpoint URL]",
		Description: help("doctor"),
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "site", Usage: "read the networks of this site (name or id); default the first listed"},
			&cli.StringFlag{Name: flagFormat, Value: "text", Usage: "output: text or json"},
			noColorFlag(),
		}, apiFlags()...),
		Action: runDoctor,
	}
}

func runDoctor(c *cli.Context) error {
	format := c.String(flagFormat)
	if format != "text" && format != "json" {
		return fmt.Errorf("--format %q: want text or json", format)
	}
	api, err := openAPI(c)
	if err != nil {
		return err
	}
	defer api.Close()
	r, err := engine.Doctor(c.Context, api.DoctorOptions(c.String("site")))
	if err != nil {
		return err
	}
	w := c.App.Writer
	if format == "json" {
		err = render.DoctorJSON(w, r)
	} else {
		err = render.DoctorText(w, r, useColor(c, w))
	}
	if err != nil {
		return err
	}
	if !r.OK {
		return withCode(exitError, nil)
	}
	return nil
}

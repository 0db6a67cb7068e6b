package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/engine/render"
	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/provider/gcw"
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
	r, err := engine.Doctor(c.Context, doctorOptions(api.Client, api.Endpoint, c.String("site")))
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

// doctorOptions wires the client's probe and rate statistics into the engine's doctor.
func doctorOptions(client *gcw.Client, endpoint, site string) engine.DoctorOptions {
	return engine.DoctorOptions{
		Endpoint: endpoint,
		Site:     site,
		Probe: func(ctx context.Context, action provider.Action, params map[string]string) (engine.ProbeReply, error) {
			p, err := client.Probe(ctx, action, params)
			if err != nil {
				return engine.ProbeReply{}, err
			}
			return probeReply(p), nil
		},
		RateStats: func() (int, float64) {
			st := client.RateStats()
			return st.Throttled, st.Limit
		},
	}
}

// probeReply is the engine's view of a probe.
func probeReply(p *gcw.ProbeResult) engine.ProbeReply {
	r := engine.ProbeReply{HTTPStatus: p.HTTPStatus, Date: p.Date, Sent: p.Sent, Received: p.Received,
		Latency: p.Latency, Attempts: p.Attempts, Throttled: p.Throttled, Err: p.Err, Data: p.Data,
		EnvelopeOther: p.Envelope.Other, Standard: p.Envelope.Standard()}
	if p.Envelope.Code != "" || p.Envelope.Data != "" || p.Envelope.Message != "" {
		r.Casing = p.Envelope.Casing()
	}
	if f := p.Fields; f != nil {
		r.Checked, r.Null, r.Items, r.List = true, f.Null, f.Items, f.List
		r.Unknown, r.Missing, r.Mismatch = f.Unknown, f.Missing, f.Mismatch
	}
	return r
}

package connect

import (
	"context"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/provider/gcw"
)

// DoctorOptions wires the API's client into engine.Doctor: its probe (gcw.Client.Probe, reads only)
// and its rate statistics, reported as the API's Endpoint; site names the site whose networks are read
// ("": the first listed).
func (a *API) DoctorOptions(site string) engine.DoctorOptions {
	return engine.DoctorOptions{
		Endpoint: a.Endpoint,
		Site:     site,
		Probe: func(ctx context.Context, action provider.Action, params map[string]string) (engine.ProbeReply, error) {
			p, err := a.Client.Probe(ctx, action, params)
			if err != nil {
				return engine.ProbeReply{}, err
			}
			return probeReply(p), nil
		},
		RateStats: func() (int, float64) {
			st := a.Client.RateStats()
			return st.Throttled, st.Limit
		},
	}
}

// probeReply is the engine's view of a probe: Casing only when the reply had an envelope key, the
// field check's figures only when the Data was compared (Checked).
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

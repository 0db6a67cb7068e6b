package connect

import (
	"slices"
	"testing"

	"github.com/deskfleet/deskfleet/provider/gcw"
)

func TestProbeReply(t *testing.T) {
	std := gcw.EnvelopeKeys{Code: "Code", Message: "Message", Data: "Data"}
	cases := []struct {
		reason      string
		in          gcw.ProbeResult
		casing      string
		standard    bool
		checked     bool
		items       int
		unknownKeys []string
	}{
		{"no envelope (no JSON object): no casing, nothing checked", gcw.ProbeResult{HTTPStatus: 502}, "", false, false, 0, nil},
		{"a standard Success envelope with its field check", gcw.ProbeResult{HTTPStatus: 200, Envelope: std,
			Fields: &gcw.FieldCheck{List: true, Items: 3, Unknown: []string{"extra"}}}, "Code/Message/Data", true, true, 3, []string{"extra"}},
		{"an odd spelling is named, not standard", gcw.ProbeResult{HTTPStatus: 200, Envelope: gcw.EnvelopeKeys{Code: "CODE", Data: "data"}},
			"CODE/-/data", false, false, 0, nil},
	}
	for _, c := range cases {
		r := probeReply(&c.in)
		if r.HTTPStatus != c.in.HTTPStatus || r.Casing != c.casing || r.Standard != c.standard || r.Checked != c.checked ||
			r.Items != c.items || !slices.Equal(r.Unknown, c.unknownKeys) {
			t.Errorf("%s: %+v", c.reason, r)
		}
	}
}

package render

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/provider"
)

func TestDoctorRender(t *testing.T) {
	r := &engine.DoctorReport{FormatVersion: engine.DoctorFormatVersion, Endpoint: "sim:x",
		Credentials: engine.DoctorCheck{Status: engine.DoctorOK, Detail: "accepted"},
		Clock:       engine.DoctorClock{DoctorCheck: engine.DoctorCheck{Status: engine.DoctorOK, Detail: "in time"}},
		Actions: []engine.DoctorAction{
			{Action: provider.ActionQuerySites, Status: engine.DoctorWarn, Casing: "Code/Message/Data", Standard: true, List: true, Items: 2,
				Unknown: []string{"zone\x1b[31m"}, Missing: []string{}, Mismatch: []string{}},
			{Action: provider.ActionQueryVm, Status: engine.DoctorSkipped, Detail: "no desktop"},
		},
		Problems: []string{}, Notes: []string{"QuerySites: fields the client does not read (ignored): zone"}, OK: true}
	tests := []struct {
		reason string
		color  bool
		want   []string
		never  []string
	}{
		{reason: "plain: no escape byte, an API field's control character shown escaped", want: []string{
			"ok   credentials  accepted", "warn QuerySites", "2 items", `unknown: zone\x1b[31m`, "skip QueryVm", "Ready for a first apply"},
			never: []string{"\x1b"}},
		{reason: "colour at a terminal", color: true, want: []string{"\x1b[33mwarn\x1b[0m"}},
	}
	for _, tc := range tests {
		t.Run(tc.reason, func(t *testing.T) {
			var b bytes.Buffer
			if err := DoctorText(&b, r, tc.color); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("lacks %q:\n%s", w, b.String())
				}
			}
			for _, n := range tc.never {
				if strings.Contains(b.String(), n) {
					t.Errorf("holds %q:\n%s", n, b.String())
				}
			}
		})
	}
	var b bytes.Buffer
	if err := DoctorJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil || m["format_version"] != float64(1) {
		t.Errorf("json: %v %s", err, b.String())
	}
}

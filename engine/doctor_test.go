package engine

import (
	"context"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider"
)

func TestDoctorClock(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	reply := func(serverAhead, rtt time.Duration) ProbeReply {
		return ProbeReply{Sent: t0, Received: t0.Add(rtt), Date: t0.Add(rtt / 2).Add(serverAhead).Truncate(time.Second)}
	}
	tests := []struct {
		reason  string
		replies []ProbeReply
		status  string
		skew    time.Duration // expected within ±1s
	}{
		{reason: "in time", replies: []ProbeReply{reply(0, 20*time.Millisecond)}, status: DoctorOK},
		{reason: "2 minutes behind: worth fixing, not a failure", replies: []ProbeReply{reply(2*time.Minute, 0)}, status: DoctorWarn, skew: 2 * time.Minute},
		{reason: "10 minutes ahead: a failure (no documented window)", replies: []ProbeReply{reply(-10*time.Minute, 0)}, status: DoctorFail, skew: -10 * time.Minute},
		{reason: "the shortest round trip is trusted", replies: []ProbeReply{reply(3*time.Minute, 30*time.Second), reply(0, 10*time.Millisecond)}, status: DoctorOK},
		{reason: "no Date at all: unknown, a warning", replies: []ProbeReply{{Sent: t0, Received: t0}}, status: DoctorWarn},
	}
	for _, tc := range tests {
		t.Run(tc.reason, func(t *testing.T) {
			c := judgeClock(tc.replies, time.Minute, 5*time.Minute)
			if c.Status != tc.status {
				t.Errorf("status %s, want %s (%s)", c.Status, tc.status, c.Detail)
			}
			if c.Known && (c.Skew-tc.skew).Abs() > time.Second {
				t.Errorf("skew %v, want %v", c.Skew, tc.skew)
			}
		})
	}
}

func TestDoctorReadsOnly(t *testing.T) {
	var asked []provider.Action
	probe := func(_ context.Context, a provider.Action, _ map[string]string) (ProbeReply, error) {
		asked = append(asked, a)
		rep := ProbeReply{HTTPStatus: 200, Casing: "Code/Message/Data", Standard: true, Checked: true, List: true}
		if a == provider.ActionQuerySites {
			rep.Items, rep.Data = 1, []byte(`[{"siteId":"s1","siteName":"宿迁A"}]`)
		}
		return rep, nil
	}
	r, err := Doctor(context.Background(), DoctorOptions{Probe: probe})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range asked {
		if info, ok := provider.LookupAction(a); !ok || info.Mutating {
			t.Errorf("doctor asked %s, not a read", a)
		}
	}
	if !r.OK || r.Site == nil || r.Site.Name != "宿迁A" || r.Clock.Status != DoctorWarn {
		t.Errorf("report %+v", r)
	}
	r, err = Doctor(context.Background(), DoctorOptions{Probe: probe, Site: "襄阳A"})
	if err != nil {
		t.Fatal(err)
	}
	if r.OK || r.Actions[0].Status != DoctorFail || r.Actions[4].Status != DoctorSkipped {
		t.Errorf("an unknown --site: want QuerySites failed and the networks skipped, got %+v", r.Actions)
	}
}

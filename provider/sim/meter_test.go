package sim

import (
	"math"
	"testing"
	"time"
)

// TestMeter: a per-minute desktop bills its product's price per minute while running, nothing while
// stopped; a monthly one is not metered.
func TestMeter(t *testing.T) {
	clock := NewManualClock(time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC))
	s, err := New(Options{Clock: clock, Meter: true})
	if err != nil {
		t.Fatal(err)
	}
	net, _ := s.DefaultNet(SiteSuqianA)
	add := func(name string, monthly bool) string {
		id, err := s.AddDesktop(Desktop{Name: name, SiteID: SiteSuqianA, ProductID: ProductA5000Win, ImageID: ImageWin10,
			VPCID: net.ID, SubnetID: net.Subnets[0].ID, Qos: 5, Status: StatusRunning, Monthly: monthly})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	a, b := add("a", false), add("b", true)
	clock.Advance(90 * time.Minute)
	if err := s.ConsolePower(a, false); err != nil {
		t.Fatal(err)
	}
	clock.Advance(60 * time.Minute) // stopped: not billed
	if err := s.ConsolePower(a, true); err != nil {
		t.Fatal(err)
	}
	clock.Advance(30 * time.Minute)
	bill := s.Bill()
	price := 0.1868333333 // the A5000's requirePrice, CNY per minute
	cases := []struct {
		what      string
		got, want float64
		reason    string
	}{
		{"total", bill.Total, 120 * price, "a ran 90 + 30 minutes; b is monthly"},
		{"a's minutes", bill.Running[a].Minutes(), 120, "the hour stopped is not counted"},
		{"b's minutes", bill.Running[b].Minutes(), 0, "a monthly desktop is not metered"},
	}
	for _, tc := range cases {
		if math.Abs(tc.got-tc.want) > 1e-6 {
			t.Errorf("%s: %s = %v, want %v", tc.reason, tc.what, tc.got, tc.want)
		}
	}
}

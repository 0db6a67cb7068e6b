package engine_test

import (
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/provider"
)

var fpHex16 = regexp.MustCompile(`^[0-9a-f]{16}$`)

func fpDesktop() provider.Desktop {
	exp := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	return provider.Desktop{ID: "9f3c1e2a-0000-4000-8000-000000000001", Name: "render", SiteID: "site-a", ProductID: "prod-a",
		BillMethod: provider.BillMethodMonthly, VpcID: "vpc-a", VpcName: "默认VPC", EIP: "移动:120.226.84.70",
		PrivateIP: "vlan1704:10.1.0.14", PublicIP: "10.3.0.2", BandwidthMbps: 5, AccountName: "alice",
		AccountEmail: "alice@example.com", Label: "team-a",
		ExpireTime: provider.TimeValue{Time: exp, Raw: "2026-12-01T00:00:00.000+0000"},
		Status:     provider.StatusRunning, RawStatus: "using"}
}

func TestFingerprintDesktop(t *testing.T) {
	base := fpDesktop()
	// The fingerprint of a fixed desktop is fixed across runs and machines (plans are saved and applied
	// elsewhere). The constant pins the encoding: if it changes, the "desktop/N" version in
	// fingerprint.go must change too (old plans then read as stale, never wrongly fresh).
	if got, want := engine.FingerprintDesktop(base), "c3e02b3a8812502c"; got != want || !fpHex16.MatchString(got) {
		t.Fatalf("fingerprint %q, want %q (16 stable hex digits)", got, want)
	}
	cases := []struct {
		name    string
		reason  string
		edit    func(d *provider.Desktop)
		changes bool
	}{
		{"stopped", "power state decides power steps, rebuilds and re-binds", func(d *provider.Desktop) {
			d.Status, d.RawStatus = provider.StatusStopped, "stop"
		}, true},
		{"busy", "a busy desktop refuses work: a plan made while it was running is stale", func(d *provider.Desktop) {
			d.Status, d.RawStatus = provider.StatusBusy, "rebooting"
		}, true},
		{"name", "the name is the desktop's identity in the spec", func(d *provider.Desktop) { d.Name = "render-2" }, true},
		{"label", "labels are managed", func(d *provider.Desktop) { d.Label = "tmp" }, true},
		{"account", "bindings are managed", func(d *provider.Desktop) { d.AccountEmail = "bob@example.com" }, true},
		{"unbound", "bindings are managed", func(d *provider.Desktop) { d.AccountEmail = "" }, true},
		{"billing", "billing decides UpdateOrder", func(d *provider.Desktop) { d.BillMethod = provider.BillMethodPerMinute }, true},
		{"renewed", "the term's end decides RenewOrder", func(d *provider.Desktop) {
			d.ExpireTime.Time = d.ExpireTime.Time.AddDate(0, 1, 0)
		}, true},
		{"bandwidth", "the bandwidth is part of what the spec wants", func(d *provider.Desktop) { d.BandwidthMbps = 10 }, true},
		{"product", "the product decides replacement", func(d *provider.Desktop) { d.ProductID = "prod-b" }, true},
		{"unknown raw status", "two statuses this deskfleet does not understand are not the same", func(d *provider.Desktop) {
			d.Status, d.RawStatus = provider.StatusUnknown, "migrating"
		}, true},
		{"addresses", "addresses do not bear on the plan", func(d *provider.Desktop) {
			d.EIP, d.PrivateIP, d.PublicIP = "电信:1.2.3.4", "vlan1:10.0.0.9", "10.2.0.9"
		}, false},
		{"names of others", "the account's and VPC's display names are fingerprinted on the account and the network", func(d *provider.Desktop) {
			d.AccountName, d.VpcName = "Alice", "other"
		}, false},
		{"raw text of a parsed time", "the instant matters, not how the API spelled it", func(d *provider.Desktop) {
			d.ExpireTime.Raw = "2026-12-01 08:00:00"
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := fpDesktop()
			tc.edit(&d)
			if got := engine.FingerprintDesktop(d) != engine.FingerprintDesktop(base); got != tc.changes {
				t.Errorf("%s: fingerprint changed = %v, want %v", tc.reason, got, tc.changes)
			}
		})
	}
	busy1, busy2 := fpDesktop(), fpDesktop()
	busy1.Status, busy1.RawStatus = provider.StatusBusy, "configuring"
	busy2.Status, busy2.RawStatus = provider.StatusBusy, "rebooting"
	if engine.FingerprintDesktop(busy1) != engine.FingerprintDesktop(busy2) {
		t.Error("configuring and rebooting are both busy: the planner decides alike, the fingerprint must not differ")
	}
}

func TestFingerprintAccount(t *testing.T) {
	base := provider.SubAccount{AccountID: "acc-1", Name: "alice", Email: "alice@example.com", Remark: "设计部",
		BindNum: 1, Status: provider.AccountReady}
	cases := []struct {
		name    string
		reason  string
		edit    func(a *provider.SubAccount)
		changes bool
	}{
		{"remark", "remarks are managed", func(a *provider.SubAccount) { a.Remark = "" }, true},
		{"name", "names are managed", func(a *provider.SubAccount) { a.Name = "Alice" }, true},
		{"status", "a binding waits for status create", func(a *provider.SubAccount) { a.Status = provider.AccountCreating }, true},
		{"bind count", "bindings are fingerprinted on the desktops; an unmanaged desktop's binding must not make a plan stale",
			func(a *provider.SubAccount) { a.BindNum = 7 }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := base
			tc.edit(&a)
			if got := engine.FingerprintAccount(a) != engine.FingerprintAccount(base); got != tc.changes {
				t.Errorf("%s: fingerprint changed = %v, want %v", tc.reason, got, tc.changes)
			}
		})
	}
	if !fpHex16.MatchString(engine.FingerprintAccount(base)) {
		t.Error("want 16 hex digits")
	}
}

func fpNetworks() provider.SiteNetworks {
	def := provider.Network{VpcID: "vpc-d", VpcName: "默认VPC", VpcSegment: "10.0.0.0/8",
		Subnets: []provider.NetSegment{
			{ID: "sn-1", Name: "子网1", Type: provider.NetSubnet, Status: "ok", NotUsed: 100, UsedNum: 3},
			{ID: "sn-2", Name: "子网2", Type: provider.NetSubnet, Status: "ok", NotUsed: 50},
		},
		VGateways: []provider.NetSegment{{ID: "gw-1", Name: "电信默认网关", Type: provider.NetVirtualGateway, Status: "ok", ConfID: "10289", ConfName: "电信"}}}
	return provider.SiteNetworks{Default: &def, Custom: []provider.Network{
		{VpcID: "vpc-b", VpcName: "b"}, {VpcID: "vpc-a", VpcName: "a"},
	}}
}

func TestFingerprintNetworks(t *testing.T) {
	base := engine.FingerprintNetworks(fpNetworks())
	cases := []struct {
		name    string
		reason  string
		edit    func(n *provider.SiteNetworks)
		changes bool
	}{
		{"no default", "a missing default network is created by the plan", func(n *provider.SiteNetworks) { n.Default = nil }, true},
		{"subnet status", "a subnet being created cannot take desktops yet", func(n *provider.SiteNetworks) {
			n.Default.Subnets[0].Status = "creating"
		}, true},
		{"gateway gone", "the gateway's line is what CreateVm sends", func(n *provider.SiteNetworks) { n.Default.VGateways = nil }, true},
		{"custom vpc added", "a custom network may be what the spec names", func(n *provider.SiteNetworks) {
			n.Custom = append(n.Custom, provider.Network{VpcID: "vpc-c"})
		}, true},
		{"free addresses", "every created desktop moves the counts; the plan recorded its subnet choice", func(n *provider.SiteNetworks) {
			n.Default.Subnets[0].NotUsed, n.Default.Subnets[0].UsedNum = 99, 4
		}, false},
		{"order", "the API's order of VPCs and subnets does not matter", func(n *provider.SiteNetworks) {
			n.Custom[0], n.Custom[1] = n.Custom[1], n.Custom[0]
			n.Default.Subnets[0], n.Default.Subnets[1] = n.Default.Subnets[1], n.Default.Subnets[0]
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := fpNetworks()
			tc.edit(&n)
			if got := engine.FingerprintNetworks(n) != base; got != tc.changes {
				t.Errorf("%s: fingerprint changed = %v, want %v", tc.reason, got, tc.changes)
			}
		})
	}
	if engine.FingerprintNetworks(provider.SiteNetworks{}) == base || !fpHex16.MatchString(base) {
		t.Error("an empty site must differ from one with networks; want 16 hex digits")
	}
}

func TestFingerprints(t *testing.T) {
	d := fpDesktop()
	a := provider.SubAccount{AccountID: "acc-1", Email: "alice@example.com", Status: provider.AccountReady}
	n := fpNetworks()
	snap := provider.NewSnapshot(time.Now(), []provider.Desktop{d}, []provider.SubAccount{a},
		map[string]provider.SiteNetworks{"site-a": n}, nil)
	want := map[string]string{
		"vm:" + d.ID:                engine.FingerprintDesktop(d),
		"account:alice@example.com": engine.FingerprintAccount(a),
		"net:site-a":                engine.FingerprintNetworks(n),
	}
	if got := engine.Fingerprints(snap); !reflect.DeepEqual(got, want) {
		t.Errorf("Fingerprints = %v, want %v", got, want)
	}
	if got := engine.Fingerprints(nil); got == nil || len(got) != 0 {
		t.Errorf("Fingerprints(nil) = %v, want an empty map", got)
	}
}

func TestStale(t *testing.T) {
	const render, cad, scratch, other = "9f3c1e2a-0000", "19ab0000-0000", "88c20000-0000", "77e10000-0000"
	p := &engine.Plan{
		Observed: map[string]string{
			"vm:" + render:              "aaaa",
			"vm:" + cad:                 "bbbb",
			"vm:" + scratch:             "cccc",
			"account:alice@example.com": "dddd",
			"net:site-a":                "eeee",
		},
		Changes: []engine.Change{
			{Object: engine.ObjectDesktop, Name: "render", ID: render, Action: engine.ActionUpdate, Attribute: "label"},
		},
		Steps: []engine.Step{
			{ID: 1, Op: engine.DeleteDesktop{Desktop: engine.Target{Name: "scratch-9", VmID: scratch}}},
			{ID: 2, Op: engine.CreateDefaultNet{Site: engine.Site{ID: "site-a", Name: "宿迁A"}}},
		},
	}
	cases := []struct {
		name   string
		reason string
		now    map[string]string
		want   []string
	}{
		{"current", "the same fingerprints: nothing moved", map[string]string{
			"vm:" + render: "aaaa", "vm:" + cad: "bbbb", "vm:" + scratch: "cccc",
			"account:alice@example.com": "dddd", "net:site-a": "eeee",
		}, nil},
		{"moved", "changed, vanished and appeared objects, named from the plan where it names them, sorted", map[string]string{
			"vm:" + render: "AAAA", "vm:" + cad: "bbbb", "vm:" + other: "ffff",
			"account:alice@example.com": "dddd", "account:bob@example.com": "gggg", "net:site-a": "EEEE",
		}, []string{
			"account bob@example.com appeared",
			"desktop 77e1… appeared",
			"desktop render (9f3c…) changed",
			"desktop scratch-9 (88c2…) vanished",
			"network at 宿迁A changed",
		}},
		{"all gone", "everything the plan read is gone", map[string]string{}, []string{
			"account alice@example.com vanished",
			"desktop 19ab… vanished",
			"desktop render (9f3c…) vanished",
			"desktop scratch-9 (88c2…) vanished",
			"network at 宿迁A vanished",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := engine.Stale(p, tc.now); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s:\n got %q\nwant %q", tc.reason, got, tc.want)
			}
		})
	}
}

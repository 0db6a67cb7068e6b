package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/deskfleet/deskfleet/provider/sim"
)

func TestReadSites(t *testing.T) {
	e := newReadEnv(t, nil)
	ctx := context.Background()
	cases := []struct {
		reason  string
		want    []string
		sites   []string // ids, in order
		wantErr string
	}{
		{"none named: every site, in the API's order", nil, []string{sim.SiteSuqianA, sim.SiteSuqianB, sim.SiteXiangyang}, ""},
		{"by name and by id, in the order named", []string{"襄阳A", sim.SiteSuqianA}, []string{sim.SiteXiangyang, sim.SiteSuqianA}, ""},
		{"an unknown name lists the sites", []string{"火星A"}, nil, "no site 火星A; sites: 宿迁A, 宿迁B, 襄阳A"},
		{"names are exact, not folded", []string{"宿迁a"}, nil, "no site 宿迁a"},
	}
	for _, c := range cases {
		calls := e.sim.Calls()["QueryProducts"]
		cat, got, err := ReadSites(ctx, e.client, c.want)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: error %v, want %q", c.reason, err, c.wantErr)
			}
			if n := e.sim.Calls()["QueryProducts"]; n != calls {
				t.Errorf("%s: an unknown site is refused before the catalog is read: %d QueryProducts", c.reason, n-calls)
			}
			continue
		}
		if err != nil || len(got) != len(c.sites) || len(cat.Sites) != 3 || len(cat.Products) == 0 || len(cat.Images) == 0 {
			t.Fatalf("%s: %d sites, %v; want %v", c.reason, len(got), err, c.sites)
		}
		for i, s := range got {
			if s.Site.SiteID != c.sites[i] {
				t.Errorf("%s: site %d is %s, want %s", c.reason, i, s.Site.SiteID, c.sites[i])
			}
			// DefaultCatalog: 宿迁A has a default net and a custom VPC, 襄阳A no default net.
			if hasDefault := s.Default != nil; hasDefault != (s.Site.SiteID != sim.SiteXiangyang) {
				t.Errorf("%s: %s has a default net: %v", c.reason, s.Site.SiteName, hasDefault)
			}
			if s.Site.SiteID == sim.SiteSuqianA && len(s.Custom) == 0 {
				t.Errorf("%s: 宿迁A's custom VPC is missing", c.reason)
			}
		}
	}
}

package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/deskfleet/deskfleet/provider"
)

// CatalogSite is one site and its networks: the default one (nil: none yet) and the custom ones.
type CatalogSite struct {
	Site    provider.Site
	Default *provider.Network
	Custom  []provider.Network
}

// ReadSites reads the networks of the catalog's sites named in want (each by its exact name or id, in
// the order named; none: every site, in the API's order): GetDefaultNet and GetCustomNet for each, one
// site after the other. A name no site has is an error listing the sites, before any read; a read's
// error names its site. Reads only.
func (c *Catalog) ReadSites(ctx context.Context, client provider.Client, want []string) ([]CatalogSite, error) {
	sites := c.Sites
	if len(want) > 0 {
		sites = make([]provider.Site, 0, len(want))
		for _, w := range want {
			i := slices.IndexFunc(c.Sites, func(s provider.Site) bool { return s.SiteName == w || s.SiteID == w })
			if i < 0 {
				names := make([]string, len(c.Sites))
				for j, s := range c.Sites {
					names[j] = s.SiteName
				}
				return nil, fmt.Errorf("no site %s; sites: %s", w, strings.Join(names, ", "))
			}
			sites = append(sites, c.Sites[i])
		}
	}
	out := make([]CatalogSite, len(sites))
	for i, s := range sites {
		out[i].Site = s
		var err error
		if out[i].Default, err = client.GetDefaultNet(ctx, provider.GetDefaultNetRequest{SiteID: s.SiteID}); err != nil {
			return nil, fmt.Errorf("site %s: %w", s.SiteName, err)
		}
		if out[i].Custom, err = client.GetCustomNet(ctx, provider.GetCustomNetRequest{SiteID: s.SiteID}); err != nil {
			return nil, fmt.Errorf("site %s: %w", s.SiteName, err)
		}
	}
	return out, nil
}

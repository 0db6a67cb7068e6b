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

// ReadSites reads the catalog as `deskfleet catalog` lists it, one call after the other, so that a
// failure (bad credentials) costs one call: QuerySites; the sites named in want (each by its exact name
// or id, in the order named; none: every site, in the API's order), a name no site has being an error
// listing the sites; QueryImages and QueryProducts (once for every site); then GetDefaultNet and
// GetCustomNet for each site named, whose errors name the site. Reads only.
func ReadSites(ctx context.Context, client provider.Client, want []string) (*Catalog, []CatalogSite, error) {
	all, err := client.QuerySites(ctx, provider.QuerySitesRequest{})
	if err != nil {
		return nil, nil, err
	}
	sites := all
	if len(want) > 0 {
		sites = make([]provider.Site, 0, len(want))
		for _, w := range want {
			i := slices.IndexFunc(all, func(s provider.Site) bool { return s.SiteName == w || s.SiteID == w })
			if i < 0 {
				names := make([]string, len(all))
				for j, s := range all {
					names[j] = s.SiteName
				}
				return nil, nil, fmt.Errorf("no site %s; sites: %s", w, strings.Join(names, ", "))
			}
			sites = append(sites, all[i])
		}
	}
	images, err := client.QueryImages(ctx, provider.QueryImagesRequest{})
	if err != nil {
		return nil, nil, err
	}
	products, err := client.QueryProducts(ctx, provider.QueryProductsRequest{})
	if err != nil {
		return nil, nil, err
	}
	out := make([]CatalogSite, len(sites))
	for i, s := range sites {
		out[i].Site = s
		if out[i].Default, err = client.GetDefaultNet(ctx, provider.GetDefaultNetRequest{SiteID: s.SiteID}); err != nil {
			return nil, nil, fmt.Errorf("site %s: %w", s.SiteName, err)
		}
		if out[i].Custom, err = client.GetCustomNet(ctx, provider.GetCustomNetRequest{SiteID: s.SiteID}); err != nil {
			return nil, nil, fmt.Errorf("site %s: %w", s.SiteName, err)
		}
	}
	return NewCatalog(all, products, images), out, nil
}

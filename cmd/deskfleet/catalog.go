package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine/render"
	"github.com/deskfleet/deskfleet/provider"
)

// catalogCommand lists what a spec can name: sites, products with prices, images and where they can be
// used, and each site's networks. Reads only.
func catalogCommand() *cli.Command {
	return &cli.Command{
		Name:        "catalog",
		Usage:       "list the sites, products, prices, images and networks a spec can name (read-only)",
		UsageText:   "deskfleet catalog [--site NAME]... [--endpoint URL]",
		Description: help("catalog"),
		Flags: append([]cli.Flag{
			&cli.StringSliceFlag{Name: "site", Usage: "only this site (name or id); repeatable"},
		}, apiFlags()...),
		Action: runCatalog,
	}
}

func runCatalog(c *cli.Context) error {
	api, err := openAPI(c)
	if err != nil {
		return err
	}
	defer api.Close()
	ctx, client := c.Context, api.Client

	sites, err := client.QuerySites(ctx, provider.QuerySitesRequest{})
	if err != nil {
		return err
	}
	sites, err = filterSites(sites, c.StringSlice("site"))
	if err != nil {
		return err
	}
	images, err := client.QueryImages(ctx, provider.QueryImagesRequest{})
	if err != nil {
		return err
	}
	// One QueryProducts for every site: each product carries its siteId.
	products, err := client.QueryProducts(ctx, provider.QueryProductsRequest{})
	if err != nil {
		return err
	}
	w := c.App.Writer
	fmt.Fprintf(w, "Catalog of %s: %d sites\n", api.Endpoint, len(sites))
	for _, s := range sites {
		site := render.CatalogSite{Site: s}
		if site.Default, err = client.GetDefaultNet(ctx, provider.GetDefaultNetRequest{SiteID: s.SiteID}); err != nil {
			return fmt.Errorf("site %s: %w", s.SiteName, err)
		}
		if site.Custom, err = client.GetCustomNet(ctx, provider.GetCustomNetRequest{SiteID: s.SiteID}); err != nil {
			return fmt.Errorf("site %s: %w", s.SiteName, err)
		}
		if err := render.Catalog(w, site, products, images); err != nil {
			return err
		}
	}
	return nil
}

// filterSites keeps the sites named (by name or id), in the order named; an unknown name is an error
// listing the sites.
func filterSites(sites []provider.Site, want []string) ([]provider.Site, error) {
	if len(want) == 0 {
		return sites, nil
	}
	out := make([]provider.Site, 0, len(want))
	for _, w := range want {
		i := slices.IndexFunc(sites, func(s provider.Site) bool { return s.SiteName == w || s.SiteID == w })
		if i < 0 {
			names := make([]string, len(sites))
			for j, s := range sites {
				names[j] = s.SiteName
			}
			return nil, fmt.Errorf("no site %s; sites: %s", w, strings.Join(names, ", "))
		}
		out = append(out, sites[i])
	}
	return out, nil
}

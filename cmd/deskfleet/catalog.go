package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine/render"
	"github.com/deskfleet/deskfleet/provider"
)

// catalogCommand lists what a spec can name: sites, products with prices, images and where they can be
// used, and each site's networks. Reads only.
func catalogCommand() *cli.Command {
	return &cli.Command{
		Name:      "catalog",
		Usage:     "list the sites, products, prices, images and networks a spec can name (read-only)",
		UsageText: "deskfleet catalog [--site NAME]... [--endpoint URL]",
		Description: "Reads QuerySites, QueryProducts and QueryImages once, and GetDefaultNet and GetCustomNet per site,\n" +
			"and prints the names to use in a spec's site, product, image and network fields. It changes nothing.\n\n" +
			"Examples:\n" +
			"   deskfleet catalog --endpoint sim                 # the built-in emulator\n" +
			"   deskfleet catalog --site 宿迁A                    # one site, real API (CDS_SECRET_ID/CDS_SECRET_KEY)",
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
	allProducts, err := client.QueryProducts(ctx, provider.QueryProductsRequest{})
	if err != nil {
		return err
	}
	productsAt := map[string][]provider.Product{}
	for _, p := range allProducts {
		productsAt[p.SiteID] = append(productsAt[p.SiteID], p)
	}
	w := c.App.Writer
	fmt.Fprintf(w, "Catalog of %s: %d sites\n", api.Endpoint, len(sites))
	for _, s := range sites {
		def, err := client.GetDefaultNet(ctx, provider.GetDefaultNetRequest{SiteID: s.SiteID})
		if err != nil {
			return fmt.Errorf("site %s: %w", s.SiteName, err)
		}
		custom, err := client.GetCustomNet(ctx, provider.GetCustomNetRequest{SiteID: s.SiteID})
		if err != nil {
			return fmt.Errorf("site %s: %w", s.SiteName, err)
		}
		site := render.CatalogSite{Site: s, Products: productsAt[s.SiteID], Default: def, Custom: custom}
		if err := render.Catalog(w, site, images); err != nil {
			return err
		}
	}
	return nil
}

// filterSites keeps the sites named (by name or id); an unknown name is an error listing the sites.
func filterSites(sites []provider.Site, want []string) ([]provider.Site, error) {
	if len(want) == 0 {
		return sites, nil
	}
	var out []provider.Site
	for _, w := range want {
		found := false
		for _, s := range sites {
			if s.SiteName == w || s.SiteID == w {
				out = append(out, s)
				found = true
				break
			}
		}
		if !found {
			names := make([]string, len(sites))
			for i, s := range sites {
				names[i] = s.SiteName
			}
			return nil, fmt.Errorf("no site %s; sites: %s", w, strings.Join(names, ", "))
		}
	}
	return out, nil
}

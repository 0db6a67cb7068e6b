package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

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
		printSite(w, s, productsAt[s.SiteID], images, def, custom)
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

func printSite(w io.Writer, s provider.Site, products []provider.Product, images []provider.ProductImages,
	def *provider.Network, custom []provider.Network) {
	fmt.Fprintf(w, "\n%s  (%s, %s · id %s)\n", s.SiteName, s.CityName, s.RegionName, s.SiteID)

	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  products\tgpu\tcpu/mem/disk\tos\tper hour\tper month\tid")
	for _, p := range products {
		fmt.Fprintf(tw, "  \t%s %dGB\t%d/%dGB/%dGB\t%s\t¥%.2f\t¥%.2f\t%s\n", p.GPUModel, p.GPURAMGB, p.CPUCores,
			p.MemoryGB, p.SystemDiskGB, p.OS, p.PricePerMinute*60, p.PricePerMonth, p.ProductID)
	}
	tw.Flush()

	usable := map[string]string{} // image name -> status at this site
	for _, pi := range images {
		for _, list := range [][]provider.Image{pi.PublicImages, pi.PrivateImages} {
			for _, im := range list {
				for _, is := range im.Sites {
					if is.SiteID == s.SiteID {
						usable[im.ImageName+" ("+strings.ToLower(im.ImageType)+")"] = string(is.Status)
					}
				}
			}
		}
	}
	names := make([]string, 0, len(usable))
	for n := range usable {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "  images")
	for _, n := range names {
		fmt.Fprintf(w, "    %-13s %s\n", usable[n], n)
	}

	fmt.Fprintln(w, "  networks")
	if def == nil {
		fmt.Fprintln(w, "    default: none yet (a plan creates it with CreateDefaultNet)")
	} else {
		fmt.Fprintf(w, "    default: %s\n", describeNet(*def))
	}
	for _, n := range custom {
		fmt.Fprintf(w, "    custom:  %s\n", describeNet(n))
	}
}

func describeNet(n provider.Network) string {
	subnets := make([]string, len(n.Subnets))
	for i, sn := range n.Subnets {
		subnets[i] = fmt.Sprintf("%s (%d free)", sn.Name, sn.NotUsed)
	}
	gws := make([]string, len(n.VGateways))
	for i, g := range n.VGateways {
		gws[i] = g.ConfName
	}
	gw := "none"
	if len(gws) > 0 {
		gw = strings.Join(gws, ", ")
	}
	sub := "none"
	if len(subnets) > 0 {
		sub = strings.Join(subnets, ", ")
	}
	return fmt.Sprintf("%s · subnets %s · gateways %s", n.VpcName, sub, gw)
}

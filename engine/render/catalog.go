package render

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/provider"
)

// CatalogSite is one site and its networks (engine.ReadSites).
type CatalogSite = engine.CatalogSite

// Catalog writes one site of the catalog: the names a spec's site, product, image and network fields
// take there: its products with their prices, the images present there with their status, its
// networks. products and images are the whole catalog's (QueryProducts and QueryImages for every
// site): those at s.Site are shown.
func Catalog(out io.Writer, s CatalogSite, products []provider.Product, images []provider.ProductImages) error {
	w := &strings.Builder{}
	fmt.Fprintf(w, "\n%s  (%s, %s · id %s)\n", s.Site.SiteName, s.Site.CityName, s.Site.RegionName, s.Site.SiteID)
	tw := newStateTable(w) // aligned by display width: product names can be Chinese
	fmt.Fprintln(tw, "  products\tgpu\tcpu/mem/disk\tos\tper hour\tper month\tid")
	for _, p := range products {
		if p.SiteID != s.Site.SiteID {
			continue
		}
		fmt.Fprintf(tw, "  \t%s %dGB\t%d/%dGB/%dGB\t%s\t¥%.2f\t¥%.2f\t%s\n", p.GPUModel, p.GPURAMGB, p.CPUCores,
			p.MemoryGB, p.SystemDiskGB, p.OS, p.PricePerMinute*60, p.PricePerMonth, p.ProductID)
	}
	tw.Flush()

	usable := imagesAt(s.Site.SiteID, images)
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
	if s.Default == nil {
		fmt.Fprintln(w, "    default: none yet (a plan creates it with CreateDefaultNet)")
	} else {
		fmt.Fprintf(w, "    default: %s\n", networkLine(*s.Default))
	}
	for _, n := range s.Custom {
		fmt.Fprintf(w, "    custom:  %s\n", networkLine(n))
	}
	_, err := io.WriteString(out, w.String())
	return err
}

// imagesAt maps "name (type)" of each image present at site to its status there.
func imagesAt(site string, images []provider.ProductImages) map[string]string {
	usable := map[string]string{}
	for _, pi := range images {
		for _, list := range [][]provider.Image{pi.PublicImages, pi.PrivateImages} {
			for _, im := range list {
				for _, is := range im.Sites {
					if is.SiteID == site {
						usable[im.ImageName+" ("+strings.ToLower(im.ImageType)+")"] = string(is.Status)
					}
				}
			}
		}
	}
	return usable
}

// networkLine is a network's VPC name, subnets (with their free addresses) and gateways.
func networkLine(n provider.Network) string {
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

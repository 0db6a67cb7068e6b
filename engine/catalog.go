package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/spec"
)

// Catalog is what the API offers that a spec can name: the sites, the products of every site, and
// the images with the sites where they are usable and the products they fit. ReadCatalog reads it;
// NewCatalog builds one from data already read. Its fields must not change after the first lookup;
// lookups are safe for concurrent use. Pass a Catalog by pointer.
type Catalog struct {
	// Sites in the API's order (QuerySites).
	Sites []provider.Site
	// Products of every site, in the API's order (QueryProducts); each carries its SiteID.
	Products []provider.Product
	// Images per product (QueryImages without filters, so each image lists every site it is at).
	Images []provider.ProductImages

	once sync.Once
	idx  catalogIndex
}

type catalogIndex struct {
	siteByID   map[string]int
	siteByName map[string]int   // exact name
	siteByFold map[string][]int // lower-cased name
	productsAt map[string][]int // site id -> indexes into Products
	images     []provider.Image // distinct images, in order of first appearance
	imageByID  map[string]int
	// fits maps a product id to the ids of the images QueryImages lists for it; a product missing
	// from it was not described by QueryImages.
	fits map[string]map[string]bool
}

// NewCatalog returns a catalog of the given data (nothing is copied).
func NewCatalog(sites []provider.Site, products []provider.Product, images []provider.ProductImages) *Catalog {
	return &Catalog{Sites: sites, Products: products, Images: images}
}

// ReadCatalog reads the catalog a fleet is resolved against: QuerySites once, QueryProducts once for
// every site (each product carries its siteId), and QueryImages once without filters (one call covers
// every site and product, and lists for each image every site where it is, which the hints about
// unusable images need). The three reads go in parallel. QueryImages is skipped when f has no
// desktops; a nil f reads everything. GetLineBillingScheme is not read: gateways are named by the
// conf_name/conf_id that GetDefaultNet and GetCustomNet already report, and bandwidth is a plain
// Mbps number, so nothing in a spec resolves through the billing schemes.
//
// Reads only; the first error cancels the other reads and is returned, wrapped with the action.
func ReadCatalog(ctx context.Context, c provider.Client, f *spec.Fleet) (*Catalog, error) {
	var (
		sites    []provider.Site
		products []provider.Product
		images   []provider.ProductImages
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		sites, err = c.QuerySites(gctx, provider.QuerySitesRequest{})
		return wrapRead(provider.ActionQuerySites, err)
	})
	g.Go(func() (err error) {
		products, err = c.QueryProducts(gctx, provider.QueryProductsRequest{})
		return wrapRead(provider.ActionQueryProducts, err)
	})
	if f == nil || len(f.Desktops) > 0 {
		g.Go(func() (err error) {
			images, err = c.QueryImages(gctx, provider.QueryImagesRequest{})
			return wrapRead(provider.ActionQueryImages, err)
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return NewCatalog(sites, products, images), nil
}

func wrapRead(a provider.Action, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("reading %s: %w", a, err)
}

func (c *Catalog) index() *catalogIndex {
	c.once.Do(func() {
		x := &c.idx
		x.siteByID = make(map[string]int, len(c.Sites))
		x.siteByName = make(map[string]int, len(c.Sites))
		x.siteByFold = make(map[string][]int, len(c.Sites))
		for i, s := range c.Sites {
			x.siteByID[s.SiteID] = i
			if _, dup := x.siteByName[s.SiteName]; !dup {
				x.siteByName[s.SiteName] = i
			}
			k := strings.ToLower(s.SiteName)
			x.siteByFold[k] = append(x.siteByFold[k], i)
		}
		x.productsAt = map[string][]int{}
		for i, p := range c.Products {
			x.productsAt[p.SiteID] = append(x.productsAt[p.SiteID], i)
		}
		x.imageByID = map[string]int{}
		x.fits = map[string]map[string]bool{}
		for _, pi := range c.Images {
			set := x.fits[pi.ProductID]
			if set == nil {
				set = map[string]bool{}
				x.fits[pi.ProductID] = set
			}
			for _, list := range [][]provider.Image{pi.PublicImages, pi.PrivateImages} {
				for _, im := range list {
					set[im.ImageID] = true
					if _, seen := x.imageByID[im.ImageID]; !seen {
						x.imageByID[im.ImageID] = len(x.images)
						x.images = append(x.images, im)
					}
				}
			}
		}
	})
	return &c.idx
}

// SiteByNameOrID returns the site whose id or name is s: an id first, then an exact name, then a name
// that differs only in case when exactly one site has it.
func (c *Catalog) SiteByNameOrID(s string) (provider.Site, bool) {
	x := c.index()
	if i, ok := x.siteByID[s]; ok {
		return c.Sites[i], true
	}
	if i, ok := x.siteByName[s]; ok {
		return c.Sites[i], true
	}
	if is := x.siteByFold[strings.ToLower(s)]; len(is) == 1 {
		return c.Sites[is[0]], true
	}
	return provider.Site{}, false
}

// SiteNames returns the names of every site, sorted.
func (c *Catalog) SiteNames() []string {
	names := make([]string, len(c.Sites))
	for i, s := range c.Sites {
		names[i] = s.SiteName
	}
	slices.Sort(names)
	return names
}

// SiteIDs returns the ids of the sites f's desktops are at, resolved by SiteByNameOrID, sorted and
// without duplicates; a site the catalog does not know is skipped (Resolve reports it).
func (c *Catalog) SiteIDs(f *spec.Fleet) []string {
	if f == nil {
		return nil
	}
	seen := map[string]bool{}
	var ids []string
	for _, d := range f.Desktops {
		if seen["name:"+d.Site] {
			continue
		}
		seen["name:"+d.Site] = true
		s, ok := c.SiteByNameOrID(d.Site)
		if !ok || seen[s.SiteID] {
			continue
		}
		seen[s.SiteID] = true
		ids = append(ids, s.SiteID)
	}
	slices.Sort(ids)
	return ids
}

// ProductsAt returns the products offered at a site, in the API's order.
func (c *Catalog) ProductsAt(siteID string) []provider.Product {
	x := c.index()
	out := make([]provider.Product, 0, len(x.productsAt[siteID]))
	for _, i := range x.productsAt[siteID] {
		out = append(out, c.Products[i])
	}
	return out
}

// ProductSites returns the ids of the sites that offer a product id, in the API's order.
func (c *Catalog) ProductSites(productID string) []string {
	var out []string
	for _, p := range c.Products {
		if p.ProductID == productID && !slices.Contains(out, p.SiteID) {
			out = append(out, p.SiteID)
		}
	}
	return out
}

// ImagesAt returns the distinct images usable (Available or Using) at a site, in the API's order.
func (c *Catalog) ImagesAt(siteID string) []provider.Image {
	var out []provider.Image
	for _, im := range c.index().images {
		if im.UsableAt(siteID) {
			out = append(out, im)
		}
	}
	return out
}

// ImagesNamed returns the images whose id is s, else those whose name is s exactly, else those whose
// name differs from s only in case. Several images may share a name.
func (c *Catalog) ImagesNamed(s string) []provider.Image {
	x := c.index()
	if i, ok := x.imageByID[s]; ok {
		return []provider.Image{x.images[i]}
	}
	var exact, folded []provider.Image
	for _, im := range x.images {
		switch {
		case im.ImageName == s:
			exact = append(exact, im)
		case strings.EqualFold(im.ImageName, s):
			folded = append(folded, im)
		}
	}
	if len(exact) > 0 {
		return exact
	}
	return folded
}

// ImageFits reports whether QueryImages lists the image for the product. A product that QueryImages
// did not describe at all fits every image: the catalog cannot tell, and CreateVm will.
func (c *Catalog) ImageFits(imageID, productID string) bool {
	set, ok := c.index().fits[productID]
	return !ok || set[imageID]
}

// siteName returns the name of a site id, or the id when the catalog does not know it.
func (c *Catalog) siteName(id string) string {
	if i, ok := c.index().siteByID[id]; ok {
		return c.Sites[i].SiteName
	}
	return id
}

// ImageByID returns the image with this id.
func (c *Catalog) ImageByID(id string) (provider.Image, bool) {
	idx := c.index()
	i, ok := idx.imageByID[id]
	if !ok {
		return provider.Image{}, false
	}
	return idx.images[i], true
}

// ProductByID returns the product with this id (at any site: a product's description is the same at
// every site that offers it).
func (c *Catalog) ProductByID(id string) (provider.Product, bool) {
	for _, p := range c.Products {
		if p.ProductID == id {
			return p, true
		}
	}
	return provider.Product{}, false
}

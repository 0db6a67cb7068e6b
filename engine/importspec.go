package engine

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/spec"
)

// ImportOptions say which live desktops Import describes and how the spec is named.
type ImportOptions struct {
	// Fleet is the spec's fleet name (required).
	Fleet string
	// Sites, when not empty, keep the desktops at one of these sites (site names or ids).
	Sites []string
	// NamePrefix, when not empty, keeps the desktops whose name starts with it.
	NamePrefix string
	// Label, when not nil, keeps the desktops whose label is exactly this.
	Label *string
	// Now is written in the spec's header comment.
	Now time.Time
}

// Imported is what Import made: the spec and what it describes.
type Imported struct {
	// YAML is the spec: one document, valid for `deskfleet validate`.
	YAML []byte
	// Desktops are the live desktops the spec describes, in spec order; Accounts the sub-accounts
	// bound to them, by email.
	Desktops []provider.Desktop
	Accounts []provider.SubAccount
	// Images maps a desktop's id to the image written for it; ImageSure says, by id, whether that image
	// is the only one usable at its site for its product (QueryVm does not report the image, so
	// otherwise it is a guess).
	Images    map[string]Image
	ImageSure map[string]bool
	// BindingsSet is true when the spec has a bindings key (some imported desktop is bound).
	BindingsSet bool
	// Warnings are for people (stderr): guessed images, skipped desktops.
	Warnings []string
}

// Import describes live desktops and the sub-accounts bound to them as a spec (a pure function of the
// catalog and the snapshot, which must hold the networks of the desktops' sites).
//
// Contract:
//   - Desktops in StatusGone are left out, and so are desktops whose name another live desktop also
//     has (a spec cannot tell them apart; a warning names them). The filters apply to desktops;
//     accounts are those bound to the kept desktops.
//   - Desktops that share a profile (site, product, image, network, bandwidth, billing) and a label
//     and are named name, name_001, name_002, ... in sequence make one group with count; any other
//     desktop is a group of its own. Every group has protect: true: an imported desktop is never
//     deleted, replaced or rebuilt until someone lifts it.
//   - The product is a selector (gpu and os, more fields when needed) when it matches exactly one
//     product at the site, else the productId. The image, which QueryVm does not report, is the only
//     image usable at the site that QueryImages lists for the product; when there are several, the
//     first (in QueryImages' order) with a "# TODO: check the image" comment and a warning.
//   - Labels are written (so they are managed), power is not (not enforced), monthly desktops get a
//     billing plan `monthly` (cycle month, 1 month, autoRenew false: QueryVm does not report it), and
//     bindings are written when a kept desktop is bound (they are then authoritative).
//   - The spec planned against the same live state gives no change but adoptions; the result is
//     checked by parsing it again (an error here is a bug).
func Import(cat *Catalog, snap *provider.Snapshot, opt ImportOptions) (*Imported, error) {
	if opt.Fleet == "" {
		return nil, fmt.Errorf("the fleet's name is required")
	}
	im := &importer{cat: cat, snap: snap, opt: opt, out: &Imported{Images: map[string]Image{}, ImageSure: map[string]bool{}}}
	desks, err := im.filter()
	if err != nil {
		return nil, err
	}
	im.group(desks)
	b := im.write()
	im.out.YAML = b
	if _, diags := spec.Parse("import.yaml", b); diags.HasErrors() {
		return nil, fmt.Errorf("the imported spec does not parse (a bug): %v", diags.Err())
	}
	return im.out, nil
}

type importer struct {
	cat  *Catalog
	snap *provider.Snapshot
	opt  ImportOptions
	out  *Imported

	groups   []importGroup
	profiles []importProfile
	monthly  bool
}

type importProfile struct {
	name      string
	product   string // YAML of the product: a flow mapping or a quoted id
	prodNote  string
	image     string
	imageNote string
}

type importGroup struct {
	name    string
	desks   []provider.Desktop
	site    string
	profile string
	network string // vpc name or id; "" for the default
	bw      int
	monthly bool
	label   string
}

// filter keeps the desktops the options select, sorted by name.
func (im *importer) filter() ([]provider.Desktop, error) {
	sites := map[string]bool{}
	for _, s := range im.opt.Sites {
		site, ok := im.cat.SiteByNameOrID(s)
		if !ok {
			return nil, fmt.Errorf("no site %q; the sites are %s", s, strings.Join(im.cat.SiteNames(), ", "))
		}
		sites[site.SiteID] = true
	}
	count := map[string]int{}
	for _, d := range im.snap.Desktops {
		if d.Status != provider.StatusGone {
			count[d.Name]++
		}
	}
	var out []provider.Desktop
	dup := map[string]bool{}
	for _, d := range im.snap.Desktops {
		switch {
		case d.Status == provider.StatusGone,
			len(sites) > 0 && !sites[d.SiteID],
			!strings.HasPrefix(d.Name, im.opt.NamePrefix),
			im.opt.Label != nil && d.Label != *im.opt.Label:
			continue
		case count[d.Name] > 1:
			if !dup[d.Name] {
				dup[d.Name] = true
				im.out.Warnings = append(im.out.Warnings, fmt.Sprintf("%d live desktops are named %q: left out (a spec cannot tell them apart; rename one)", count[d.Name], d.Name))
			}
			continue
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// profileKey is what desktops of one group share besides their label.
func (im *importer) groupKey(d provider.Desktop) string {
	return fmt.Sprintf("%s|%s|%s|%d|%d|%q", d.SiteID, d.ProductID, im.network(d), d.BandwidthMbps, d.BillMethod, d.Label)
}

// network is the spec's vpc for the desktop: "" for its site's default network, else the custom
// VPC's name (its id when the name is not unique at the site).
func (im *importer) network(d provider.Desktop) string {
	nets, _ := im.snap.SiteNetworks(d.SiteID)
	if d.VpcID == "" || (nets.Default != nil && nets.Default.VpcID == d.VpcID) {
		return ""
	}
	n := 0
	for _, c := range nets.Custom {
		if c.VpcName == d.VpcName {
			n++
		}
	}
	if n == 1 && d.VpcName != "" && d.VpcName != spec.DefaultVPC {
		return d.VpcName
	}
	return d.VpcID
}

// group makes the groups: runs of name, name_001, ... that share a key; everything else alone.
func (im *importer) group(desks []provider.Desktop) {
	byName := map[string]provider.Desktop{}
	for _, d := range desks {
		byName[d.Name] = d
	}
	taken := map[string]bool{}
	for _, d := range desks {
		if taken[d.ID] {
			continue
		}
		g := importGroup{name: d.Name, desks: []provider.Desktop{d}}
		taken[d.ID] = true
		key := im.groupKey(d)
		for i := 1; i < spec.MaxCount; i++ {
			next, ok := byName[spec.DesktopName(d.Name, i)]
			if !ok || taken[next.ID] || im.groupKey(next) != key {
				break
			}
			g.desks = append(g.desks, next)
			taken[next.ID] = true
		}
		im.groups = append(im.groups, g)
	}
	// Spec order: by site, then name (desks are sorted by name).
	for i := range im.groups {
		g := &im.groups[i]
		d := g.desks[0]
		g.site = im.siteRef(d.SiteID)
		g.network = im.network(d)
		g.bw = d.BandwidthMbps
		g.monthly = d.BillMethod == provider.BillMethodMonthly
		g.label = d.Label
		im.monthly = im.monthly || g.monthly
		g.profile = im.profile(d)
		for _, x := range g.desks {
			im.out.Desktops = append(im.out.Desktops, x)
		}
	}
	for _, x := range im.out.Desktops {
		im.out.Images[x.ID], im.out.ImageSure[x.ID] = im.image(x)
	}
}

// siteRef is the site's name when it finds the site, else its id.
func (im *importer) siteRef(id string) string {
	if s, ok := im.cat.SiteByNameOrID(id); ok {
		if back, ok := im.cat.SiteByNameOrID(s.SiteName); ok && back.SiteID == id {
			return s.SiteName
		}
	}
	return id
}

// image chooses the image of a desktop: the only one usable at its site for its product, else the
// first (sure false).
func (im *importer) image(d provider.Desktop) (Image, bool) {
	var fit []provider.Image
	for _, x := range im.cat.ImagesAt(d.SiteID) {
		if im.cat.ImageFits(x.ImageID, d.ProductID) {
			fit = append(fit, x)
		}
	}
	if len(fit) == 0 {
		return Image{}, false
	}
	return Image{ID: fit[0].ImageID, Name: fit[0].ImageName}, len(fit) == 1
}

// imageRef is how the spec names an image: by name when the name picks it alone at the site for the
// product, else by id.
func (im *importer) imageRef(d provider.Desktop, img Image) string {
	n := 0
	for _, x := range im.cat.ImagesAt(d.SiteID) {
		if x.ImageName == img.Name && im.cat.ImageFits(x.ImageID, d.ProductID) {
			n++
		}
	}
	if n == 1 && img.Name != "" {
		return img.Name
	}
	return img.ID
}

// productRef is how the spec names a desktop's product: a selector matching it alone at the site,
// else its id.
func (im *importer) productRef(d provider.Desktop) (string, string) {
	p, ok := im.cat.ProductByID(d.ProductID)
	if !ok {
		return yq(d.ProductID), "not in the catalog"
	}
	note := productLabel(p)
	at := im.cat.ProductsAt(d.SiteID)
	try := func(sel spec.Product, text string) (string, bool) {
		n := 0
		for _, q := range at {
			if selects(sel, q) {
				n++
			}
		}
		return text, n == 1
	}
	if p.GPUModel != "" && p.OS != "" {
		if s, ok := try(spec.Product{GPU: p.GPUModel, OS: p.OS}, fmt.Sprintf("{gpu: %s, os: %s}", yq(p.GPUModel), yq(p.OS))); ok {
			return s, ""
		}
		sel := spec.Product{GPU: p.GPUModel, OS: p.OS, GPURam: &p.GPURAMGB, CPU: &p.CPUCores, Memory: &p.MemoryGB, Disk: &p.SystemDiskGB}
		if p.GPURAMGB > 0 && p.CPUCores > 0 && p.MemoryGB > 0 && p.SystemDiskGB > 0 {
			if s, ok := try(sel, fmt.Sprintf("{gpu: %s, os: %s, gpuRam: %d, cpu: %d, memory: %d, disk: %d}", yq(p.GPUModel), yq(p.OS),
				p.GPURAMGB, p.CPUCores, p.MemoryGB, p.SystemDiskGB)); ok {
				return s, ""
			}
		}
	}
	return yq(d.ProductID), note
}

// profile returns the name of the profile for the desktop's product and image, made on first use.
func (im *importer) profile(d provider.Desktop) string {
	prod, prodNote := im.productRef(d)
	img, sure := im.image(d)
	imgRef, imgNote := yq(im.imageRef(d, img)), ""
	if img.ID == "" {
		imgRef, imgNote = "TODO", "TODO: no image is usable here for this product; set one"
	} else if !sure {
		imgNote = "TODO: check the image (QueryVm does not report it; this is the first usable one)"
	}
	for i := range im.profiles {
		p := &im.profiles[i]
		if p.product == prod && p.image == imgRef {
			// Sure at one site, a guess at another: the guess wins, so the spec says to check it.
			if imgNote != "" && p.imageNote == "" {
				p.imageNote = imgNote
				im.out.Warnings = append(im.out.Warnings, fmt.Sprintf("profile %s (%s at %s): %s", p.name, d.Name, im.siteRef(d.SiteID), imgNote))
			}
			return p.name
		}
	}
	base := "p"
	if p, ok := im.cat.ProductByID(d.ProductID); ok {
		base = slug(strings.TrimPrefix(p.GPUModel, "NVIDIA ") + "-" + p.OS)
	}
	name := base
	for i := 2; slices.ContainsFunc(im.profiles, func(p importProfile) bool { return p.name == name }); i++ {
		name = fmt.Sprintf("%s-%d", base, i)
	}
	im.profiles = append(im.profiles, importProfile{name: name, product: prod, prodNote: prodNote, image: imgRef, imageNote: imgNote})
	if imgNote != "" {
		im.out.Warnings = append(im.out.Warnings, fmt.Sprintf("profile %s (%s at %s): %s", name, d.Name, im.siteRef(d.SiteID), imgNote))
	}
	return name
}

var slugRe = regexp.MustCompile(`[^a-z0-9]+`)

func slug(s string) string {
	s = strings.Trim(slugRe.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if s == "" {
		return "p"
	}
	return s
}

// write renders the spec.
func (im *importer) write() []byte {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Written by deskfleet import from the live account")
	if !im.opt.Now.IsZero() {
		w(" on %s", im.opt.Now.UTC().Format("2006-01-02 15:04 UTC"))
	}
	w(".\n# Every group is protected (never deleted, replaced or rebuilt); set protect: false to lift it.\n")
	w("version: 1\nfleet: %s\n", yq(im.opt.Fleet))
	if im.monthly {
		w("billing:\n  # QueryVm does not report auto-renewal: set autoRenew to what the desktops should do.\n")
		w("  monthly: {cycle: month, months: 1, autoRenew: false}\n")
	}
	if len(im.profiles) > 0 {
		w("profiles:\n")
		for _, p := range im.profiles {
			w("  %s:\n    product: %s", yq(p.name), p.product)
			if p.prodNote != "" {
				w("  # %s", p.prodNote)
			}
			w("\n    image: %s", p.image)
			if p.imageNote != "" {
				w("  # %s", p.imageNote)
			}
			w("\n")
		}
	}
	// Accounts bound to the kept desktops, by email.
	bound := map[string]bool{}
	bindings := map[string]string{}
	for _, d := range im.out.Desktops {
		if d.AccountEmail != "" {
			bound[d.AccountEmail] = true
			bindings[d.Name] = d.AccountEmail
		}
	}
	var emails []string
	for e := range bound {
		emails = append(emails, e)
	}
	sort.Strings(emails)
	if len(emails) > 0 {
		w("accounts:\n")
		for _, e := range emails {
			a, ok := im.snap.AccountByEmail(e)
			if !ok {
				a = provider.SubAccount{Email: e, Name: strings.Split(e, "@")[0]}
			}
			name := a.Name
			if name == "" {
				name = strings.Split(e, "@")[0]
			}
			w("  - {email: %s, name: %s", yq(e), yq(name))
			if a.Remark != "" {
				w(", remark: %s", yq(a.Remark))
			}
			w("}\n")
			im.out.Accounts = append(im.out.Accounts, a)
		}
	}
	if len(im.groups) > 0 {
		w("desktops:\n")
	}
	for _, g := range im.groups {
		w("  - name: %s\n", yq(g.name))
		if len(g.desks) > 1 {
			w("    count: %d\n", len(g.desks))
		}
		w("    site: %s\n    profile: %s\n", yq(g.site), yq(g.profile))
		if g.network != "" {
			w("    network: {vpc: %s}\n", yq(g.network))
		}
		w("    bandwidth: %d\n", g.bw)
		if g.monthly {
			w("    billing: monthly\n")
		}
		w("    label: %s\n    protect: true\n", yq(g.label))
	}
	if len(bindings) > 0 {
		im.out.BindingsSet = true
		w("bindings:\n")
		for _, d := range im.out.Desktops {
			if e, ok := bindings[d.Name]; ok {
				w("  %s: %s\n", yq(d.Name), yq(e))
			}
		}
	}
	return []byte(b.String())
}

var plainRe = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N}_.@/-]*$`)

// yq writes s as a YAML scalar that reads back as the string s: plain when that is safe, else
// double-quoted (a JSON string is a valid YAML double-quoted scalar).
func yq(s string) string {
	special := map[string]bool{"true": true, "false": true, "yes": true, "no": true, "on": true, "off": true,
		"null": true, "y": true, "n": true}
	if plainRe.MatchString(s) && !special[strings.ToLower(s)] {
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return s
		}
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

package engine

import (
	"bytes"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

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
	product   spec.Product // a selector or an id
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
		im.out.Desktops = append(im.out.Desktops, g.desks...)
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
// else its id; the note says why it is an id, when it is one for a reason worth a comment.
func (im *importer) productRef(d provider.Desktop) (spec.Product, string) {
	p, ok := im.cat.ProductByID(d.ProductID)
	if !ok {
		return spec.Product{ID: d.ProductID}, "not in the catalog"
	}
	note := productLabel(p)
	at := im.cat.ProductsAt(d.SiteID)
	alone := func(sel spec.Product) bool {
		n := 0
		for _, q := range at {
			if selects(sel, q) {
				n++
			}
		}
		return n == 1
	}
	if p.GPUModel != "" && p.OS != "" {
		if sel := (spec.Product{GPU: p.GPUModel, OS: p.OS}); alone(sel) {
			return sel, ""
		}
		sel := spec.Product{GPU: p.GPUModel, OS: p.OS, GPURam: &p.GPURAMGB, CPU: &p.CPUCores, Memory: &p.MemoryGB, Disk: &p.SystemDiskGB}
		if p.GPURAMGB > 0 && p.CPUCores > 0 && p.MemoryGB > 0 && p.SystemDiskGB > 0 && alone(sel) {
			return sel, ""
		}
	}
	return spec.Product{ID: d.ProductID}, note
}

// profile returns the name of the profile for the desktop's product and image, made on first use.
func (im *importer) profile(d provider.Desktop) string {
	prod, prodNote := im.productRef(d)
	img, sure := im.image(d)
	imgRef, imgNote := im.imageRef(d, img), ""
	if img.ID == "" {
		imgRef, imgNote = "TODO", "TODO: no image is usable here for this product; set one"
	} else if !sure {
		imgNote = "TODO: check the image (QueryVm does not report it; this is the first usable one)"
	}
	for i := range im.profiles {
		p := &im.profiles[i]
		if p.product.String() == prod.String() && p.image == imgRef {
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

// write renders the spec: the spec.Document the import describes, encoded by yaml.v3 from the spec
// types (so every key is the types' own), with the comments a person needs (see addComments).
func (im *importer) write() []byte {
	doc, bindOrder := im.document()
	var root yaml.Node
	if err := root.Encode(doc); err != nil {
		panic(fmt.Sprintf("encoding the imported spec: %v", err)) // only Go values of the spec types: a bug
	}
	notes := im.addComments(&root, bindOrder)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		panic(fmt.Sprintf("encoding the imported spec: %v", err))
	}
	_ = enc.Close()
	out := b.Bytes()
	// yaml.v3 puts one space before a line comment; two set them apart from the value.
	for _, n := range notes {
		out = bytes.ReplaceAll(out, []byte(" # "+n+"\n"), []byte("  # "+n+"\n"))
	}
	return out
}

// monthlyPlan is the name of the billing plan of imported monthly desktops.
const monthlyPlan = "monthly"

// document is the spec of the import as spec types, and the order of the bound desktops.
func (im *importer) document() (spec.Document, []string) {
	doc := spec.Document{Version: 1, Fleet: im.opt.Fleet}
	if im.monthly {
		one := 1
		doc.Billing = map[string]spec.BillingPlan{monthlyPlan: {Cycle: spec.CycleMonth, Months: &one}}
	}
	if len(im.profiles) > 0 {
		doc.Profiles = map[string]spec.Profile{}
	}
	for _, p := range im.profiles {
		prod := p.product
		doc.Profiles[p.name] = spec.Profile{Product: &prod, Image: p.image}
	}
	// Accounts bound to the kept desktops, by email.
	var bindOrder []string
	bound := map[string]bool{}
	for _, d := range im.out.Desktops {
		if d.AccountEmail != "" {
			if doc.Bindings == nil {
				doc.Bindings = map[string]string{}
			}
			bound[d.AccountEmail] = true
			doc.Bindings[d.Name] = d.AccountEmail
			bindOrder = append(bindOrder, d.Name)
		}
	}
	emails := slices.Sorted(maps.Keys(bound))
	for _, e := range emails {
		a, ok := im.snap.AccountByEmail(e)
		if !ok {
			a = provider.SubAccount{Email: e, Name: strings.Split(e, "@")[0]}
		}
		acc := spec.Account{Email: e, Name: a.Name}
		if acc.Name == "" {
			acc.Name = strings.Split(e, "@")[0]
		}
		if a.Remark != "" {
			acc.Remark = &a.Remark
		}
		doc.Accounts = append(doc.Accounts, acc)
		im.out.Accounts = append(im.out.Accounts, a)
	}
	yes := true
	for _, g := range im.groups {
		sg := spec.Group{Name: g.name, Site: g.site, Profile: g.profile, Label: &g.label, Protect: &yes}
		if len(g.desks) > 1 {
			n := len(g.desks)
			sg.Count = &n
		}
		if g.network != "" {
			sg.Network = &spec.Network{VPC: g.network}
		}
		bw := g.bw
		sg.Bandwidth = &bw
		if g.monthly {
			sg.Billing = monthlyPlan
		}
		doc.Desktops = append(doc.Desktops, sg)
	}
	im.out.BindingsSet = len(doc.Bindings) > 0
	return doc, bindOrder
}

// addComments adds the header and the notes to the encoded spec, writes the small mappings (a plan,
// a product selector, an account, a network) in flow style, states autoRenew: false (QueryVm does not
// report it, so the spec says what it assumes) and puts the bindings in spec order. It returns the
// line comments added.
func (im *importer) addComments(root *yaml.Node, bindOrder []string) []string {
	var notes []string
	header := "Written by deskfleet import from the live account"
	if !im.opt.Now.IsZero() {
		header += " on " + im.opt.Now.UTC().Format("2006-01-02 15:04 UTC")
	}
	header += fmt.Sprintf(".\nEvery group is protected (never deleted, replaced or rebuilt); set %s: false to lift it.",
		yamlKey[spec.Group]("Protect"))
	root.Content[0].HeadComment = header
	if plans := mapValue(root, yamlKey[spec.Document]("Billing")); plans != nil {
		for i := 0; i+1 < len(plans.Content); i += 2 {
			renew := yamlKey[spec.BillingPlan]("AutoRenew")
			plans.Content[i].HeadComment = "QueryVm does not report auto-renewal: set " + renew + " to what the desktops should do."
			plan := plans.Content[i+1]
			if mapValue(plan, renew) == nil {
				plan.Content = append(plan.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: renew},
					&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "false"})
			}
			flowIfShort(plan, 2+len(plans.Content[i].Value)+2)
		}
	}
	if profiles := mapValue(root, yamlKey[spec.Document]("Profiles")); profiles != nil {
		for _, p := range im.profiles {
			prof := mapValue(profiles, p.name)
			if prod := mapValue(prof, yamlKey[spec.Profile]("Product")); prod != nil {
				flowIfShort(prod, 4+len(yamlKey[spec.Profile]("Product"))+2)
				prod.LineComment, notes = note(p.prodNote, notes)
			}
			if img := mapValue(prof, yamlKey[spec.Profile]("Image")); img != nil {
				img.LineComment, notes = note(p.imageNote, notes)
			}
		}
	}
	if accounts := mapValue(root, yamlKey[spec.Document]("Accounts")); accounts != nil {
		for _, a := range accounts.Content {
			flowIfShort(a, 4)
		}
	}
	if groups := mapValue(root, yamlKey[spec.Document]("Desktops")); groups != nil {
		for _, g := range groups.Content {
			if nw := mapValue(g, yamlKey[spec.Group]("Network")); nw != nil {
				flowIfShort(nw, 4+len(yamlKey[spec.Group]("Network"))+2)
			}
		}
	}
	if b := mapValue(root, yamlKey[spec.Document]("Bindings")); b != nil {
		ordered := make([]*yaml.Node, 0, len(b.Content))
		for _, desk := range bindOrder {
			for i := 0; i+1 < len(b.Content); i += 2 {
				if b.Content[i].Value == desk {
					ordered = append(ordered, b.Content[i], b.Content[i+1])
				}
			}
		}
		b.Content = ordered
	}
	return notes
}

// note returns the line comment for a note ("" for none) and the notes with it added.
func note(text string, notes []string) (string, []string) {
	if text == "" {
		return "", notes
	}
	return "# " + text, append(notes, text)
}

// flowIfShort writes a mapping of scalars in flow style ({a: 1, b: 2}) when it fits on its line,
// starting at column col: yaml.v3 breaks lines past 80 columns, which a flow mapping would make hard
// to read.
func flowIfShort(m *yaml.Node, col int) {
	if m.Kind != yaml.MappingNode {
		return
	}
	width := col + 2
	for _, n := range m.Content {
		if n.Kind != yaml.ScalarNode {
			return
		}
		width += len([]rune(n.Value)) + 4 // ": " or ", ", and room for quotes
	}
	if width <= 80 {
		m.Style = yaml.FlowStyle
	}
}

// mapValue returns the value of key in the mapping node m; nil when m is nil, not a mapping or has no
// such key.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// yamlKey returns the spec key of a field of a spec type, from its yaml struct tag: the import names
// keys only through the spec types. It panics on a field with no key (a bug, found by the tests).
func yamlKey[T any](field string) string {
	f, ok := reflect.TypeFor[T]().FieldByName(field)
	key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if !ok || key == "" || key == "-" {
		panic(fmt.Sprintf("%v.%s has no yaml key", reflect.TypeFor[T](), field))
	}
	return key
}

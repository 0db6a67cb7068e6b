package engine

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/spec"
)

// Resolve maps a loaded spec to the API's ids: for every desktop its site, its one product, its
// image, its network, and its billing, label, power and protection; the accounts; the bindings.
// It is a pure function (no I/O): cat and snap were read before (ReadCatalog, Observe; snap needs the
// networks of cat.SiteIDs(f) and the accounts, not the desktops).
//
// The rules (docs/spec.md):
//   - site: a siteId or siteName (case-insensitive when unambiguous).
//   - product: a productId offered at the site, or a selector (gpu, gpuRam, cpu, memory, disk, os;
//     strings compared case-insensitively) that must match exactly one of the site's products.
//   - image: an imageId or imageName that is Available or Using at the site and that QueryImages
//     lists for the product.
//   - network vpc "default": the site's default network; none yet: Fix NetCreate; no subnet, or a
//     gateway named where the net has none: Fix NetSupply (SupplyDefaultNet adds both). Otherwise the
//     subnet named (name or id), else the one with the most free addresses; the gateway named
//     (conf_name, conf_id or id), else the first one, else none. Any other vpc is a vpcName or vpcId
//     among the site's custom networks, which must have the subnet and gateway named.
//   - billing: the plan's cycle and, for month, its terms (months default 1).
//   - bindings: each email must be an account of the spec or a live one (snap.Accounts).
//
// Every problem is a spec.Diagnostic (Error) at the position the offending value came from, naming
// what was not found and, in its Hint, the candidates. A problem shared by many desktops (a group,
// or every group inheriting one default) is reported once. Desktops that failed to resolve are left
// out of Desired; everything else is resolved, so one run reports every problem. The diagnostics are
// sorted by position. Desired.SpecDigest is left for the caller to set.
func Resolve(f *spec.Fleet, cat *Catalog, snap *provider.Snapshot) (*Desired, spec.Diagnostics) {
	if snap == nil {
		snap = &provider.Snapshot{}
	}
	r := &resolver{cat: cat, snap: snap, reported: map[spec.Diagnostic]bool{}, placed: map[placeKey]placement{}}
	out := &Desired{Fleet: f.Name, BindingsSet: f.Bindings.Set, Catalog: cat,
		Desktops: make([]DesiredDesktop, 0, len(f.Desktops))}
	for _, d := range f.Desktops {
		p := r.place(d)
		billing, billOK := r.billing(d)
		power, powerOK := r.power(d)
		if !p.ok || !billOK || !powerOK {
			continue
		}
		bw := d.Bandwidth
		if bw == 0 {
			bw = spec.DefaultBandwidth
		}
		var label *string
		if d.Label != nil {
			label = new(*d.Label)
		}
		out.Desktops = append(out.Desktops, DesiredDesktop{
			Name: d.Name, Group: d.Group, Site: p.site, Product: p.product, Image: p.image, Network: p.net,
			Bandwidth: bw, Billing: billing, Label: label, Power: power, Protect: d.Protect,
			RenamedFrom: d.RenamedFrom, Schedule: d.Schedule, Held: d.Held, Pos: d.Pos,
		})
	}
	for _, a := range f.Accounts {
		var remark *string
		if a.Remark != nil {
			remark = new(*a.Remark)
		}
		out.Accounts = append(out.Accounts, DesiredAccount{Email: a.Email, Name: a.Name, Remark: remark, Pos: a.Pos})
	}
	if f.Bindings.Set {
		out.Bindings = maps.Clone(f.Bindings.ByDesktop)
		if out.Bindings == nil {
			out.Bindings = map[string]string{}
		}
		r.checkBindings(f)
	}
	r.diags.Sort()
	return out, r.diags
}

// powerAction maps a spec power state to OperateVm's action; ok is false for a value the spec does
// not define.
func powerAction(p spec.Power) (provider.PowerAction, bool) {
	switch p {
	case spec.PowerOn:
		return provider.PowerOn, true
	case spec.PowerOff:
		return provider.PowerOff, true
	}
	return "", false
}

// billingOf maps a spec billing plan to its resolved form; ok is false for an unknown cycle. An empty
// cycle is the built-in per-minute plan.
func billingOf(p spec.BillingPlan) (Billing, bool) {
	switch p.Cycle {
	case spec.CycleMinute, "":
		return Billing{Plan: p.Name, Cycle: provider.BillCyclePerMinute}, true
	case spec.CycleMonth:
		return Billing{Plan: p.Name, Cycle: provider.BillCycleMonthly, Months: p.MonthsOrDefault(),
			ToMonthEnd: p.ToMonthEnd, FullMonthPrice: p.FullMonthPrice, AutoRenew: p.AutoRenew,
			RenewWithin: p.RenewWithinDuration, LetExpireOn: p.LetExpireOnDate}, true
	}
	return Billing{}, false
}

// resolver holds one Resolve's inputs, its memo of placements and the diagnostics so far.
type resolver struct {
	cat      *Catalog
	snap     *provider.Snapshot
	diags    spec.Diagnostics
	reported map[spec.Diagnostic]bool
	placed   map[placeKey]placement
}

// errorf records an error once: the same message at the same place (many desktops of a group, many
// groups sharing a default) is one problem.
func (r *resolver) errorf(p spec.Pos, hint, format string, args ...any) {
	d := spec.Diagnostic{Pos: p, Severity: spec.Error, Message: fmt.Sprintf(format, args...), Hint: hint}
	if r.reported[d] {
		return
	}
	r.reported[d] = true
	r.diags = append(r.diags, d)
}

// placeKey is everything a placement depends on, positions included (they are in the messages).
type placeKey struct {
	site, product, image, vpc, subnet, gateway string
	sitePos, productPos, imagePos, networkPos  spec.Pos
}

// placement is a desktop's resolved site, product, image and network; ok is false when any failed.
type placement struct {
	site    Site
	product provider.Product
	image   Image
	net     NetworkChoice
	ok      bool
}

// place resolves a desktop's site, product, image and network, once per distinct input: the desktops
// of a group share them.
func (r *resolver) place(d spec.Desktop) placement {
	prod := "sel:" + d.Product.String()
	if d.Product.ID != "" {
		prod = "id:" + d.Product.ID
	}
	k := placeKey{site: d.Site, product: prod, image: d.Image, vpc: d.Network.VPC, subnet: d.Network.Subnet,
		gateway: d.Network.Gateway, sitePos: d.PosOf("site"), productPos: d.PosOf("product"),
		imagePos: d.PosOf("image"), networkPos: d.PosOf("network")}
	if p, ok := r.placed[k]; ok {
		return p
	}
	p := r.placeOnce(d)
	r.placed[k] = p
	return p
}

func (r *resolver) placeOnce(d spec.Desktop) placement {
	site, ok := r.cat.SiteByNameOrID(d.Site)
	if !ok {
		msg := "no site " + d.Site
		if s := spec.Suggest(d.Site, r.cat.SiteNames()); s != "" {
			msg += "; did you mean " + s + "?"
		}
		r.errorf(d.PosOf("site"), listHint("sites", r.cat.SiteNames()), "%s", msg)
		return placement{}
	}
	p := placement{site: Site{ID: site.SiteID, Name: site.SiteName}}
	prodOK, imgOK, netOK := false, false, false
	p.product, prodOK = r.product(d, site)
	var product *provider.Product
	if prodOK {
		product = &p.product
	}
	p.image, imgOK = r.image(d, site, product)
	p.net, netOK = r.network(d, site)
	p.ok = prodOK && imgOK && netOK
	return p
}

// product resolves the desktop's product id or selector among the site's products.
func (r *resolver) product(d spec.Desktop, site provider.Site) (provider.Product, bool) {
	pos, sel := d.PosOf("product"), d.Product
	at := r.cat.ProductsAt(site.SiteID)
	offered := listHint("products at "+site.SiteName, describeProducts(at))
	if len(at) == 0 {
		offered = "site " + site.SiteName + " offers no products"
	}
	if sel.ID != "" {
		for _, pr := range at {
			if pr.ProductID == sel.ID {
				return pr, true
			}
		}
		for _, pr := range at {
			if strings.EqualFold(pr.ProductID, sel.ID) {
				return pr, true
			}
		}
		if elsewhere := r.cat.ProductSites(sel.ID); len(elsewhere) > 0 {
			names := make([]string, len(elsewhere))
			for i, id := range elsewhere {
				names[i] = r.cat.siteName(id)
			}
			r.errorf(pos, "it is offered at "+strings.Join(names, ", ")+"; "+offered,
				"product %s is not offered at %s", sel.ID, site.SiteName)
			return provider.Product{}, false
		}
		r.errorf(pos, offered, "no product %s at %s", sel.ID, site.SiteName)
		return provider.Product{}, false
	}
	var match []provider.Product
	for _, pr := range at {
		if selects(sel, pr) {
			match = append(match, pr)
		}
	}
	switch len(match) {
	case 1:
		return match[0], true
	case 0:
		r.errorf(pos, offered, "no product at %s matches %s", site.SiteName, sel)
	default:
		r.errorf(pos, listHint("add gpuRam, cpu, memory, disk or os to tell them apart, or give a productId",
			describeProducts(match)), "product %s matches %d products at %s", sel, len(match), site.SiteName)
	}
	return provider.Product{}, false
}

// selects reports whether a product matches every field the selector sets.
func selects(sel spec.Product, p provider.Product) bool {
	eqInt := func(want *int, got int) bool { return want == nil || *want == got }
	eqStr := func(want, got string) bool {
		return want == "" || strings.EqualFold(strings.TrimSpace(want), strings.TrimSpace(got))
	}
	return eqStr(sel.GPU, p.GPUModel) && eqStr(sel.OS, p.OS) && eqInt(sel.GPURam, p.GPURAMGB) &&
		eqInt(sel.CPU, p.CPUCores) && eqInt(sel.Memory, p.MemoryGB) && eqInt(sel.Disk, p.SystemDiskGB)
}

func describeProduct(p provider.Product) string {
	return fmt.Sprintf("%s (%s %dGB, %d cpu, %dGB memory, %dGB disk, %s)", p.ProductID, p.GPUModel, p.GPURAMGB,
		p.CPUCores, p.MemoryGB, p.SystemDiskGB, p.OS)
}

func describeProducts(ps []provider.Product) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = describeProduct(p)
	}
	return out
}

// image resolves the desktop's image name or id to one image usable at the site and, when the product
// is known, listed for it.
func (r *resolver) image(d spec.Desktop, site provider.Site, product *provider.Product) (Image, bool) {
	pos, want := d.PosOf("image"), d.Image
	usableHere := r.cat.ImagesAt(site.SiteID)
	if product != nil {
		usableHere = slices.DeleteFunc(usableHere, func(im provider.Image) bool {
			return !r.cat.ImageFits(im.ImageID, product.ProductID)
		})
	}
	here := listHint("images usable at "+site.SiteName, imageNames(usableHere))
	if len(usableHere) == 0 {
		here = "no image is usable at " + site.SiteName
		if product != nil {
			here += " for product " + product.ProductID
		}
	}
	found := r.cat.ImagesNamed(want)
	if len(found) == 0 {
		var all []string
		for _, im := range r.cat.index().images {
			all = append(all, im.ImageName)
		}
		msg := "no image " + want
		if s := spec.Suggest(want, all); s != "" {
			msg += "; did you mean " + s + "?"
		}
		r.errorf(pos, here, "%s", msg)
		return Image{}, false
	}
	var usable []provider.Image
	for _, im := range found {
		if im.UsableAt(site.SiteID) {
			usable = append(usable, im)
		}
	}
	if len(usable) == 0 {
		status := "not there"
		var where []string
		for _, im := range found {
			for _, s := range im.Sites {
				if s.SiteID == site.SiteID {
					status = string(s.Status)
				}
				if s.Status.Usable() {
					where = append(where, r.cat.siteName(s.SiteID))
				}
			}
		}
		hint := "it is usable at no site"
		if len(where) > 0 {
			slices.Sort(where)
			hint = "it is usable at " + strings.Join(slices.Compact(where), ", ")
		}
		r.errorf(pos, hint, "image %s is not usable at %s (%s)", want, site.SiteName, status)
		return Image{}, false
	}
	if product != nil {
		fit := slices.DeleteFunc(slices.Clone(usable), func(im provider.Image) bool {
			return !r.cat.ImageFits(im.ImageID, product.ProductID)
		})
		if len(fit) == 0 {
			r.errorf(pos, here, "image %s (%s) is not offered for product %s (%s)", want, usable[0].OSType,
				product.ProductID, product.OS)
			return Image{}, false
		}
		usable = fit
	}
	if len(usable) > 1 {
		ids := make([]string, len(usable))
		for i, im := range usable {
			ids[i] = fmt.Sprintf("%s (%s)", im.ImageID, strings.ToLower(im.ImageType))
		}
		r.errorf(pos, listHint("give its id", ids), "image name %s matches %d images usable at %s", want, len(usable), site.SiteName)
		return Image{}, false
	}
	return Image{ID: usable[0].ImageID, Name: usable[0].ImageName}, true
}

func imageNames(ims []provider.Image) []string {
	out := make([]string, len(ims))
	for i, im := range ims {
		out[i] = im.ImageName
	}
	return out
}

// network resolves the desktop's vpc, subnet and gateway at the site (see Resolve).
func (r *resolver) network(d spec.Desktop, site provider.Site) (NetworkChoice, bool) {
	pos, nw := d.PosOf("network"), d.Network
	nets, ok := r.snap.SiteNetworks(site.SiteID)
	if !ok {
		r.errorf(pos, "observe the site's networks before resolving (ObserveOptions.SiteIDs)",
			"the networks of site %s were not read", site.SiteName)
		return NetworkChoice{}, false
	}
	choice := NetworkChoice{WantSubnet: nw.Subnet, WantGateway: nw.Gateway}
	if nw.VPC == "" || strings.EqualFold(nw.VPC, spec.DefaultVPC) {
		choice.Default = true
		def := nets.Default
		if def == nil {
			choice.Fix = NetCreate
			return choice, true
		}
		choice.VpcID, choice.VpcName = def.VpcID, def.VpcName
		if len(def.Subnets) == 0 {
			choice.Fix = NetSupply
			return choice, true
		}
		if !r.pickSubnet(&choice, *def, nw.Subnet, pos) {
			return NetworkChoice{}, false
		}
		if nw.Gateway != "" && len(def.VGateways) == 0 {
			choice.Fix = NetSupply // SupplyDefaultNet adds the missing gateways
			return choice, true
		}
		if !r.pickGateway(&choice, *def, nw.Gateway, pos) {
			return NetworkChoice{}, false
		}
		return choice, true
	}
	vpc, ok := r.customVPC(nets.Custom, nw.VPC, site, pos)
	if !ok {
		return NetworkChoice{}, false
	}
	choice.VpcID, choice.VpcName = vpc.VpcID, vpc.VpcName
	if len(vpc.Subnets) == 0 {
		r.errorf(pos, "add a subnet to it in the console, or use vpc: default", "VPC %s at %s has no subnet", vpc.VpcName, site.SiteName)
		return NetworkChoice{}, false
	}
	if !r.pickSubnet(&choice, vpc, nw.Subnet, pos) || !r.pickGateway(&choice, vpc, nw.Gateway, pos) {
		return NetworkChoice{}, false
	}
	return choice, true
}

// customVPC finds a custom network by id, exact name, or name differing only in case.
func (r *resolver) customVPC(custom []provider.Network, want string, site provider.Site, pos spec.Pos) (provider.Network, bool) {
	var byName, byFold []provider.Network
	for _, n := range custom {
		switch {
		case n.VpcID == want:
			return n, true
		case n.VpcName == want:
			byName = append(byName, n)
		case strings.EqualFold(n.VpcName, want):
			byFold = append(byFold, n)
		}
	}
	if len(byName) == 0 {
		byName = byFold
	}
	switch len(byName) {
	case 1:
		return byName[0], true
	case 0:
		names := []string{spec.DefaultVPC}
		for _, n := range custom {
			names = append(names, n.VpcName)
		}
		msg := fmt.Sprintf("no VPC %s at %s", want, site.SiteName)
		if s := spec.Suggest(want, names); s != "" {
			msg += "; did you mean " + s + "?"
		}
		r.errorf(pos, listHint("VPCs at "+site.SiteName, names), "%s", msg)
	default:
		ids := make([]string, len(byName))
		for i, n := range byName {
			ids[i] = n.VpcID
		}
		r.errorf(pos, listHint("give its vpcId", ids), "VPC name %s matches %d VPCs at %s", want, len(byName), site.SiteName)
	}
	return provider.Network{}, false
}

// pickSubnet sets the choice's subnet: the one named (name, or id), else the one with the most free
// addresses (the first of equals). The net has at least one subnet.
func (r *resolver) pickSubnet(c *NetworkChoice, n provider.Network, want string, pos spec.Pos) bool {
	if want == "" {
		best := n.Subnets[0]
		for _, s := range n.Subnets[1:] {
			if s.NotUsed > best.NotUsed {
				best = s
			}
		}
		c.SubnetID, c.SubnetName = best.ID, best.Name
		return true
	}
	if s, ok := findSegment(n.Subnets, want, func(s provider.NetSegment) []string { return []string{s.ID, s.Name} }); ok {
		c.SubnetID, c.SubnetName = s.ID, s.Name
		return true
	}
	names := make([]string, len(n.Subnets))
	for i, s := range n.Subnets {
		names[i] = s.Name
	}
	msg := fmt.Sprintf("no subnet %s in VPC %s", want, n.VpcName)
	if s := spec.Suggest(want, names); s != "" {
		msg += "; did you mean " + s + "?"
	}
	r.errorf(pos, listHint("subnets", names), "%s", msg)
	return false
}

// pickGateway sets the choice's virtual gateway: the one named (conf_name, conf_id or id), else the
// first, else none when the net has none.
func (r *resolver) pickGateway(c *NetworkChoice, n provider.Network, want string, pos spec.Pos) bool {
	if want == "" {
		if len(n.VGateways) > 0 {
			g := n.VGateways[0]
			c.GatewayNetID, c.GatewayConfID, c.GatewayName = g.ID, g.ConfID, g.ConfName
		}
		return true
	}
	if g, ok := findSegment(n.VGateways, want, func(s provider.NetSegment) []string { return []string{s.ConfID, s.ID, s.ConfName} }); ok {
		c.GatewayNetID, c.GatewayConfID, c.GatewayName = g.ID, g.ConfID, g.ConfName
		return true
	}
	if len(n.VGateways) == 0 {
		r.errorf(pos, "remove gateway: desktops on it go out without a virtual gateway",
			"no gateway %s: VPC %s has no virtual gateway", want, n.VpcName)
		return false
	}
	names := make([]string, len(n.VGateways))
	for i, g := range n.VGateways {
		names[i] = fmt.Sprintf("%s (conf %s)", g.ConfName, g.ConfID)
	}
	r.errorf(pos, listHint("gateways", names), "no gateway %s in VPC %s", want, n.VpcName)
	return false
}

// findSegment returns the first segment one of whose keys equals want, trying exact keys over all
// segments before keys that differ only in case.
func findSegment(segs []provider.NetSegment, want string, keys func(provider.NetSegment) []string) (provider.NetSegment, bool) {
	for _, fold := range []bool{false, true} {
		for _, s := range segs {
			for _, k := range keys(s) {
				if k != "" && (k == want || fold && strings.EqualFold(k, want)) {
					return s, true
				}
			}
		}
	}
	return provider.NetSegment{}, false
}

func (r *resolver) billing(d spec.Desktop) (Billing, bool) {
	b, ok := billingOf(d.Billing)
	if !ok {
		r.errorf(d.PosOf("billing"), "use cycle: minute or cycle: month", "unknown billing cycle %q in plan %q", d.Billing.Cycle, d.Billing.Name)
	}
	return b, ok
}

func (r *resolver) power(d spec.Desktop) (*provider.PowerAction, bool) {
	if d.Power == nil {
		return nil, true
	}
	a, ok := powerAction(*d.Power)
	if !ok {
		r.errorf(d.PosOf("power"), "use on or off", "unknown power %q", *d.Power)
		return nil, false
	}
	return &a, true
}

// checkBindings reports bindings to an email that is neither an account of the spec nor a live one.
func (r *resolver) checkBindings(f *spec.Fleet) {
	known := map[string]bool{}
	for _, a := range f.Accounts {
		known[strings.ToLower(a.Email)] = true
	}
	for _, a := range r.snap.Accounts {
		known[strings.ToLower(a.Email)] = true
	}
	for _, desk := range slices.Sorted(maps.Keys(f.Bindings.ByDesktop)) {
		email := f.Bindings.ByDesktop[desk]
		if known[strings.ToLower(email)] {
			continue
		}
		pos, ok := f.Bindings.At[desk]
		if !ok {
			pos = f.Bindings.Pos
		}
		r.errorf(pos, "declare it under accounts, or create the sub-account first",
			"desktop %s is bound to %s, which is neither an account of the spec nor a live sub-account", desk, email)
	}
}

// maxListed is the most candidates a hint lists.
const maxListed = 10

// listHint renders "label: a, b, c", listing at most maxListed items and counting the rest.
func listHint(label string, items []string) string {
	if len(items) > maxListed {
		return fmt.Sprintf("%s: %s and %d more", label, strings.Join(items[:maxListed], ", "), len(items)-maxListed)
	}
	return label + ": " + strings.Join(items, ", ")
}

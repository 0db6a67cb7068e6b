package spec

import (
	"fmt"
	"sort"
	"strings"
)

// Built-in defaults, used when neither the group nor `defaults` sets the field.
const (
	DefaultBandwidth = 5
	DefaultVPC       = "default"
)

// checker merges decoded documents into a Fleet and runs the cross-checks.
type checker struct {
	diags Diagnostics
}

func (c *checker) errorf(p Pos, hint, format string, args ...any) {
	c.diags = append(c.diags, Diagnostic{Pos: p, Message: fmt.Sprintf(format, args...), Hint: hint})
}

func (c *checker) warnf(p Pos, hint, format string, args ...any) {
	c.diags = append(c.diags, Diagnostic{Pos: p, Severity: Warning, Message: fmt.Sprintf(format, args...), Hint: hint})
}

// assemble merges the documents (fleet and version must agree; lists concatenate; maps merge, with a
// key declared twice an error naming both places), then resolves desktops and checks references.
func assemble(docs []*docInfo) (*Fleet, Diagnostics) {
	c := &checker{}
	fl := &Fleet{Billing: map[string]BillingPlan{}, Profiles: map[string]Profile{},
		Bindings: Bindings{ByDesktop: map[string]string{}, At: map[string]Pos{}}}
	def := &Defaults{At: map[string]Pos{}}
	bindVal := map[string]Pos{}
	var fleetPos Pos
	for _, di := range docs {
		if len(fl.Files) == 0 || fl.Files[len(fl.Files)-1] != di.file {
			fl.Files = append(fl.Files, di.file)
		}
		if di.hasFleet && di.doc.Fleet != "" {
			if fl.Name == "" {
				fl.Name, fleetPos = di.doc.Fleet, di.fleetPos
			} else if di.doc.Fleet != fl.Name {
				c.errorf(di.fleetPos, "every document of a spec names the same fleet",
					"fleet %q here but %q at %s", di.doc.Fleet, fl.Name, fleetPos)
			}
		}
		if di.hasVersion && di.doc.Version == 1 {
			fl.Version = 1
		}
		c.mergeDefaults(def, di.defaults)
		for _, name := range sortedKeys(di.doc.Billing) {
			if first, dup := fl.Billing[name]; dup {
				c.errorf(di.doc.Billing[name].Pos, "", "billing plan %q is declared twice (first at %s)", name, first.Pos)
				continue
			}
			fl.Billing[name] = di.doc.Billing[name]
		}
		for _, name := range sortedKeys(di.doc.Profiles) {
			if first, dup := fl.Profiles[name]; dup {
				c.errorf(di.doc.Profiles[name].Pos, "", "profile %q is declared twice (first at %s)", name, first.Pos)
				continue
			}
			fl.Profiles[name] = di.doc.Profiles[name]
		}
		fl.Accounts = append(fl.Accounts, di.doc.Accounts...)
		fl.Groups = append(fl.Groups, di.doc.Desktops...)
		if di.bindingsSet {
			if !fl.Bindings.Set {
				fl.Bindings.Set, fl.Bindings.Pos = true, di.bindingsPos
			}
			for _, desk := range sortedKeys(di.doc.Bindings) {
				if first, dup := fl.Bindings.At[desk]; dup {
					c.errorf(di.bindingAt[desk], bindTwiceHint,
						"desktop %q is bound twice (first at %s)", desk, first)
					continue
				}
				fl.Bindings.ByDesktop[desk] = di.doc.Bindings[desk]
				fl.Bindings.At[desk] = di.bindingAt[desk]
				bindVal[desk] = di.bindingVal[desk]
			}
		}
	}
	if fl.Name != "" {
		fl.Pos = fleetPos
	}
	c.checkPlans(fl)
	accounts := c.checkAccounts(fl)
	used := c.resolve(fl, def)
	c.checkBindings(fl, accounts, bindVal)
	for _, name := range sortedKeys(fl.Billing) {
		if !used["billing:"+name] {
			c.warnf(fl.Billing[name].Pos, "", "billing plan %q is not used by any desktop", name)
		}
	}
	for _, name := range sortedKeys(fl.Profiles) {
		if !used["profile:"+name] {
			c.warnf(fl.Profiles[name].Pos, "", "profile %q is not used by any desktop", name)
		}
	}
	return fl, c.diags
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// mergeDefaults adds src's fields to dst; a field set by two documents is an error.
func (c *checker) mergeDefaults(dst, src *Defaults) {
	if src == nil {
		return
	}
	if dst.Pos.IsZero() {
		dst.Pos = src.Pos
	}
	for _, k := range sortedKeys(src.At) {
		if first, dup := dst.At[k]; dup {
			c.errorf(src.At[k], "", "defaults.%s is set twice (first at %s)", k, first)
			continue
		}
		dst.At[k] = src.At[k]
		switch k {
		case "site":
			dst.Site = src.Site
		case "network":
			dst.Network = src.Network
		case "bandwidth":
			dst.Bandwidth = src.Bandwidth
		case "billing":
			dst.Billing = src.Billing
		case "profile":
			dst.Profile = src.Profile
		}
	}
}

// checkPlans warns about billing fields that have no effect.
func (c *checker) checkPlans(fl *Fleet) {
	for _, name := range sortedKeys(fl.Billing) {
		b := fl.Billing[name]
		if b.Cycle == CycleMinute {
			for _, k := range []string{"months", "toMonthEnd", "fullMonthPrice", "autoRenew", "renewWithin"} {
				if p, ok := b.At[k]; ok {
					c.warnf(p, "remove it, or use cycle: month", "%s has no effect on the per-minute plan %q", k, name)
				}
			}
			continue
		}
		if b.FullMonthPrice && !b.ToMonthEnd {
			c.warnf(b.At["fullMonthPrice"], "set toMonthEnd: true, or remove fullMonthPrice",
				"fullMonthPrice has no effect without toMonthEnd in plan %q", name)
		}
	}
}

// checkAccounts reports duplicate emails and returns the accounts by lower-case email.
func (c *checker) checkAccounts(fl *Fleet) map[string]Account {
	byEmail := map[string]Account{}
	for _, a := range fl.Accounts {
		if a.Email == "" {
			continue
		}
		key := strings.ToLower(a.Email)
		if first, dup := byEmail[key]; dup {
			c.errorf(a.At["email"], "an account is identified by its email: merge the two entries",
				"duplicate account email %q (first at %s)", a.Email, first.At["email"])
			continue
		}
		byEmail[key] = a
	}
	return byEmail
}

// ref looks a named plan or profile up, reporting an unknown name at p. ok is false when the name is
// unknown.
func refOK[V any](c *checker, kind, name string, m map[string]V, p Pos) bool {
	if _, ok := m[name]; ok {
		return true
	}
	c.diags = append(c.diags, Diagnostic{Pos: p, Message: unknownName(kind, name, sortedKeys(m))})
	return false
}

// resolve expands the groups into desktops with the defaults cascade and checks names; it returns the
// billing plans and profiles used ("billing:NAME", "profile:NAME").
func (c *checker) resolve(fl *Fleet, def *Defaults) map[string]bool {
	used := map[string]bool{}
	defBillingOK := def.Billing == "" || refOK(c, "billing plan", def.Billing, fl.Billing, def.At["billing"])
	defProfileOK := def.Profile == "" || refOK(c, "profile", def.Profile, fl.Profiles, def.At["profile"])
	type origin struct {
		group Group
		pos   Pos
	}
	names := map[string]origin{}
	for _, g := range fl.Groups {
		d := Desktop{Group: g.Name, Pos: g.Pos, NamePos: g.At["name"], At: map[string]Pos{}}
		from := func(field string, inGroup bool) {
			if inGroup {
				d.At[field] = g.At[field]
			} else if p, ok := def.At[field]; ok {
				d.At[field] = p
			}
		}
		// site
		d.Site = g.Site
		from("site", g.Site != "")
		if d.Site == "" {
			d.Site = def.Site
		}
		if d.Site == "" {
			c.errorf(g.Pos, "set site in the group or under defaults", "desktop group %q has no site", g.Name)
		}
		// network
		nw := g.Network
		from("network", nw != nil)
		if nw == nil {
			nw = def.Network
		}
		if nw != nil {
			d.Network = *nw
		}
		if d.Network.VPC == "" {
			d.Network.VPC = DefaultVPC
		}
		// bandwidth
		bw := g.Bandwidth
		from("bandwidth", bw != nil)
		if bw == nil {
			bw = def.Bandwidth
		}
		d.Bandwidth = DefaultBandwidth
		if bw != nil {
			d.Bandwidth = *bw
		}
		// billing
		d.Billing = BillingPlan{Cycle: CycleMinute}
		from("billing", g.Billing != "")
		switch {
		case g.Billing != "":
			if refOK(c, "billing plan", g.Billing, fl.Billing, g.At["billing"]) {
				d.Billing = fl.Billing[g.Billing]
				used["billing:"+g.Billing] = true
			}
		case def.Billing != "" && defBillingOK:
			d.Billing = fl.Billing[def.Billing]
			used["billing:"+def.Billing] = true
		}
		// profile, product, image
		profileOK := true
		var prof Profile
		from("profile", g.Profile != "")
		switch {
		case g.Profile != "":
			profileOK = refOK(c, "profile", g.Profile, fl.Profiles, g.At["profile"])
			prof = fl.Profiles[g.Profile]
			d.Profile = g.Profile
		case def.Profile != "":
			profileOK = defProfileOK
			prof = fl.Profiles[def.Profile]
			d.Profile = def.Profile
		}
		if profileOK && d.Profile != "" {
			used["profile:"+d.Profile] = true
		}
		if g.Product != nil {
			d.Product, d.At["product"] = *g.Product, g.At["product"]
		} else if prof.Product != nil {
			d.Product, d.At["product"] = *prof.Product, prof.At["product"]
		}
		if g.Image != "" {
			d.Image, d.At["image"] = g.Image, g.At["image"]
		} else if prof.Image != "" {
			d.Image, d.At["image"] = prof.Image, prof.At["image"]
		}
		if g.Profile != "" && g.Product != nil && g.Image != "" && profileOK {
			c.warnf(g.At["profile"], "remove profile, or product and image", "profile %q is unused: product and image are set in the group", g.Profile)
		}
		if profileOK && g.Name != "" {
			if d.Product.IsZero() {
				c.errorf(g.Pos, "set profile (here or under defaults), or product", "desktop group %q has no product", g.Name)
			}
			if d.Image == "" {
				c.errorf(g.Pos, "set profile (here or under defaults), or image", "desktop group %q has no image", g.Name)
			}
		}
		// managed-when-set fields
		d.Label, d.Power, d.RenamedFrom = g.Label, g.Power, g.RenamedFrom
		for _, k := range []string{"label", "power", "protect", "renamedFrom", "count"} {
			if p, ok := g.At[k]; ok {
				d.At[k] = p
			}
		}
		if g.Protect != nil {
			d.Protect = *g.Protect
		}
		count := g.CountOrDefault()
		if g.RenamedFrom != "" && count > 1 {
			c.errorf(g.At["renamedFrom"], "rename a group of one desktop at a time",
				"renamedFrom needs count 1, but count is %d", count)
		}
		if g.RenamedFrom != "" && g.RenamedFrom == g.Name {
			c.warnf(g.At["renamedFrom"], "remove renamedFrom", "renamedFrom is the desktop's own name")
		}
		if g.Name == "" {
			continue
		}
		if len(fl.Desktops)+count > MaxDesktops {
			c.errorf(g.At["name"], "split the spec into several fleets",
				"group %q takes the fleet over the limit of %d desktops", g.Name, MaxDesktops)
			break
		}
		for i := range count {
			dd := d
			dd.Name, dd.Index = DesktopName(g.Name, i), i
			if first, dup := names[dd.Name]; dup {
				c.errorf(g.At["name"], "give each desktop group a distinct name",
					"duplicate desktop name %q: also made by group %q (count %d) at %s",
					dd.Name, first.group.Name, first.group.CountOrDefault(), first.pos)
				break
			}
			names[dd.Name] = origin{group: g, pos: g.At["name"]}
			fl.Desktops = append(fl.Desktops, dd)
		}
	}
	for _, d := range fl.Desktops {
		if d.RenamedFrom == "" || d.RenamedFrom == d.Name {
			continue
		}
		if o, ok := names[d.RenamedFrom]; ok {
			c.errorf(d.At["renamedFrom"], "remove renamedFrom, or the other desktop",
				"renamedFrom %q is also a desktop of this spec (group %q at %s)", d.RenamedFrom, o.group.Name, o.pos)
		}
	}
	if len(fl.Groups) == 0 && fl.Name != "" {
		c.warnf(fl.Pos, "", "fleet %q has no desktops: apply would delete every desktop it manages", fl.Name)
	}
	return used
}

// DesktopName is the name the API gives the i-th (0-based) desktop that CreateVm makes with num > 1 and
// the default hostNo: name, name_001, name_002, ...
func DesktopName(name string, i int) string {
	if i == 0 {
		return name
	}
	return fmt.Sprintf("%s_%03d", name, i)
}

// checkBindings checks that every binding names a declared desktop and a declared account.
func (c *checker) checkBindings(fl *Fleet, accounts map[string]Account, valPos map[string]Pos) {
	if !fl.Bindings.Set {
		return
	}
	desks := map[string]bool{}
	var deskNames []string
	for _, d := range fl.Desktops {
		desks[d.Name] = true
		deskNames = append(deskNames, d.Name)
	}
	var emails []string
	for _, a := range fl.Accounts {
		emails = append(emails, a.Email)
	}
	for _, desk := range sortedKeys(fl.Bindings.ByDesktop) {
		if !desks[desk] {
			msg := fmt.Sprintf("binding for undeclared desktop %q", desk)
			if s := closest(desk, deskNames); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			c.errorf(fl.Bindings.At[desk], "bind only desktops made by a group under desktops", "%s", msg)
		}
		email := fl.Bindings.ByDesktop[desk]
		if _, ok := accounts[strings.ToLower(email)]; !ok {
			msg := fmt.Sprintf("binding to undeclared account %q", email)
			if s := closest(email, emails); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			c.errorf(valPos[desk], "declare it under accounts", "%s", msg)
		}
	}
	if len(fl.Bindings.ByDesktop) == 0 && len(fl.Desktops) > 0 {
		c.warnf(fl.Bindings.Pos, "remove the bindings key to leave bindings unmanaged",
			"bindings is empty: every desktop of the fleet will be unbound")
	}
}

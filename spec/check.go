package spec

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/deskfleet/deskfleet/schedule"
)

// Built-in defaults, used when neither the group nor `defaults` sets the field.
const (
	DefaultBandwidth = 5
	DefaultVPC       = "default"
)

// checker merges decoded documents into a Fleet and runs the cross-checks: what no schema of one
// document can say (names that refer to plans, profiles, desktops and accounts; names declared twice,
// in one document or across documents; desktop names after count expansion), and the warnings about
// settings that have no effect.
type checker struct {
	diags Diagnostics
	// boundSome is true when some document's bindings mapping has entries as written, valid or not.
	boundSome bool
	// baseMissing is true when the spec extends a base that could not be read (an error says so):
	// what the fleet lacks may be in the base.
	baseMissing bool
	// schedules are the schedules parsed so far (nil: one with a mistake, reported once).
	schedules map[*Schedule]*schedule.Schedule
}

func (c *checker) errorf(p Pos, hint, format string, args ...any) {
	c.diags = append(c.diags, Diagnostic{Pos: p, Message: fmt.Sprintf(format, args...), Hint: hint})
}

func (c *checker) warnf(p Pos, hint, format string, args ...any) {
	c.diags = append(c.diags, Diagnostic{Pos: p, Severity: Warning, Message: fmt.Sprintf(format, args...), Hint: hint})
}

// merged is a spec's documents merged: those of one layer (mergeLayer), then the layers one over the
// other (overlay). Its fleet is not yet resolved.
type merged struct {
	fl       *Fleet
	def      *Defaults
	bindVal  map[string]Pos // desktop -> position of its bound email
	fleetPos Pos
	// extends is the position of the layer's extends value (zero when it has none); files are the
	// files of the layer's documents; remove lists what the layer removes from its base.
	extends Pos
	files   []string
	remove  []removal
}

// removal is one name listed under remove: of kind (the key under remove), at pos.
type removal struct {
	kind, name string
	pos        Pos
}

// assemble merges the documents, layer by layer (the deepest base first; see extends.go), each layer
// over the ones below it, then resolves desktops and checks references.
func assemble(docs []*docInfo) (*Fleet, Diagnostics) {
	c := &checker{schedules: map[*Schedule]*schedule.Schedule{}}
	var m *merged
	for i := 0; i < len(docs); {
		j := i
		for j < len(docs) && docs[j].layer == docs[i].layer {
			j++
		}
		top := c.mergeLayer(docs[i:j])
		if m == nil {
			c.baseMissing = !top.extends.IsZero()
			if top.extends.IsZero() {
				for _, r := range top.remove {
					c.errorf(r.pos, "remove takes entries away from a base: add extends, or delete this entry",
						"cannot remove %s %q: this spec extends no base", removedNoun(r.kind), r.name)
				}
			}
			m = top
		} else {
			m = c.overlay(m, top)
		}
		i = j
	}
	if m == nil {
		m = c.mergeLayer(nil)
	}
	fl, def := m.fl, m.def
	if fl.Name != "" {
		fl.Pos = m.fleetPos
	}
	c.checkPlans(fl)
	accounts := c.checkAccounts(fl)
	fl.Desktops = make([]Desktop, 0, desktopCount(fl.Groups)) // 10,000 desktops: one allocation, not twenty
	used := c.resolve(fl, def)
	c.checkBindings(fl, accounts, m.bindVal)
	c.checkBudget(fl)
	c.checkOverrides(fl)
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

// mergeLayer merges the documents of one layer (fleet and version must agree; lists concatenate; maps
// merge, with a key declared twice an error naming both places; extends is set once).
func (c *checker) mergeLayer(docs []*docInfo) *merged {
	fl := &Fleet{Billing: map[string]BillingPlan{}, Profiles: map[string]Profile{},
		Bindings: Bindings{ByDesktop: map[string]string{}, At: map[string]Pos{}}}
	m := &merged{fl: fl, def: &Defaults{At: map[string]Pos{}}, bindVal: map[string]Pos{}}
	for _, di := range docs {
		if len(m.files) == 0 || m.files[len(m.files)-1] != di.file {
			m.files = append(m.files, di.file)
		}
		if di.doc.Fleet != "" {
			if fl.Name == "" {
				fl.Name, m.fleetPos = di.doc.Fleet, di.at(keyFleet, "", false)
			} else if di.doc.Fleet != fl.Name {
				c.errorf(di.at(keyFleet, "", false), "every document of a spec names the same fleet",
					"fleet %q here but %q at %s", di.doc.Fleet, fl.Name, m.fleetPos)
			}
		}
		if di.doc.Version != 0 {
			fl.Version = di.doc.Version
		}
		if di.doc.Extends != "" {
			if at := di.at(keyExtends, "", false); m.extends.IsZero() {
				m.extends = at
			} else {
				c.errorf(at, grammarOf(reflect.TypeFor[Document]()).byKey[keyExtends].tag.Get("fix"),
					"%s is set twice (first at %s)", keyExtends, m.extends)
			}
		}
		m.remove = append(m.remove, removals(di)...)
		c.mergeDefaults(m.def, di.doc.Defaults)
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
		// An account without a (valid) email and a group without a (valid) name were reported by the
		// schema and are left out: they would only bring errors that follow from those.
		for _, a := range di.doc.Accounts {
			if a.Email != "" {
				fl.Accounts = append(fl.Accounts, a)
			}
		}
		for _, g := range di.doc.Desktops {
			if g.Name != "" {
				fl.Groups = append(fl.Groups, g)
			}
		}
		if di.has(keyBindings) {
			c.mergeBindings(fl, di, m.bindVal)
		}
		fl.Overrides = append(fl.Overrides, di.doc.Overrides...)
		if b := di.doc.Budget; b != nil {
			if fl.Budget != nil {
				c.errorf(b.Pos, "state the budget in one file", "budget is set twice (first at %s)", fl.Budget.Pos)
			} else {
				fl.Budget = b
			}
		}
	}
	return m
}

// mergeBindings adds a document's bindings to the fleet's; a desktop bound in two documents is an
// error naming both places, in the words of the bindings' tags.
func (c *checker) mergeBindings(fl *Fleet, di *docInfo, bindVal map[string]Pos) {
	if !fl.Bindings.Set {
		fl.Bindings.Set, fl.Bindings.Pos = true, di.at(keyBindings, "", false)
	}
	c.boundSome = c.boundSome || di.sizes["/"+escape(keyBindings)] > 0
	tag := grammarOf(reflect.TypeFor[Document]()).byKey[keyBindings].tag
	for _, desk := range sortedKeys(di.doc.Bindings) {
		if first, dup := fl.Bindings.At[desk]; dup {
			c.errorf(di.at(keyBindings, desk, true), tag.Get("fix"), tag.Get("twice")+" (first at %s)", desk, first)
			continue
		}
		fl.Bindings.ByDesktop[desk] = di.doc.Bindings[desk]
		fl.Bindings.At[desk] = di.at(keyBindings, desk, true)
		bindVal[desk] = di.at(keyBindings, desk, false)
	}
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
	g := grammarOf(reflect.TypeFor[Defaults]())
	for _, k := range sortedKeys(src.At) {
		if first, dup := dst.At[k]; dup {
			c.errorf(src.At[k], "", "%s.%s is set twice (first at %s)", keyDefaults, k, first)
			continue
		}
		dst.At[k] = src.At[k]
		if f := g.byKey[k]; f != nil {
			i := f.index
			reflect.ValueOf(dst).Elem().Field(i).Set(reflect.ValueOf(src).Elem().Field(i))
		}
	}
}

// checkPlans warns about billing fields that have no effect: a field tagged with a cycle on a plan of
// another cycle, a boolean set without the boolean it needs (tagged needs). A renewal policy (a field
// tagged renewal) on a per-minute plan is an error: the spec asks for renewals that cannot happen,
// and a reader would believe the desktops are looked after.
func (c *checker) checkPlans(fl *Fleet) {
	g := grammarOf(reflect.TypeFor[BillingPlan]())
	for _, name := range sortedKeys(fl.Billing) {
		b := fl.Billing[name]
		bv := reflect.ValueOf(b)
		for _, f := range g.fields {
			p, set := b.At[f.key]
			if !set {
				continue
			}
			if cy := f.tag.Get("cycle"); cy != "" && b.Cycle != "" && string(b.Cycle) != cy && f.tag.Get("renewal") != "" {
				c.errorf(p, fmt.Sprintf("use %s: %s for desktops with a term to renew, or remove %s", keyPlanCycle, cy, f.key),
					"%s is a renewal policy, and the per-%s plan %q has no term to renew", f.key, b.Cycle, name)
				continue
			}
			if cy := f.tag.Get("cycle"); cy != "" && b.Cycle != "" && string(b.Cycle) != cy {
				c.warnf(p, fmt.Sprintf("remove it, or use %s: %s", keyPlanCycle, cy),
					"%s has no effect on the per-%s plan %q", f.key, b.Cycle, name)
				continue
			}
			need := g.byKey[f.tag.Get("needs")]
			if need != nil && bv.Field(f.index).Bool() && !bv.Field(need.index).Bool() {
				c.warnf(p, fmt.Sprintf("set %s: true, or remove %s", need.key, f.key),
					"%s has no effect without %s in plan %q", f.key, need.key, name)
			}
		}
	}
}

// checkAccounts reports duplicate emails and returns the accounts by lower-case email.
func (c *checker) checkAccounts(fl *Fleet) map[string]Account {
	byEmail := map[string]Account{}
	for _, a := range fl.Accounts {
		key := strings.ToLower(a.Email)
		if first, dup := byEmail[key]; dup {
			c.errorf(a.At[keyEmail], "an account is identified by its email: merge the two entries",
				"duplicate account email %q (first at %s)", a.Email, first.At[keyEmail])
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
	defBillingOK := def.Billing == "" || refOK(c, "billing plan", def.Billing, fl.Billing, def.At[keyGroupBilling])
	defProfileOK := def.Profile == "" || refOK(c, "profile", def.Profile, fl.Profiles, def.At[keyGroupProfile])
	type origin struct {
		group *Group // in fl.Groups
		pos   Pos
	}
	names := make(map[string]origin, desktopCount(fl.Groups))
	for gi, g := range fl.Groups {
		d := Desktop{Group: g.Name, Pos: g.Pos, NamePos: g.At[keyGroupName], At: desktopAt(g, def)}
		// site
		d.Site = g.Site
		if d.Site == "" {
			d.Site = def.Site
		}
		if d.Site == "" {
			c.errorf(g.Pos, fmt.Sprintf("set %s in the group or under %s", keyGroupSite, keyDefaults),
				"desktop group %q has no %s", g.Name, keyGroupSite)
		}
		// network
		nw := g.Network
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
		if bw == nil {
			bw = def.Bandwidth
		}
		d.Bandwidth = DefaultBandwidth
		if bw != nil {
			d.Bandwidth = *bw
		}
		// billing
		d.Billing = BillingPlan{Cycle: CycleMinute}
		switch {
		case g.Billing != "":
			if refOK(c, "billing plan", g.Billing, fl.Billing, g.At[keyGroupBilling]) {
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
		switch {
		case g.Profile != "":
			profileOK = refOK(c, "profile", g.Profile, fl.Profiles, g.At[keyGroupProfile])
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
			d.Product = *g.Product
		} else if prof.Product != nil {
			d.Product, d.At[keyGroupProduct] = *prof.Product, prof.At[keyGroupProduct]
		}
		if g.Image != "" {
			d.Image = g.Image
		} else if prof.Image != "" {
			d.Image, d.At[keyGroupImage] = prof.Image, prof.At[keyGroupImage]
		}
		c.checkParts(g, d, profileOK)
		// managed-when-set fields
		d.Label, d.Power, d.RenamedFrom, d.Schedule = g.Label, g.Power, g.RenamedFrom, c.scheduleOf(g, def, prof, d.At)
		if g.Protect != nil {
			d.Protect = *g.Protect
		}
		count := g.CountOrDefault()
		if g.RenamedFrom != "" && g.RenamedFrom == g.Name {
			c.warnf(g.At[keyRename], "remove "+keyRename, "%s is the desktop's own name", keyRename)
		}
		if len(fl.Desktops)+count > MaxDesktops {
			c.errorf(g.At[keyGroupName], "split the spec into several fleets",
				"group %q takes the fleet over the limit of %d desktops", g.Name, MaxDesktops)
			break
		}
		for i := range count {
			dd := d
			dd.Name, dd.Index = DesktopName(g.Name, i), i
			if first, dup := names[dd.Name]; dup {
				c.errorf(g.At[keyGroupName], "give each desktop group a distinct name",
					"duplicate desktop name %q: also made by group %q (count %d) at %s",
					dd.Name, first.group.Name, first.group.CountOrDefault(), first.pos)
				break
			}
			names[dd.Name] = origin{group: &fl.Groups[gi], pos: g.At[keyGroupName]}
			fl.Desktops = append(fl.Desktops, dd)
		}
	}
	for _, d := range fl.Desktops {
		if d.RenamedFrom == "" || d.RenamedFrom == d.Name {
			continue
		}
		if o, ok := names[d.RenamedFrom]; ok {
			c.errorf(d.At[keyRename], "remove "+keyRename+", or the other desktop",
				"%s %q is also a desktop of this spec (group %q at %s)", keyRename, d.RenamedFrom, o.group.Name, o.pos)
		}
	}
	if len(fl.Groups) == 0 && fl.Name != "" && !c.baseMissing {
		c.warnf(fl.Pos, "", "fleet %q has no desktops: apply would delete every desktop it manages", fl.Name)
	}
	return used
}

// desktopAt returns the positions of a group's desktops' fields (see Desktop.At): the group's own,
// else those of defaults for the fields defaults may set. The profile's are added by the caller.
func desktopAt(g Group, def *Defaults) map[string]Pos {
	at := map[string]Pos{}
	for k, p := range def.At {
		at[k] = p
	}
	for k, p := range g.At {
		if k != keyGroupName {
			at[k] = p
		}
	}
	return at
}

// checkParts reports a group that has no product or no image from anywhere, and warns about a profile
// that gives the group nothing.
func (c *checker) checkParts(g Group, d Desktop, profileOK bool) {
	if g.Profile != "" && g.Product != nil && g.Image != "" && profileOK {
		c.warnf(g.At[keyGroupProfile], fmt.Sprintf("remove %s, or %s and %s", keyGroupProfile, keyGroupProduct, keyGroupImage),
			"profile %q is unused: %s and %s are set in the group", g.Profile, keyGroupProduct, keyGroupImage)
	}
	if !profileOK {
		return
	}
	if d.Product.IsZero() {
		c.errorf(g.Pos, fmt.Sprintf("set %s (here or under %s), or %s", keyGroupProfile, keyDefaults, keyGroupProduct),
			"desktop group %q has no %s", g.Name, keyGroupProduct)
	}
	if d.Image == "" {
		c.errorf(g.Pos, fmt.Sprintf("set %s (here or under %s), or %s", keyGroupProfile, keyDefaults, keyGroupImage),
			"desktop group %q has no %s", g.Name, keyGroupImage)
	}
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
			c.errorf(fl.Bindings.At[desk], "bind only desktops made by a group under "+keyDesktops, "%s", msg)
		}
		email := fl.Bindings.ByDesktop[desk]
		if _, ok := accounts[strings.ToLower(email)]; !ok {
			msg := fmt.Sprintf("binding to undeclared account %q", email)
			if s := closest(email, emails); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			c.errorf(valPos[desk], "declare it under "+keyAccounts, "%s", msg)
		}
	}
	if len(fl.Bindings.ByDesktop) == 0 && !c.boundSome && len(fl.Desktops) > 0 {
		c.warnf(fl.Bindings.Pos, fmt.Sprintf("remove the %s key to leave bindings unmanaged", keyBindings),
			"%s is empty: every desktop of the fleet will be unbound", keyBindings)
	}
}

// scheduleOf is the schedule of group g's desktops: the group's, else its profile's (prof), else the
// defaults'; none when the group sets power (an explicit power wins over an inherited schedule, so a
// render farm can stay on in a fleet of office hours). A group that sets both is an error. Each
// schedule is parsed once (c.schedules); its mistakes are reported at the value they are in. at
// gets the position of the schedule used.
func (c *checker) scheduleOf(g Group, def *Defaults, prof Profile, at map[string]Pos) *schedule.Schedule {
	key := keyOf[Group]("Schedule")
	if g.Schedule != nil && g.Power != nil {
		c.errorf(g.At[key], "remove one: power enforces one state at all times, schedule one that changes with the hours",
			"desktop group %q sets both power and schedule", g.Name)
		return nil
	}
	var sc *Schedule
	switch {
	case g.Power != nil:
		return nil
	case g.Schedule != nil:
		sc = g.Schedule
	case prof.Schedule != nil:
		sc = prof.Schedule
	case def.Schedule != nil:
		sc = def.Schedule
	default:
		return nil
	}
	at[key] = sc.Pos
	if p, ok := c.schedules[sc]; ok {
		return p
	}
	tz := sc.Timezone
	if tz == "" {
		tz = DefaultTimezone
	}
	p, err := schedule.Parse(sc.Hours, tz, sc.Except)
	c.schedules[sc] = p
	var se *schedule.Error
	if errors.As(err, &se) {
		pos := sc.At[se.Field]
		if se.Field == "except" {
			pos = sc.At[fmt.Sprintf("except.%d", se.Index)]
			if pos.IsZero() {
				pos = sc.At["except"]
			}
		}
		if pos.IsZero() {
			pos = sc.Pos
		}
		c.errorf(pos, se.Hint, "schedule: %s", se.Msg)
	}
	return p
}

// checkBudget checks that the budget's groups are groups of the spec (an error: the budget would
// watch nothing) and that its labels are carried by some desktop (a warning: a label may be coming).
// The schema checked the amounts (each greater than 0, at least one).
func (c *checker) checkBudget(fl *Fleet) {
	b := fl.Budget
	if b == nil {
		return
	}
	groups := map[string]bool{}
	labels := map[string]bool{}
	for _, g := range fl.Groups {
		groups[g.Name] = true
	}
	for _, d := range fl.Desktops {
		if d.Label != nil {
			labels[*d.Label] = true
		}
	}
	at := func(key string) Pos {
		if p, ok := b.At[key]; ok {
			return p
		}
		return b.Pos
	}
	for _, g := range sortedKeys(b.Groups) {
		if !groups[g] {
			c.diags = append(c.diags, Diagnostic{Pos: at("groups"), Message: "budget: " + unknownName("desktop group", g, sortedKeys(groups))})
		}
	}
	for _, l := range sortedKeys(b.Labels) {
		if !labels[l] {
			c.warnf(at("labels"), "budgets count the desktops that carry the label", "budget: no desktop of the spec has label %q", l)
		}
	}
}

// checkOverrides resolves each override for the desktops it names (an unknown name is an error
// with the closest name; an impossible time is an error at until). The last override naming a
// desktop wins; whether it has expired is the planner's to judge (it knows the time).
func (c *checker) checkOverrides(fl *Fleet) {
	index := map[string]int{}
	names := make([]string, len(fl.Desktops))
	for i, d := range fl.Desktops {
		index[d.Name], names[i] = i, d.Name
	}
	for _, o := range fl.Overrides {
		tz := o.Timezone
		if tz == "" {
			tz = DefaultTimezone
		}
		loc, err := time.LoadLocation(tz)
		if err != nil {
			c.errorf(o.At["timezone"], "use a name of the IANA time zone database, such as Asia/Shanghai or UTC", "override: unknown time zone %q", tz)
			continue
		}
		until, err := schedule.ParseMoment(o.Until, loc)
		if err != nil {
			c.errorf(o.At["until"], "", "override: %v", err)
			continue
		}
		for _, name := range o.Desktops {
			i, ok := index[name]
			if !ok {
				c.diags = append(c.diags, Diagnostic{Pos: o.At["desktops"], Message: "override: " + unknownName("desktop", name, names)})
				continue
			}
			fl.Desktops[i].Held = &HeldPower{Power: o.Power, Until: until, Reason: o.Reason, Pos: o.Pos}
		}
	}
}

// desktopCount is how many desktops the groups make (before any check), capped at MaxDesktops.
func desktopCount(groups []Group) int {
	n := 0
	for _, g := range groups {
		n += max(g.CountOrDefault(), 0)
	}
	return min(n, MaxDesktops)
}

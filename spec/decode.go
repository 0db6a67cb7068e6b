package spec

import (
	"fmt"
	"math"
	"net/mail"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// MaxRemark is the longest sub-account remark the API accepts, in characters.
const MaxRemark = 30

// decoder turns yaml.v3 nodes of one file into spec types, strictly, collecting every problem.
type decoder struct {
	file   string
	diags  Diagnostics
	budget int
	memo   map[*yaml.Node][]kv // expanded mappings, by node
}

func newDecoder(file string) *decoder { return &decoder{file: file, budget: maxNodes} }

func (d *decoder) pos(n *yaml.Node) Pos { return Pos{File: d.file, Line: n.Line, Col: n.Column} }

func (d *decoder) errorf(n *yaml.Node, hint, format string, args ...any) {
	if d.budget <= 0 {
		return // the rest are artifacts of the truncated walk
	}
	d.diags = append(d.diags, Diagnostic{Pos: d.pos(n), Message: fmt.Sprintf(format, args...), Hint: hint})
}

func (d *decoder) warnf(n *yaml.Node, hint, format string, args ...any) {
	d.diags = append(d.diags, Diagnostic{Pos: d.pos(n), Severity: Warning, Message: fmt.Sprintf(format, args...), Hint: hint})
}

// deref follows aliases, charging the node budget; nil when the budget is spent (reported once).
func (d *decoder) deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i > 100 {
			return nil
		}
		n = n.Alias
	}
	if n == nil {
		return nil
	}
	d.budget--
	if d.budget == 0 {
		d.diags = append(d.diags, Diagnostic{Pos: d.pos(n),
			Message: fmt.Sprintf("document too large: more than %d YAML nodes after expanding aliases", maxNodes)})
	}
	if d.budget <= 0 {
		return nil
	}
	return n
}

// Unalias returns the node an alias node stands for (following chains of aliases, at most 100 deep),
// or n itself when it is not an alias. It charges no node budget: callers that expand user input must
// bound their own work. The spec loader and the schema validator share it.
func Unalias(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// describe names a node's type for error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing (null)"
		case "!!int":
			return "the integer " + n.Value
		case "!!float":
			return "the number " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		case "!!str":
			return strconv.Quote(n.Value)
		}
		return n.ShortTag() + " " + strconv.Quote(n.Value)
	}
	return "an unsupported YAML node"
}

const bindTwiceHint = "bind each desktop once; one account may have several desktops"

// kv is a key and its value in a mapping.
type kv struct{ k, v *yaml.Node }

// pairs returns the entries of a mapping node, merge keys (<<) expanded with explicit keys winning.
// Duplicate explicit keys and non-string keys are errors. ok is false when n is not a mapping.
// A mapping reached again through an alias or merge key is expanded once per document (memo), so
// merge chains cost linear, not exponential, time.
func (d *decoder) pairs(n *yaml.Node, what string) (out []kv, ok bool) {
	n = d.deref(n)
	if n == nil {
		return nil, false
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "", "%s must be a mapping, got %s", what, describe(n))
		return nil, false
	}
	if m, done := d.memo[n]; done {
		return m, true
	}
	if d.memo == nil {
		d.memo = map[*yaml.Node][]kv{}
	}
	d.memo[n] = nil // a mapping that merges itself sees itself empty
	defer func() { d.memo[n] = out }()
	seen := map[string]*yaml.Node{}
	var merged []kv
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := d.deref(n.Content[i]), n.Content[i+1]
		if k == nil {
			return out, true
		}
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merged = append(merged, d.merge(v, what)...)
			continue
		}
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!null" {
			d.errorf(k, "", "%s: a key must be a string, got %s", what, describe(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			if what == "bindings" {
				d.errorf(k, bindTwiceHint, "desktop %q is bound twice (first at %s)", k.Value, d.pos(first))
			} else {
				d.errorf(k, "", "duplicate key %q in %s (first at %s)", k.Value, what, d.pos(first))
			}
			continue
		}
		seen[k.Value] = k
		out = append(out, kv{k, v})
	}
	for _, m := range merged {
		if _, dup := seen[m.k.Value]; !dup {
			seen[m.k.Value] = m.k
			out = append(out, m)
		}
	}
	return out, true
}

// merge returns the entries a merge key's value brings: a mapping or a list of mappings.
func (d *decoder) merge(v *yaml.Node, what string) []kv {
	v = d.deref(v)
	if v == nil {
		return nil
	}
	if v.Kind == yaml.SequenceNode {
		var out []kv
		for _, e := range v.Content {
			p, _ := d.pairs(e, what)
			out = append(out, p...)
		}
		return out
	}
	p, _ := d.pairs(v, what)
	return p
}

// fields returns the entries of a mapping by key, reporting keys not in allowed as unknown (with the
// closest allowed key as a suggestion). ok is false when n is not a mapping.
func (d *decoder) fields(n *yaml.Node, what string, allowed ...string) (map[string]kv, []string, bool) {
	ps, ok := d.pairs(n, what)
	if !ok {
		return nil, nil, false
	}
	m := make(map[string]kv, len(ps))
	var order []string
	for _, p := range ps {
		if !slices.Contains(allowed, p.k.Value) {
			msg := fmt.Sprintf("unknown key %q in %s", p.k.Value, what)
			if c := closest(p.k.Value, allowed); c != "" {
				d.errorf(p.k, "", "%s; did you mean %q?", msg, c)
			} else {
				d.errorf(p.k, "", "%s; keys: %s", msg, strings.Join(allowed, ", "))
			}
			continue
		}
		m[p.k.Value] = p
		order = append(order, p.k.Value)
	}
	return m, order, true
}

// str decodes a string scalar. nonEmpty makes "" an error.
func (d *decoder) str(n *yaml.Node, what string, nonEmpty bool) (string, bool) {
	n = d.deref(n)
	if n == nil {
		return "", false
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		hint := ""
		if n.Kind == yaml.ScalarNode && n.ShortTag() != "!!null" {
			hint = fmt.Sprintf("quote it: %q", n.Value)
		}
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
			hint = "give a value or remove the key"
		}
		d.errorf(n, hint, "%s must be a string, got %s", what, describe(n))
		return "", false
	}
	if nonEmpty && strings.TrimSpace(n.Value) == "" {
		d.errorf(n, "", "%s must not be empty", what)
		return "", false
	}
	return n.Value, true
}

// integer decodes an integer scalar that fits in an int32.
func (d *decoder) integer(n *yaml.Node, what string) (int, bool) {
	n = d.deref(n)
	if n == nil {
		return 0, false
	}
	var v int64
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&v) != nil {
		d.errorf(n, "", "%s must be an integer, got %s", what, describe(n))
		return 0, false
	}
	if v > math.MaxInt32 || v < math.MinInt32 {
		d.errorf(n, "", "%s is out of range: %s", what, n.Value)
		return 0, false
	}
	return int(v), true
}

// boolean decodes true or false.
func (d *decoder) boolean(n *yaml.Node, what string) (bool, bool) {
	n = d.deref(n)
	if n == nil {
		return false, false
	}
	var v bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&v) != nil {
		d.errorf(n, "", "%s must be true or false, got %s", what, describe(n))
		return false, false
	}
	return v, true
}

// atLeast decodes an integer and checks it is at least lo (and at most hi when hi > 0).
func (d *decoder) atLeast(n *yaml.Node, what string, lo, hi int, unit string) (*int, bool) {
	v, ok := d.integer(n, what)
	if !ok {
		return nil, false
	}
	if v < lo {
		d.errorf(n, "", "%s must be at least %d%s, got %d", what, lo, unit, v)
		return nil, false
	}
	if hi > 0 && v > hi {
		d.errorf(n, "split the group into several groups", "%s %d is over the limit of %d per group", what, v, hi)
		return nil, false
	}
	return &v, true
}

// docInfo is one decoded document with the positions that the merge needs.
type docInfo struct {
	file        string
	doc         Document
	start       Pos
	versionPos  Pos
	fleetPos    Pos
	hasVersion  bool
	hasFleet    bool
	bindingsSet bool
	bindingsPos Pos
	bindingAt   map[string]Pos // desktop name key
	bindingVal  map[string]Pos // email value
	defaults    *Defaults
}

var topKeys = []string{"version", "fleet", "defaults", "billing", "profiles", "accounts", "desktops", "bindings"}

// document decodes one document; nil when its root is not a mapping.
func (d *decoder) document(root *yaml.Node) *docInfo {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	di := &docInfo{file: d.file, start: d.pos(n), bindingAt: map[string]Pos{}, bindingVal: map[string]Pos{}}
	f, _, ok := d.fields(n, "the spec", topKeys...)
	if !ok {
		return nil
	}
	if p, ok := f["version"]; ok {
		di.hasVersion = true
		di.versionPos = d.pos(p.v)
		if v, ok := d.integer(p.v, "version"); ok {
			if v != 1 {
				d.errorf(p.v, "", "unsupported version %d; this deskfleet reads version 1", v)
			}
			di.doc.Version = v
		}
	} else {
		d.errorf(n, "add `version: 1`", "missing version")
	}
	if p, ok := f["fleet"]; ok {
		di.hasFleet = true
		di.fleetPos = d.pos(p.v)
		di.doc.Fleet, _ = d.str(p.v, "fleet", true)
	} else {
		d.errorf(n, "name the fleet with `fleet: NAME`; every document of a spec names the same fleet", "missing fleet")
	}
	if p, ok := f["defaults"]; ok {
		di.defaults = d.defaults(p.v)
	}
	if p, ok := f["billing"]; ok {
		ps, _ := d.pairs(p.v, "billing")
		di.doc.Billing = map[string]BillingPlan{}
		for _, e := range ps {
			if plan, ok := d.billingPlan(e.v, e.k.Value); ok {
				plan.Name, plan.Pos = e.k.Value, d.pos(e.k)
				di.doc.Billing[e.k.Value] = plan
			}
		}
	}
	if p, ok := f["profiles"]; ok {
		ps, _ := d.pairs(p.v, "profiles")
		di.doc.Profiles = map[string]Profile{}
		for _, e := range ps {
			if pr, ok := d.profile(e.v, e.k.Value); ok {
				pr.Name, pr.Pos = e.k.Value, d.pos(e.k)
				di.doc.Profiles[e.k.Value] = pr
			}
		}
	}
	if p, ok := f["accounts"]; ok {
		for _, e := range d.list(p.v, "accounts") {
			if a, ok := d.account(e); ok {
				di.doc.Accounts = append(di.doc.Accounts, a)
			}
		}
	}
	if p, ok := f["desktops"]; ok {
		for _, e := range d.list(p.v, "desktops") {
			if g, ok := d.group(e); ok {
				di.doc.Desktops = append(di.doc.Desktops, g)
			}
		}
	}
	if p, ok := f["bindings"]; ok {
		di.bindingsSet = true
		di.bindingsPos = d.pos(p.v)
		di.doc.Bindings = map[string]string{}
		ps, _ := d.pairs(p.v, "bindings")
		for _, e := range ps {
			email, ok := d.str(e.v, fmt.Sprintf("the account bound to %q", e.k.Value), true)
			if !ok {
				continue
			}
			di.doc.Bindings[e.k.Value] = email
			di.bindingAt[e.k.Value] = d.pos(e.k)
			di.bindingVal[e.k.Value] = d.pos(e.v)
		}
	}
	return di
}

// list returns the items of a sequence node.
func (d *decoder) list(n *yaml.Node, what string) []*yaml.Node {
	n = d.deref(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "", "%s must be a list, got %s", what, describe(n))
		return nil
	}
	return n.Content
}

func (d *decoder) defaults(n *yaml.Node) *Defaults {
	f, _, ok := d.fields(n, "defaults", "site", "network", "bandwidth", "billing", "profile")
	if !ok {
		return nil
	}
	df := &Defaults{Pos: d.pos(n), At: map[string]Pos{}}
	for k, p := range f {
		df.At[k] = d.pos(p.v)
		switch k {
		case "site":
			df.Site, _ = d.str(p.v, "site", true)
		case "network":
			df.Network = d.network(p.v)
		case "bandwidth":
			df.Bandwidth, _ = d.atLeast(p.v, "bandwidth", 1, 0, " Mbps")
		case "billing":
			df.Billing, _ = d.str(p.v, "billing", true)
		case "profile":
			df.Profile, _ = d.str(p.v, "profile", true)
		}
	}
	return df
}

func (d *decoder) network(n *yaml.Node) *Network {
	f, _, ok := d.fields(n, "network", "vpc", "subnet", "gateway")
	if !ok {
		return nil
	}
	nw := &Network{Pos: d.pos(n)}
	for k, p := range f {
		switch k {
		case "vpc":
			nw.VPC, _ = d.str(p.v, "vpc", true)
		case "subnet":
			nw.Subnet, _ = d.str(p.v, "subnet", true)
		case "gateway":
			nw.Gateway, _ = d.str(p.v, "gateway", true)
		}
	}
	return nw
}

func (d *decoder) billingPlan(n *yaml.Node, name string) (BillingPlan, bool) {
	what := fmt.Sprintf("billing plan %q", name)
	f, _, ok := d.fields(n, what, "cycle", "months", "toMonthEnd", "fullMonthPrice", "autoRenew", "renewWithin")
	if !ok {
		return BillingPlan{}, false
	}
	b := BillingPlan{At: map[string]Pos{}}
	for k, p := range f {
		b.At[k] = d.pos(p.v)
		switch k {
		case "cycle":
			if s, ok := d.str(p.v, "cycle", false); ok {
				if s != string(CycleMinute) && s != string(CycleMonth) {
					msg := fmt.Sprintf("unknown billing cycle %q", s)
					if c := closest(s, []string{"minute", "month"}); c != "" {
						msg += fmt.Sprintf("; did you mean %q?", c)
					}
					d.errorf(p.v, "", "%s; use minute (per-minute) or month (monthly)", msg)
				} else {
					b.Cycle = Cycle(s)
				}
			}
		case "months":
			b.Months, _ = d.atLeast(p.v, "months", 1, 0, "")
		case "toMonthEnd":
			b.ToMonthEnd, _ = d.boolean(p.v, "toMonthEnd")
		case "fullMonthPrice":
			b.FullMonthPrice, _ = d.boolean(p.v, "fullMonthPrice")
		case "autoRenew":
			b.AutoRenew, _ = d.boolean(p.v, "autoRenew")
		case "renewWithin":
			if s, ok := d.str(p.v, "renewWithin", false); ok {
				dur, err := ParseDuration(s)
				if err != nil {
					d.errorf(p.v, "", "bad duration %q for renewWithin: %v; use a Go duration like 168h or days like 7d", s, err)
				} else {
					b.RenewWithin, b.RenewWithinDuration = s, dur
				}
			}
		}
	}
	if _, ok := f["cycle"]; !ok {
		d.errorf(n, "", "%s has no cycle; set cycle: minute or cycle: month", what)
	}
	return b, true
}

// ParseDuration parses a Go duration ("168h", "1h30m") or a whole number of days ("7d"). The duration
// must be positive.
func ParseDuration(s string) (time.Duration, error) {
	var dur time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok && days != "" && strings.Trim(days, "0123456789") == "" {
		n, err := strconv.Atoi(days)
		if err != nil || n > 100_000 {
			return 0, fmt.Errorf("too many days")
		}
		dur = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if dur, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("not a duration")
		}
	}
	if dur <= 0 {
		return 0, fmt.Errorf("must be positive")
	}
	return dur, nil
}

func (d *decoder) profile(n *yaml.Node, name string) (Profile, bool) {
	f, _, ok := d.fields(n, fmt.Sprintf("profile %q", name), "product", "image")
	if !ok {
		return Profile{}, false
	}
	pr := Profile{At: map[string]Pos{}}
	for k, p := range f {
		pr.At[k] = d.pos(p.v)
		switch k {
		case "product":
			if v, ok := d.product(p.v); ok {
				pr.Product = &v
			}
		case "image":
			pr.Image, _ = d.str(p.v, "image", true)
		}
	}
	return pr, true
}

// product decodes a productId string or a selector mapping.
func (d *decoder) product(n *yaml.Node) (Product, bool) {
	n = d.deref(n)
	if n == nil {
		return Product{}, false
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		id, ok := d.str(n, "product", true)
		return Product{ID: id, Pos: d.pos(n)}, ok
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "", "product must be a productId string or a selector like {gpu: NVIDIA A5000, os: windows}, got %s", describe(n))
		return Product{}, false
	}
	f, _, ok := d.fields(n, "product selector", "gpu", "gpuRam", "cpu", "memory", "disk", "os")
	if !ok {
		return Product{}, false
	}
	pr := Product{Pos: d.pos(n)}
	for k, p := range f {
		switch k {
		case "gpu":
			pr.GPU, _ = d.str(p.v, "gpu", true)
		case "os":
			pr.OS, _ = d.str(p.v, "os", true)
		case "gpuRam":
			pr.GPURam, _ = d.atLeast(p.v, "gpuRam", 1, 0, " GB")
		case "cpu":
			pr.CPU, _ = d.atLeast(p.v, "cpu", 1, 0, " cores")
		case "memory":
			pr.Memory, _ = d.atLeast(p.v, "memory", 1, 0, " GB")
		case "disk":
			pr.Disk, _ = d.atLeast(p.v, "disk", 1, 0, " GB")
		}
	}
	if len(f) == 0 {
		d.errorf(n, "", "empty product selector; set at least one of gpu, gpuRam, cpu, memory, disk, os")
		return Product{}, false
	}
	return pr, true
}

// ValidEmail reports whether s is a bare email address (name@domain, no display name or brackets).
func ValidEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1
}

func (d *decoder) account(n *yaml.Node) (Account, bool) {
	f, _, ok := d.fields(n, "account", "email", "name", "remark")
	if !ok {
		return Account{}, false
	}
	nn := Unalias(n)
	a := Account{Pos: d.pos(nn), At: map[string]Pos{}}
	good := true
	for k, p := range f {
		a.At[k] = d.pos(p.v)
		switch k {
		case "email":
			if s, ok := d.str(p.v, "email", true); ok {
				if !ValidEmail(s) {
					d.errorf(p.v, "", "malformed email %q; want name@domain", s)
					good = false
				}
				a.Email = s
			} else {
				good = false
			}
		case "name":
			a.Name, _ = d.str(p.v, "name", true)
		case "remark":
			if s, ok := d.str(p.v, "remark", false); ok {
				if c := utf8.RuneCountInString(s); c > MaxRemark {
					d.errorf(p.v, "", "remark is %d characters; the API allows at most %d", c, MaxRemark)
				}
				a.Remark = &s
			}
		}
	}
	if _, ok := f["email"]; !ok {
		d.errorf(nn, "", "account has no email; an account is identified by its email")
		return a, false
	}
	if _, ok := f["name"]; !ok {
		d.errorf(nn, "", "account %q has no name; the API needs one to create it", a.Email)
	}
	return a, good
}

var groupKeys = []string{"name", "count", "site", "network", "bandwidth", "billing", "profile", "product", "image",
	"label", "power", "protect", "renamedFrom"}

func (d *decoder) group(n *yaml.Node) (Group, bool) {
	f, _, ok := d.fields(n, "desktop group", groupKeys...)
	if !ok {
		return Group{}, false
	}
	nn := Unalias(n)
	g := Group{Pos: d.pos(nn), At: map[string]Pos{}}
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := f[k]
		g.At[k] = d.pos(p.v)
		switch k {
		case "name":
			g.Name, _ = d.str(p.v, "name", true)
		case "count":
			g.Count, _ = d.atLeast(p.v, "count", 1, MaxCount, "")
		case "site":
			g.Site, _ = d.str(p.v, "site", true)
		case "network":
			g.Network = d.network(p.v)
		case "bandwidth":
			g.Bandwidth, _ = d.atLeast(p.v, "bandwidth", 1, 0, " Mbps")
		case "billing":
			g.Billing, _ = d.str(p.v, "billing", true)
		case "profile":
			g.Profile, _ = d.str(p.v, "profile", true)
		case "product":
			if v, ok := d.product(p.v); ok {
				g.Product = &v
			}
		case "image":
			g.Image, _ = d.str(p.v, "image", true)
		case "label":
			if s, ok := d.str(p.v, "label", false); ok {
				g.Label = &s
			}
		case "power":
			if s, ok := d.power(p.v); ok {
				g.Power = &s
			}
		case "protect":
			if b, ok := d.boolean(p.v, "protect"); ok {
				g.Protect = &b
			}
		case "renamedFrom":
			g.RenamedFrom, _ = d.str(p.v, "renamedFrom", true)
		}
	}
	if _, ok := f["name"]; !ok {
		d.errorf(nn, "", "desktop group has no name")
		return g, false
	}
	return g, g.Name != ""
}

// power decodes on or off. yaml.v3 reads unquoted on/off as strings; true/false are booleans and are
// refused with a hint, since the format says on | off.
func (d *decoder) power(n *yaml.Node) (Power, bool) {
	n = d.deref(n)
	if n == nil {
		return "", false
	}
	if n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!str" || n.ShortTag() == "!!bool") {
		switch n.Value {
		case "on", "off":
			if n.ShortTag() == "!!str" {
				return Power(n.Value), true
			}
		}
	}
	v := n.Value
	if n.Kind != yaml.ScalarNode {
		v = describe(n)
	}
	d.errorf(n, "", "unknown power %q; use on or off", v)
	return "", false
}

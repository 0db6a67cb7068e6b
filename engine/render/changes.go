package render

import (
	"slices"

	"github.com/deskfleet/deskfleet/engine"
)

// row is one line of a changes section. The first row of an object carries its name (and id); the
// rows of its other changes leave them blank.
type row struct {
	action engine.Action
	name   string
	id     string // shortened, "" when none or on a continuation row
	attr   string
	parts  []string // the value, in pieces joined by " · " (a piece is never broken)
}

// changeSection is a titled list of rows.
type changeSection struct {
	title string
	rows  []row
}

// stringAttrs are the attributes whose values are free text, shown quoted and diffed.

// changes writes the sections of changes: networks, sub-accounts, desktops, then the changes that set
// back what was changed outside deskfleet. The columns line up across all sections.
func (t *textWriter) changes() {
	inBand := func(kind engine.ObjectKind) func(engine.Change) bool {
		return func(c engine.Change) bool { return c.Object == kind && !c.OutOfBand }
	}
	sections := []changeSection{
		{"Networks", t.rows(inBand(engine.ObjectNetwork), false)},
		{"Sub-accounts", t.rows(inBand(engine.ObjectAccount), false)},
		{"Desktops", t.rows(inBand(engine.ObjectDesktop), false)},
		{"Changed outside deskfleet (set back by this plan)",
			t.rows(func(c engine.Change) bool { return c.OutOfBand }, true)},
	}
	nameW, idW, attrW := 0, 0, 0
	for _, s := range sections {
		for _, r := range s.rows {
			if w := displayWidth(r.name); w <= nameCap {
				nameW = max(nameW, w)
			}
			if r.id != "" {
				idW = max(idW, displayWidth(r.id)+2)
			}
			attrW = max(attrW, displayWidth(r.attr))
		}
	}
	for _, s := range sections {
		if len(s.rows) == 0 {
			continue
		}
		t.section(s.title)
		for _, r := range s.rows {
			t.row(r, nameW, idW, attrW)
		}
	}
}

// row writes one row: glyph, name, id, attribute, value. A name wider than its column gets a line of
// its own and the rest of the row goes on the next line.
func (t *textWriter) row(r row, nameW, idW, attrW int) {
	glyph := padLeft(t.st.glyph(r.action), 3) + " "
	name := r.name
	if displayWidth(name) > nameW {
		t.line(glyph + name)
		glyph, name = "    ", ""
	}
	prefix := glyph + pad(name, nameW) + " "
	if idW > 0 {
		id := ""
		if r.id != "" {
			id = "(" + r.id + ")"
		}
		prefix += pad(id, idW) + " "
	}
	prefix += " " + pad(r.attr, attrW) + "  "
	t.wrapped(prefix, displayWidth(prefix), r.parts, " · ")
}

// rows builds the rows of the changes that keep, grouped by object in the order objects first
// appear. Consecutive desktops created alike (one change each, the same parameters) share one row
// that lists their names.
func (t *textWriter) rows(keep func(engine.Change) bool, outOfBand bool) []row {
	type object struct {
		kind engine.ObjectKind
		name string
	}
	var order []object
	byObject := map[object][]engine.Change{}
	for _, c := range t.p.Changes {
		if c.Action == engine.ActionNoop || !keep(c) {
			continue
		}
		k := object{c.Object, c.Name}
		if _, ok := byObject[k]; !ok {
			order = append(order, k)
		}
		byObject[k] = append(byObject[k], c)
	}
	var rows []row
	for i := 0; i < len(order); i++ {
		cs := byObject[order[i]]
		if mergeable(cs) {
			j := i + 1
			for j < len(order) && mergeable(byObject[order[j]]) && sameCreate(cs[0], byObject[order[j]][0]) {
				j++
			}
			if j > i+1 {
				group := make([]engine.Change, 0, j-i)
				for _, k := range order[i:j] {
					group = append(group, byObject[k][0])
				}
				rows = append(rows, t.mergedRow(group))
				i = j - 1
				continue
			}
		}
		for n, c := range cs {
			r := row{action: c.Action, attr: safe(string(c.Attribute)), parts: t.valueParts(c, outOfBand)}
			if n == 0 {
				r.name, r.id = safe(c.Name), safe(shortID(c.ID, t.idLen))
				if c.Object != engine.ObjectDesktop {
					r.id = "" // accounts are known by email, sites by name
				}
			}
			rows = append(rows, r)
		}
	}
	return rows
}

// mergeable reports whether an object's changes are a single creation of a desktop.
func mergeable(cs []engine.Change) bool {
	return len(cs) == 1 && cs[0].Object == engine.ObjectDesktop && cs[0].Action == engine.ActionCreate &&
		cs[0].ID == ""
}

// sameCreate reports whether two creations show the same parameters (names, bound accounts and steps
// aside).
func sameCreate(a, b engine.Change) bool {
	return a.Attribute == b.Attribute && a.Before == b.Before && a.After == b.After && a.Detail == b.Detail &&
		a.Reason == b.Reason && a.Guard == b.Guard
}

// mergedRow is the one row of desktops created alike: their names (shortened), the shared value,
// and who each is bound to.
func (t *textWriter) mergedRow(cs []engine.Change) row {
	first := cs[0]
	first.Account = ""
	r := row{action: first.Action, attr: safe(string(first.Attribute)), parts: t.valueParts(first, false)}
	names := make([]string, len(cs))
	var bound, accounts []string
	for i, c := range cs {
		names[i] = safe(c.Name)
		if c.Account != "" {
			bound = append(bound, safe(c.Name)+"="+safe(c.Account))
			if !slices.Contains(accounts, safe(c.Account)) {
				accounts = append(accounts, safe(c.Account))
			}
		}
	}
	r.name = shortList(names)
	switch {
	case len(bound) == len(cs) && len(accounts) == 1:
		r.parts = append(r.parts, "bound to "+accounts[0])
	case len(bound) > 0:
		r.parts = append(r.parts, "bound "+shortList(bound))
	}
	return r
}

// valueParts is what a change's row says after its attribute: the values (diffed when they are free
// text), the detail, the reason, who is bound to a desktop that is created or loses data, and the
// flag a guarded change needs.
func (t *textWriter) valueParts(c engine.Change, outOfBand bool) []string {
	var parts []string
	if v := t.values(c, outOfBand); v != "" {
		parts = append(parts, v)
	}
	if c.Detail != "" {
		parts = append(parts, safe(c.Detail))
	}
	if c.Reason != "" {
		parts = append(parts, safe(c.Reason))
	}
	if c.Account != "" && c.Attribute != engine.AttrBind && (c.Action == engine.ActionCreate || isDestructive(c)) {
		parts = append(parts, "bound to "+safe(c.Account))
	}
	if c.Guard != engine.GuardNone {
		parts = append(parts, t.st.red("needs "+c.Guard.Flag()))
	}
	return parts
}

// values shows Before and After: free text quoted and diffed, other values as `before -> after`
// ("none" for an empty side). A change set back from outside deskfleet reads `live before -> after`.
func (t *textWriter) values(c engine.Change, outOfBand bool) string {
	if c.Before == "" && c.After == "" {
		return ""
	}
	if c.Attribute.FreeText() {
		if outOfBand {
			return "live " + quote(c.Before) + " -> " + quote(c.After)
		}
		return diffString(t.st, c.Before, c.After)
	}
	before, after := safe(c.Before), safe(c.After)
	if before == "" && (c.Action == engine.ActionCreate || c.Action == engine.ActionAdopt) {
		return after
	}
	if before == "" {
		before = "none"
	}
	if after == "" {
		after = "none"
	}
	if outOfBand {
		return "live " + before + " -> " + after
	}
	return before + " -> " + after
}

package spec

import (
	"fmt"
	"maps"
	"reflect"
	"strconv"
	"strings"
)

// The override rule of a spec over the base it extends (docs/spec.md, "Environments"):
//
//   - fleet and version: the spec's replace the base's.
//   - defaults: key by key; a key the spec sets replaces the base's value.
//   - billing plans and profiles (maps by name), accounts (by email, ignoring case) and desktop groups
//     (by name): an entry the base lacks is added (after the base's, for lists); an entry of the same
//     name overrides the base's field by field, each key the spec sets replacing the base's value.
//   - bindings: desktop by desktop; the bindings are managed when the base or the spec has the key.
//   - a value is replaced whole, never merged: a scalar, and a network or product mapping (their keys
//     only mean something together: a subnet belongs to its VPC).
//   - remove: lists entries of the base to delete first, each of which the base must have; an entry
//     removed and declared again is replaced whole.
//
// Every position follows the value that won: an error about a value the spec set points into the
// spec, one about a value kept from the base into the base.

// removals lists what a document's remove key names, with positions.
func removals(di *docInfo) []removal {
	r := di.doc.Remove
	if r == nil {
		return nil
	}
	var out []removal
	g := grammarOf(reflect.TypeFor[Removals]())
	rv := reflect.ValueOf(r).Elem()
	for _, f := range g.fields {
		names := rv.Field(f.index).Interface().([]string)
		for i, n := range names {
			ptr := "/" + escape(keyRemove) + "/" + escape(f.key) + "/" + strconv.Itoa(i)
			out = append(out, removal{kind: f.key, name: n, pos: di.valPos[ptr]})
		}
	}
	return out
}

var keyRemove = keyOf[Document]("Remove")

// overlay merges top, a layer that extends base, over base (the layers below it, merged), and returns
// the result. base is modified.
func (c *checker) overlay(base, top *merged) *merged {
	c.removeFrom(base, top)
	fl, tf := base.fl, top.fl
	if tf.Name != "" {
		fl.Name, base.fleetPos = tf.Name, top.fleetPos
	}
	if tf.Version != 0 {
		fl.Version = tf.Version
	}
	if len(top.def.At) > 0 {
		*base.def = override(*base.def, *top.def)
	}
	for name, p := range tf.Billing {
		if b, ok := fl.Billing[name]; ok {
			p = override(b, p)
			p.decoded()
		}
		fl.Billing[name] = p
	}
	for name, p := range tf.Profiles {
		if b, ok := fl.Profiles[name]; ok {
			p = override(b, p)
		}
		fl.Profiles[name] = p
	}
	fl.Accounts = overrideList(fl.Accounts, tf.Accounts, func(a Account) string { return strings.ToLower(a.Email) })
	fl.Groups = overrideList(fl.Groups, tf.Groups, func(g Group) string { return g.Name })
	for _, g := range fl.Groups {
		// The schema says so of each file: said again of what the files make together.
		if g.RenamedFrom != "" && g.CountOrDefault() > 1 {
			c.errorf(g.At[keyRename], Group{}.conditionHint(), "%s renames one desktop: desktop group %q has count %d (at %s)",
				keyRename, g.Name, g.CountOrDefault(), g.At["count"])
		}
	}
	if tf.Bindings.Set {
		if !fl.Bindings.Set {
			fl.Bindings.Set, fl.Bindings.Pos = true, tf.Bindings.Pos
		}
		for desk, email := range tf.Bindings.ByDesktop {
			fl.Bindings.ByDesktop[desk], fl.Bindings.At[desk] = email, tf.Bindings.At[desk]
			base.bindVal[desk] = top.bindVal[desk]
		}
	}
	fl.Overrides = append(fl.Overrides, tf.Overrides...) // the overlay's come after the base's: they win
	if tf.Budget != nil {
		fl.Budget = tf.Budget // a budget is one decision: the overlay's replaces the base's whole
	}
	base.extends, base.remove, base.files = top.extends, nil, top.files
	return base
}

// override returns base with each field that top sets (a key of top's At) replaced by top's, and
// top's Pos: T is a struct with the At and Pos fields of the spec's types.
func override[T any](base, top T) T {
	out := base
	ov, tv := reflect.ValueOf(&out).Elem(), reflect.ValueOf(top)
	at := maps.Clone(ov.FieldByName("At").Interface().(map[string]Pos))
	if at == nil {
		at = map[string]Pos{}
	}
	g := grammarOf(reflect.TypeFor[T]())
	for k, p := range tv.FieldByName("At").Interface().(map[string]Pos) {
		if f := g.byKey[k]; f != nil {
			ov.Field(f.index).Set(tv.Field(f.index))
			at[k] = p
		}
	}
	ov.FieldByName("At").Set(reflect.ValueOf(at))
	ov.FieldByName("Pos").Set(tv.FieldByName("Pos"))
	return out
}

// overrideList merges the named items of top over those of base (see override): an item whose key
// is a base item's overrides it in place, the others are added after the base's, in top's order.
func overrideList[T any](base, top []T, key func(T) string) []T {
	index := map[string]int{}
	for i, b := range base {
		index[key(b)] = i
	}
	for _, t := range top {
		if i, ok := index[key(t)]; ok {
			base[i] = override(base[i], t)
			continue
		}
		index[key(t)] = len(base)
		base = append(base, t)
	}
	return base
}

// removeFrom deletes from base what top's remove lists; a name the base does not have is an error
// at the name. When top's base could not be read (reported at its extends), nothing is checked.
func (c *checker) removeFrom(base, top *merged) {
	fl := base.fl
	for _, r := range top.remove {
		var names []string
		found := false
		switch r.kind {
		case keyOf[Removals]("Defaults"):
			names = sortedKeys(base.def.At)
			f := grammarOf(reflect.TypeFor[Defaults]()).byKey[r.name]
			if _, found = base.def.At[r.name]; found && f != nil {
				delete(base.def.At, r.name)
				fv := reflect.ValueOf(base.def).Elem().Field(f.index)
				fv.Set(reflect.Zero(fv.Type()))
			}
		case keyOf[Removals]("Billing"):
			names = sortedKeys(fl.Billing)
			_, found = fl.Billing[r.name]
			delete(fl.Billing, r.name)
		case keyOf[Removals]("Profiles"):
			names = sortedKeys(fl.Profiles)
			_, found = fl.Profiles[r.name]
			delete(fl.Profiles, r.name)
		case keyOf[Removals]("Accounts"):
			names, fl.Accounts, found = removeNamed(fl.Accounts, strings.ToLower(r.name), func(a Account) string { return strings.ToLower(a.Email) })
		case keyOf[Removals]("Desktops"):
			names, fl.Groups, found = removeNamed(fl.Groups, r.name, func(g Group) string { return g.Name })
		case keyOf[Removals]("Bindings"):
			names = sortedKeys(fl.Bindings.ByDesktop)
			_, found = fl.Bindings.ByDesktop[r.name]
			delete(fl.Bindings.ByDesktop, r.name)
			delete(fl.Bindings.At, r.name)
			delete(base.bindVal, r.name)
		}
		if found {
			continue
		}
		msg := fmt.Sprintf("cannot remove %s %q: the base (%s) has none", removedNoun(r.kind), r.name, strings.Join(base.files, ", "))
		if s := closest(r.name, names); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		c.errorf(r.pos, "remove only what the base declares; to add an entry, declare it in this spec", "%s", msg)
	}
}

// removedNoun names what a key under remove lists, in messages.
func removedNoun(kind string) string {
	if kind == keyOf[Removals]("Defaults") {
		return keyDefaults + " key"
	}
	return grammarOf(reflect.TypeFor[Removals]()).byKey[kind].tag.Get("noun")
}

// removeNamed deletes the item of items whose key is want. It returns the keys there were, the items
// left and whether one was deleted.
func removeNamed[T any](items []T, want string, key func(T) string) (names []string, left []T, found bool) {
	for _, it := range items {
		names = append(names, key(it))
		if !found && key(it) == want {
			found = true
			continue
		}
		left = append(left, it)
	}
	return names, left, found
}

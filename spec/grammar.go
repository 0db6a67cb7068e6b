package spec

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// grammar is the shape of one spec value as the Go types of this package declare it: the Go type
// (pointers removed) and, for a struct, its keys in declaration order, read from the `yaml` struct
// tags. It is the one place the loader learns key names from, so each key is spelled once, in its tag.
//
// Besides yaml, json and jsonschema, a field may carry these tags, read by the loader's messages and
// checks (the schema generator ignores them):
//
//	noun     how messages name the value (for a map or a list: its elements); %q is the map key
//	unit     the unit written after a number ("Mbps")
//	limit    what follows "over the limit of N" when the value is over its maximum
//	fix      the hint of an error about the value (a missing key, a value over its maximum)
//	why      the reason appended to "<noun> has no <key>" when the required key is missing
//	unknown  for a value out of its enum: the message, %s or %q being the value
//	use      for a value out of its enum: what to write instead
//	twice    for a map whose keys may not repeat: the message for a key written twice, %q the key
//	check    a check of the value beyond the schema, by name (see valueChecks)
//	cycle    the billing cycle a field of a plan has an effect on (a warning elsewhere)
//	needs    the boolean key of the same mapping without which this boolean has no effect
//	id       "true" on the key that identifies its mapping in messages ("account %q")
//	spec     "mapkey": the field receives the map key of a value declared in a map
type grammar struct {
	typ    reflect.Type
	fields []field  // for a struct, in declaration order
	elem   *grammar // for a map (its values) or a slice (its items)
	byKey  map[string]*field
	byName map[string]*field // by Go field name
}

// field is one key of a struct.
type field struct {
	key   string
	index int
	tag   reflect.StructTag
	g     *grammar
}

// kind returns the reflect kind of the grammar's type.
func (g *grammar) kind() reflect.Kind { return g.typ.Kind() }

// keys returns the keys of a struct, in declaration order.
func (g *grammar) keys() []string {
	out := make([]string, len(g.fields))
	for i, f := range g.fields {
		out[i] = f.key
	}
	return out
}

var grammars sync.Map // reflect.Type -> *grammar

// grammarOf returns the grammar of t, built once.
func grammarOf(t reflect.Type) *grammar {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if g, ok := grammars.Load(t); ok {
		return g.(*grammar)
	}
	g := &grammar{typ: t}
	switch t.Kind() {
	case reflect.Map, reflect.Slice:
		g.elem = grammarOf(t.Elem())
	case reflect.Struct:
		g.byKey, g.byName = map[string]*field{}, map[string]*field{}
		for i := range t.NumField() {
			sf := t.Field(i)
			key, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
			if key == "-" || key == "" || !sf.IsExported() {
				continue
			}
			g.fields = append(g.fields, field{key: key, index: i, tag: sf.Tag, g: grammarOf(sf.Type)})
		}
		for i := range g.fields {
			f := &g.fields[i]
			g.byKey[f.key], g.byName[t.Field(f.index).Name] = f, f
		}
	}
	actual, _ := grammars.LoadOrStore(t, g)
	return actual.(*grammar)
}

// keyOf returns the spec key of the Go field name of struct type T. It panics when there is none: the
// callers name fields of this package, so a test run finds a mistake.
func keyOf[T any](name string) string {
	f, ok := grammarOf(reflect.TypeFor[T]()).byName[name]
	if !ok {
		panic(fmt.Sprintf("spec: %v has no field %s with a yaml key", reflect.TypeFor[T](), name))
	}
	return f.key
}

// Keys the cross-checks name: positions are kept by key (the At maps), and some messages name a key.
var (
	keyGroupName    = keyOf[Group]("Name")
	keyGroupSite    = keyOf[Group]("Site")
	keyGroupBilling = keyOf[Group]("Billing")
	keyGroupProfile = keyOf[Group]("Profile")
	keyGroupProduct = keyOf[Group]("Product")
	keyGroupImage   = keyOf[Group]("Image")
	keyRename       = keyOf[Group]("RenamedFrom")
	keyPlanCycle    = keyOf[BillingPlan]("Cycle")
	keyEmail        = keyOf[Account]("Email")
	keyFleet        = keyOf[Document]("Fleet")
	keyBindings     = keyOf[Document]("Bindings")
	keyAccounts     = keyOf[Document]("Accounts")
	keyDesktops     = keyOf[Document]("Desktops")
	keyDefaults     = keyOf[Document]("Defaults")
)

// place is what the grammar says about one location of a document: the grammar of the value there
// (nil outside the grammar), the key it is under (for a map value, its map key; for a list item, the
// list's key), the tags of the field that declares it, and whether it is an element of a map or list.
type place struct {
	g    *grammar
	key  string
	tag  reflect.StructTag
	elem bool
	doc  bool // the document itself
}

// placeAt follows the tokens of an instance location from root.
func placeAt(root place, tokens []string) place {
	p := root
	for _, t := range tokens {
		if p.g == nil {
			return place{key: t}
		}
		switch p.g.kind() {
		case reflect.Struct:
			f := p.g.byKey[t]
			if f == nil {
				return place{key: t}
			}
			p = place{g: f.g, key: t, tag: f.tag}
		case reflect.Map:
			p = place{g: p.g.elem, key: t, tag: p.tag, elem: true}
		case reflect.Slice:
			p = place{g: p.g.elem, key: p.key, tag: p.tag, elem: true}
		default:
			return place{key: t}
		}
	}
	return p
}

// nouner is implemented by the struct types that messages call by a name of their own ("desktop
// group"); %q in the name stands for the map key the value is declared under.
type nouner interface{ noun() string }

// nounOf returns the name messages use for a mapping at p (unknown keys, duplicates, missing keys).
func (p place) nounOf() string {
	if p.doc {
		return "the spec"
	}
	if p.g != nil && p.g.kind() == reflect.Struct {
		if n, ok := reflect.Zero(p.g.typ).Interface().(nouner); ok {
			return p.format(n.noun())
		}
	}
	return p.key
}

// what returns the name of the value at p in messages about its type or value.
func (p place) what() string {
	switch {
	case p.doc:
		return "the spec"
	case p.elem && p.tag.Get("noun") != "":
		return p.format(p.tag.Get("noun"))
	case p.elem:
		return p.nounOf()
	}
	return p.key
}

// format fills the map key into a noun that has a %q.
func (p place) format(noun string) string {
	if strings.Contains(noun, "%q") {
		return fmt.Sprintf(noun, p.key)
	}
	return noun
}

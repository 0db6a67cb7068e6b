package spec

import (
	"fmt"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/invopop/jsonschema"
	validator "github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"gopkg.in/yaml.v3"
)

// explainer turns the schema's verdict on one walked document into the loader's diagnostics: each at
// the value (or key) it is about, in the words of the spec rather than of JSON Schema, with the
// suggestions and hints the grammar's tags give. It also collects the JSON pointers of the values found
// wrong (bad), which the decoder leaves out.
type explainer struct {
	w      *walk
	root   place
	source *jsonschema.Schema // the reflected schema, for the conditional rules; nil for none
	diags  Diagnostics
	bad    map[string]bool
	done   map[string]bool // pointers that have a diagnostic about their value
	said   map[string]bool // diagnostics made, as strings: a key merged twice is reported once
}

// add adds d unless the same diagnostic was made.
func (x *explainer) add(d Diagnostic) {
	if s := d.String(); !x.said[s] {
		x.said[s] = true
		x.diags = append(x.diags, d)
	}
}

// explain validates the walked document against sch and explains each violation.
func (w *walk) explain(sch *validator.Schema, source *jsonschema.Schema, root place) (Diagnostics, map[string]bool) {
	x := &explainer{w: w, root: root, source: source, bad: map[string]bool{}, done: map[string]bool{}, said: map[string]bool{}}
	err := sch.Validate(w.value)
	if err == nil {
		return nil, x.bad
	}
	ve, ok := err.(*validator.ValidationError)
	if !ok {
		return Diagnostics{{Pos: w.pos(w.root), Message: err.Error()}}, map[string]bool{"": true}
	}
	x.visit(ve)
	return x.diags, x.bad
}

// visit explains the leaves under e; a oneOf that no form matched is explained by the form the value's
// type selects.
func (x *explainer) visit(e *validator.ValidationError) {
	if k, ok := e.ErrorKind.(*kind.OneOf); ok && k.Subschemas == nil {
		x.oneOf(e)
		return
	}
	for _, c := range e.Causes {
		x.visit(c)
	}
	if len(e.Causes) == 0 {
		x.leaf(e)
	}
}

// oneOf explains a value that matches none of its forms: by the errors of the forms of its type (a
// selector mapping is explained as a selector), or else as a value of none of the types.
func (x *explainer) oneOf(e *validator.ValidationError) {
	ptr := pointer(e.InstanceLocation)
	var fit []*validator.ValidationError
	for _, c := range e.Causes {
		if !hasTypeError(c, ptr) {
			fit = append(fit, c)
		}
	}
	for _, c := range fit {
		x.visit(c)
	}
	if len(fit) > 0 {
		return
	}
	p := placeAt(x.root, e.InstanceLocation)
	want := "one of its forms"
	if p.g != nil {
		if o, ok := reflect.Zero(p.g.typ).Interface().(interface{ oneOfWant() string }); ok {
			want = o.oneOfWant()
		}
	}
	x.value(ptr, "", "%s must be %s, got %s", p.what(), want, describe(x.nodeAt(ptr)))
}

// hasTypeError reports whether e has a type error about the value at ptr itself.
func hasTypeError(e *validator.ValidationError, ptr string) bool {
	if _, ok := e.ErrorKind.(*kind.Type); ok && pointer(e.InstanceLocation) == ptr {
		return true
	}
	for _, c := range e.Causes {
		if hasTypeError(c, ptr) {
			return true
		}
	}
	return false
}

// value adds a diagnostic about the value at ptr, unless it has one, and marks the value bad.
func (x *explainer) value(ptr, hint, format string, args ...any) {
	x.bad[ptr] = true
	if x.done[ptr] {
		return
	}
	x.done[ptr] = true
	x.add(Diagnostic{Pos: x.w.pos(x.nodeAt(ptr)), Message: fmt.Sprintf(format, args...), Hint: hint})
}

// nodeAt returns the node of the value at ptr: recorded by the walk, or found from the nearest
// recorded ancestor through the mappings' entries (a value under a shared mapping is recorded for
// its first path only).
func (x *explainer) nodeAt(ptr string) *yaml.Node {
	if n, ok := x.w.at[ptr]; ok {
		return n
	}
	tokens := tokensOf(ptr)
	for i := len(tokens) - 1; i >= 0; i-- {
		n, ok := x.w.at[pointer(tokens[:i])]
		if !ok {
			continue
		}
		for _, t := range tokens[i:] {
			n = x.w.child(n, t)
			if n == nil {
				return x.w.root
			}
		}
		return n
	}
	return x.w.root
}

// child returns the value under token t of the mapping or sequence n, aliases followed; nil if none.
func (w *walk) child(n *yaml.Node, t string) *yaml.Node {
	switch n.Kind {
	case yaml.MappingNode:
		for _, e := range w.pairs[n] {
			if e.k.Value == t {
				return Unalias(e.v)
			}
		}
	case yaml.SequenceNode:
		if i, err := strconv.Atoi(t); err == nil && i >= 0 && i < len(n.Content) {
			return Unalias(n.Content[i])
		}
	}
	return nil
}

// leaf explains one failed keyword.
func (x *explainer) leaf(e *validator.ValidationError) {
	ptr := pointer(e.InstanceLocation)
	p := placeAt(x.root, e.InstanceLocation)
	if x.conditional(e, ptr) {
		return
	}
	switch k := e.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		x.unknownKeys(ptr, p, k.Properties)
	case *kind.Required:
		x.missing(ptr, p, k.Missing)
	case *kind.Type:
		x.wrongType(ptr, p, k)
	case *kind.Enum:
		x.outOfEnum(ptr, p, k.Want)
	case *kind.Const:
		x.outOfEnum(ptr, p, []any{k.Want})
	case *kind.Minimum:
		x.value(ptr, "", "%s must be at least %s%s, got %s", p.what(), ratString(k.Want), unit(p), ratString(k.Got))
	case *kind.ExclusiveMinimum:
		x.value(ptr, "a budget is an amount greater than 0; leave it out for none", "%s must be greater than %s%s, got %s", p.what(), ratString(k.Want), unit(p), ratString(k.Got))
	case *kind.Maximum:
		if limit := p.tag.Get("limit"); limit != "" {
			x.value(ptr, p.tag.Get("fix"), "%s %s is over the limit of %s %s", p.what(), ratString(k.Got), ratString(k.Want), limit)
		} else {
			x.value(ptr, "", "%s must be at most %s%s, got %s", p.what(), ratString(k.Want), unit(p), ratString(k.Got))
		}
	case *kind.MinLength:
		x.value(ptr, "", "%s must not be empty", p.what())
	case *kind.MaxLength:
		x.value(ptr, "", "%s is %d characters; the API allows at most %d", p.what(), k.Got, k.Want)
	case *kind.Pattern:
		if p.tag.Get("check") == "" { // else the decoder's check explains it better
			x.value(ptr, "", "%s %q does not have the form %s", p.what(), k.Got, k.Want)
		}
	case *kind.Format:
		if k.Want == "email" {
			x.value(ptr, "", "malformed email %q; want name@domain", fmt.Sprint(k.Got))
		} else {
			x.value(ptr, "", "malformed %s %q", k.Want, fmt.Sprint(k.Got))
		}
	case *kind.MinProperties:
		keys := ""
		if p.g != nil {
			keys = strings.Join(p.g.keys(), ", ")
		}
		x.value(ptr, "", "empty %s; set at least one of %s", p.nounOf(), keys)
	default:
		x.value(ptr, "", "%s: %s", p.what(), e.ErrorKind.LocalizedString(printer))
	}
}

func unit(p place) string {
	if u := p.tag.Get("unit"); u != "" {
		return " " + u
	}
	return ""
}

func ratString(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	return r.FloatString(3)
}

// unknownKeys reports keys the schema does not allow, at the key, with the closest allowed key or the
// list of them.
func (x *explainer) unknownKeys(ptr string, p place, props []string) {
	sort.Strings(props)
	var allowed []string
	if p.g != nil {
		allowed = p.g.keys()
	}
	for _, prop := range props {
		x.bad[ptr+"/"+escape(prop)] = true
		n, ok := x.w.keyAt[ptr+"/"+escape(prop)]
		if !ok {
			n = x.nodeAt(ptr)
		}
		msg := fmt.Sprintf("unknown key %q in %s", prop, p.nounOf())
		if c := closest(prop, allowed); c != "" {
			msg += fmt.Sprintf("; did you mean %q?", c)
		} else {
			msg += "; keys: " + strings.Join(allowed, ", ")
		}
		x.add(Diagnostic{Pos: x.w.pos(n), Message: msg})
	}
}

// missing reports required keys that are missing, at the mapping: "missing KEY" for the document,
// else "NOUN has no KEY", with the reason and hint of the key's tags.
func (x *explainer) missing(ptr string, p place, keys []string) {
	n := x.nodeAt(ptr)
	for _, key := range keys {
		var tag reflect.StructTag
		if p.g != nil && p.g.byKey[key] != nil {
			tag = p.g.byKey[key].tag
		}
		if p.doc {
			x.add(Diagnostic{Pos: x.w.pos(n), Message: "missing " + key, Hint: tag.Get("fix")})
			continue
		}
		msg := fmt.Sprintf("%s has no %s", x.identified(ptr, p), key)
		if why := tag.Get("why"); why != "" {
			msg += "; " + why
		}
		x.add(Diagnostic{Pos: x.w.pos(n), Message: msg, Hint: tag.Get("fix")})
	}
}

// identified names the mapping at ptr by its noun and, when it has one, the value of its identifying
// key (`account "a@example.com"`).
func (x *explainer) identified(ptr string, p place) string {
	noun := p.nounOf()
	if p.g == nil {
		return noun
	}
	m, _ := valueAt(x.w.value, tokensOf(ptr)).(map[string]any)
	for _, f := range p.g.fields {
		if f.tag.Get("id") != "true" {
			continue
		}
		if s, ok := m[f.key].(string); ok && s != "" && !x.bad[ptr+"/"+escape(f.key)] {
			return fmt.Sprintf("%s %q", noun, s)
		}
	}
	return noun
}

// valueAt returns the JSON value at the tokens, nil when there is none.
func valueAt(v any, tokens []string) any {
	for _, t := range tokens {
		switch c := v.(type) {
		case map[string]any:
			v = c[t]
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

// wrongType explains a value of the wrong type; a scalar where a string enum is wanted (power: true)
// is an unknown value.
func (x *explainer) wrongType(ptr string, p place, k *kind.Type) {
	n := x.nodeAt(ptr)
	if p.tag.Get("unknown") != "" && n.Kind == yaml.ScalarNode && k.Want[0] == "string" {
		x.outOfEnum(ptr, p, nil)
		return
	}
	want, hint := "of type "+strings.Join(k.Want, " or "), ""
	switch k.Want[0] {
	case "string":
		want = "a string"
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
			hint = "give a value or remove the key"
		} else if n.Kind == yaml.ScalarNode {
			hint = fmt.Sprintf("quote it: %q", n.Value)
		} else {
			hint = p.tag.Get("fix")
		}
	case "integer":
		want = "an integer"
	case "boolean":
		want = "true or false"
	case "object":
		want = "a mapping"
	case "array":
		want = "a list"
	}
	x.value(ptr, hint, "%s must be %s, got %s", p.what(), want, describe(n))
}

// outOfEnum explains a value that is none of the allowed ones, in the words of the field's tags, with
// the allowed value it most plausibly misspells.
func (x *explainer) outOfEnum(ptr string, p place, allowed []any) {
	n := x.nodeAt(ptr)
	got := n.Value
	if n.Kind != yaml.ScalarNode {
		got = describe(n)
	}
	var names []string
	for _, a := range allowed {
		if _, isBool := a.(bool); isBool {
			continue // power's true and false: what YAML 1.1 tools write for on and off, not to suggest
		}
		names = append(names, fmt.Sprint(a))
	}
	msg := fmt.Sprintf(p.tag.Get("unknown"), got)
	if p.tag.Get("unknown") == "" {
		msg = fmt.Sprintf("%s must be one of %s, got %s", p.what(), strings.Join(names, ", "), describe(n))
	}
	if s := Suggest(got, names); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	if use := p.tag.Get("use"); use != "" {
		msg += "; " + use
	}
	x.value(ptr, "", "%s", msg)
}

// conditional explains a breach of an if/then rule of the schema ("A needs B 1, but B is 2"): at
// the value of the key the rule's if requires, with the hint of the type's conditionHint.
func (x *explainer) conditional(e *validator.ValidationError, ptr string) bool {
	def, ok := conditionDef(e.SchemaURL)
	if !ok || x.source == nil || x.source.Definitions[def] == nil || x.source.Definitions[def].If == nil {
		return false
	}
	rule := x.source.Definitions[def]
	if len(rule.If.Required) == 0 || len(e.InstanceLocation) == 0 {
		return false
	}
	tokens := e.InstanceLocation
	obj, then := tokens[:len(tokens)-1], tokens[len(tokens)-1]
	ifPtr := pointer(obj) + "/" + escape(rule.If.Required[0])
	p := placeAt(x.root, obj)
	hint := ""
	if p.g != nil {
		if h, ok := reflect.Zero(p.g.typ).Interface().(interface{ conditionHint() string }); ok {
			hint = h.conditionHint()
		}
	}
	msg := fmt.Sprintf("%s: %s", then, e.ErrorKind.LocalizedString(printer))
	if k, ok := e.ErrorKind.(*kind.Maximum); ok {
		msg = fmt.Sprintf("%s needs %s %s, but %s is %s", rule.If.Required[0], then, ratString(k.Want), then, ratString(k.Got))
	}
	x.value(ifPtr, hint, "%s", msg)
	return true
}

// conditionDef returns the $defs name of the schema whose then a keyword at schemaURL belongs to.
func conditionDef(schemaURL string) (string, bool) {
	_, frag, ok := strings.Cut(schemaURL, "#/$defs/")
	if !ok {
		return "", false
	}
	def, rest, ok := strings.Cut(frag, "/")
	if !ok || !strings.HasPrefix(rest, "then") {
		return "", false
	}
	return def, true
}

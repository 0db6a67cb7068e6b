package spec

import (
	"encoding/json"
	"fmt"
	"math"
	"net/mail"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// MaxRemark is the longest sub-account remark the API accepts, in characters (the schema's maxLength).
const MaxRemark = 30

// docInfo is one decoded document with the positions that the merge needs, by JSON pointer.
type docInfo struct {
	file   string
	layer  int // the source's Layer
	doc    Document
	keyPos map[string]Pos // JSON pointer -> position of the key of each decoded value
	valPos map[string]Pos // JSON pointer -> position of each decoded value (as written: an alias's own)
	sizes  map[string]int // JSON pointer -> entries of each decoded map as written, wrong ones included
}

// has reports whether the document has the top-level key, with a valid value.
func (di *docInfo) has(key string) bool { _, ok := di.valPos["/"+escape(key)]; return ok }

// at returns the position of the value at the top-level key, and under it at the map key sub when
// given; key reports whether the key's position is wanted instead of the value's.
func (di *docInfo) at(key, sub string, wantKey bool) Pos {
	ptr := "/" + escape(key)
	if sub != "" {
		ptr += "/" + escape(sub)
	}
	if wantKey {
		return di.keyPos[ptr]
	}
	return di.valPos[ptr]
}

// decodeDocument checks one document against the schema and decodes what is valid of it. Problems are
// explained at their positions (see explainer); the values found wrong are left out of the Document,
// so that the cross-checks can still run on the rest. It returns nil when nothing can be decoded: the
// document is not a mapping, is too large, or has an alias that contains itself.
func decodeDocument(s Source, sch *compiledSchema) (*docInfo, Diagnostics) {
	w := walkDocument(s.File, s.Node)
	if w.tooLarge() {
		return nil, Diagnostics{{Pos: w.pos(w.root),
			Message: fmt.Sprintf("document too large: more than %d YAML nodes after expanding aliases", maxNodes)}}
	}
	if w.cycle != nil {
		return nil, Diagnostics{{Pos: w.pos(w.cycle), Message: "alias *" + w.cycle.Value + " refers to a value that contains it"}}
	}
	root := place{g: grammarOf(reflect.TypeFor[Document]()), doc: true}
	diags := w.flawDiagnostics(root)
	ds, bad := w.explain(sch.doc, sch.source, root)
	diags = append(diags, ds...)
	if bad[""] {
		return nil, diags
	}
	di := &docInfo{file: s.File, layer: s.Layer, keyPos: map[string]Pos{}, valPos: map[string]Pos{}, sizes: map[string]int{}}
	d := &decoder{w: w, bad: bad, budget: maxNodes, keyPos: di.keyPos, valPos: di.valPos, sizes: di.sizes}
	d.decode(w.root, "", "", reflect.ValueOf(&di.doc).Elem(), "")
	return di, append(diags, d.diags...)
}

// decoder sets Go values from the walked nodes by reflection over the grammar, skipping the values the
// schema found wrong: it runs after validation, so each value it reads has the type its field wants.
// Each struct's Pos, At and map-key fields are filled (see Group.At), and checks named by a `check`
// tag run on their values.
type decoder struct {
	w      *walk
	bad    map[string]bool
	diags  Diagnostics
	budget int
	keyPos map[string]Pos
	valPos map[string]Pos
	sizes  map[string]int
}

// decode sets rv from n, found at ptr under key (a struct key or map key); check is the value's
// `check` tag. It reports whether rv was set.
func (d *decoder) decode(n *yaml.Node, ptr, key string, rv reflect.Value, check string) bool {
	if d.bad[ptr] {
		return false
	}
	if d.budget--; d.budget == 0 {
		d.diags = append(d.diags, Diagnostic{Pos: d.w.pos(n),
			Message: fmt.Sprintf("document too large: more than %d YAML nodes after expanding aliases", maxNodes)})
	}
	if d.budget <= 0 {
		return false
	}
	n = Unalias(n)
	switch rv.Kind() {
	case reflect.Pointer:
		v := reflect.New(rv.Type().Elem())
		if !d.decode(n, ptr, key, v.Elem(), check) {
			return false
		}
		rv.Set(v)
		return true
	case reflect.Struct:
		return d.decodeStruct(n, ptr, rv)
	case reflect.Map:
		return d.decodeMap(n, ptr, rv)
	case reflect.Slice:
		rv.Set(reflect.MakeSlice(rv.Type(), 0, len(n.Content)))
		for i, e := range n.Content {
			v := reflect.New(rv.Type().Elem()).Elem()
			if p := ptr + "/" + strconv.Itoa(i); d.decode(e, p, key, v, "") {
				rv.Set(reflect.Append(rv, v))
				d.valPos[p] = d.w.pos(e)
			}
		}
		return true
	}
	return d.decodeScalar(n, key, rv, check)
}

// decodeScalar sets a string, integer, number (float64) or boolean.
func (d *decoder) decodeScalar(n *yaml.Node, key string, rv reflect.Value, check string) bool {
	switch v := scalar(n).(type) {
	case string:
		if rv.Kind() != reflect.String {
			return false
		}
		if c, ok := valueChecks[check]; ok {
			if err := c.check(v); err != nil {
				d.diags = append(d.diags, Diagnostic{Pos: d.w.pos(n), Message: fmt.Sprintf(c.message, v, key, err)})
				return false
			}
		}
		rv.SetString(v)
	case json.Number:
		if rv.Kind() == reflect.Float64 {
			f, err := v.Float64()
			if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				d.diags = append(d.diags, Diagnostic{Pos: d.w.pos(n), Message: fmt.Sprintf("%s is out of range: %s", key, n.Value)})
				return false
			}
			rv.SetFloat(f)
			return true
		}
		i, err := v.Int64()
		if rv.Kind() != reflect.Int {
			return false
		}
		if err != nil || i > math.MaxInt32 || i < math.MinInt32 {
			d.diags = append(d.diags, Diagnostic{Pos: d.w.pos(n), Message: fmt.Sprintf("%s is out of range: %s", key, n.Value)})
			return false
		}
		rv.SetInt(i)
	case bool:
		if rv.Kind() != reflect.Bool {
			return false
		}
		rv.SetBool(v)
	default:
		return false
	}
	return true
}

// decodeStruct sets a struct from a mapping (or, for a type with a scalar form, from a string).
func (d *decoder) decodeStruct(n *yaml.Node, ptr string, rv reflect.Value) bool {
	if n.Kind == yaml.ScalarNode {
		s, ok := scalar(n).(string)
		ids, isID := rv.Addr().Interface().(interface{ setID(string, Pos) })
		if !ok || !isID {
			return false
		}
		ids.setID(s, d.w.pos(n))
		return true
	}
	if n.Kind != yaml.MappingNode {
		return false
	}
	g := grammarOf(rv.Type())
	at := map[string]Pos{}
	for _, e := range d.w.pairs[n] {
		f := g.byKey[e.k.Value]
		p := ptr + "/" + escape(e.k.Value)
		if f == nil || !d.decode(e.v, p, e.k.Value, rv.Field(f.index), f.tag.Get("check")) {
			continue
		}
		at[e.k.Value] = d.w.pos(e.v)
		d.keyPos[p], d.valPos[p] = d.w.pos(e.k), d.w.pos(e.v)
	}
	if f := rv.FieldByName("At"); f.IsValid() && f.Type() == reflect.TypeFor[map[string]Pos]() {
		f.Set(reflect.ValueOf(at))
	}
	if f := rv.FieldByName("Pos"); f.IsValid() && f.Type() == reflect.TypeFor[Pos]() {
		f.Set(reflect.ValueOf(d.w.pos(n)))
	}
	if h, ok := rv.Addr().Interface().(interface{ decoded() }); ok {
		h.decoded()
	}
	return true
}

// decodeMap sets a map from a mapping. A struct declared in a map is named by its key (the field
// tagged spec:"mapkey") and positioned at it.
func (d *decoder) decodeMap(n *yaml.Node, ptr string, rv reflect.Value) bool {
	if n.Kind != yaml.MappingNode {
		return false
	}
	rv.Set(reflect.MakeMap(rv.Type()))
	if d.sizes != nil {
		d.sizes[ptr] = len(d.w.pairs[n])
	}
	et := rv.Type().Elem()
	for _, e := range d.w.pairs[n] {
		p := ptr + "/" + escape(e.k.Value)
		v := reflect.New(et).Elem()
		if !d.decode(e.v, p, e.k.Value, v, "") {
			continue
		}
		if et.Kind() == reflect.Struct {
			for i := range et.NumField() {
				if et.Field(i).Tag.Get("spec") == "mapkey" {
					v.Field(i).SetString(e.k.Value)
				}
			}
			if f := v.FieldByName("Pos"); f.IsValid() && f.Type() == reflect.TypeFor[Pos]() {
				f.Set(reflect.ValueOf(d.w.pos(e.k)))
			}
		}
		d.keyPos[p], d.valPos[p] = d.w.pos(e.k), d.w.pos(e.v)
		rv.SetMapIndex(reflect.ValueOf(e.k.Value), v)
	}
	return true
}

// valueChecks are the checks a `check` tag names: what the schema's pattern cannot say. message has
// the value (%q), the key (%s) and the error (%v).
var valueChecks = map[string]struct {
	check   func(string) error
	message string
}{
	"duration": {
		check:   func(s string) error { _, err := ParseDuration(s); return err },
		message: "bad duration %q for %s: %v; use a Go duration like 168h or days like 7d",
	},
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

// ValidEmail reports whether s is a bare email address (name@domain, no display name or brackets).
// The loader checks emails with the schema's email format; this is the same question for callers
// outside it.
func ValidEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1
}

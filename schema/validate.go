package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"gopkg.in/yaml.v3"

	"github.com/deskfleet/deskfleet/spec"
)

// maxNodes bounds the YAML nodes converted per document, aliases expanded.
const maxNodes = 200_000

// maxPathBytes bounds the bytes of the JSON pointers kept for positions per document: through aliases,
// a small document reaches values at depths, and under keys, far longer than its own text.
const maxPathBytes = 32 << 20

var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(schemaJSON)))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(ID, doc); err != nil {
		return nil, err
	}
	return c.Compile(ID)
})

// Compiled returns the embedded schema compiled (once) for validation; an error means the committed
// fleet.schema.json is broken.
func Compiled() (*jsonschema.Schema, error) { return compiled() }

// ValidateFiles reads the spec at paths as spec.Load does and validates every document; read and syntax
// errors are returned as diagnostics too.
func ValidateFiles(paths ...string) spec.Diagnostics {
	srcs, diags := spec.ReadSources(paths...)
	diags = append(diags, Validate(srcs)...)
	diags.Sort()
	return diags
}

// Validate checks each document against the fleet schema on its own (every document must have version
// and fleet) and returns each violation as an Error at the YAML position of the offending value, or of
// the offending key for an unknown key. Values are converted by their YAML tag, so an unquoted on/off
// is the string it is in yaml.v3, and merge keys and aliases are expanded as the loader expands them.
func Validate(srcs []spec.Source) spec.Diagnostics {
	sch, err := compiled()
	if err != nil {
		return spec.Diagnostics{{Message: "the embedded fleet schema does not compile: " + err.Error()}}
	}
	var diags spec.Diagnostics
	for _, s := range srcs {
		cv := &converter{file: s.File, at: map[string]spec.Pos{}, keyAt: map[string]spec.Pos{},
			memo: map[*yaml.Node]map[string]any{}, active: map[*yaml.Node]bool{}, budget: maxNodes}
		root := s.Node
		if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
			root = root.Content[0]
		}
		v := cv.value(root, "")
		if cv.budget <= 0 {
			diags = append(diags, spec.Diagnostic{Pos: cv.pos(root), Message: "document too large to validate"})
			continue
		}
		if cv.cycle != nil {
			diags = append(diags, spec.Diagnostic{Pos: cv.pos(cv.cycle),
				Message: "schema: alias *" + cv.cycle.Value + " refers to a value that contains it"})
			continue
		}
		err := sch.Validate(v)
		if err == nil {
			continue
		}
		ve, ok := err.(*jsonschema.ValidationError)
		if !ok {
			diags = append(diags, spec.Diagnostic{Pos: cv.pos(root), Message: err.Error()})
			continue
		}
		diags = append(diags, cv.diagnostics(ve)...)
	}
	return diags
}

// converter turns yaml.v3 nodes into the JSON values the validator takes, remembering the position of
// every value (and of every key) by JSON pointer.
type converter struct {
	file   string
	at     map[string]spec.Pos // JSON pointer -> position of the value
	keyAt  map[string]spec.Pos // JSON pointer -> position of the key naming it
	memo   map[*yaml.Node]map[string]any
	active map[*yaml.Node]bool // nodes being converted: reaching one again is an alias cycle
	cycle  *yaml.Node          // the first alias found to close a cycle
	budget int
	bytes  int // of the pointers in at and keyAt
}

// record keeps the position of the value or key at ptr, charging its pointer to the budget.
func (c *converter) record(into map[string]spec.Pos, ptr string, n *yaml.Node) {
	if _, seen := into[ptr]; seen {
		return
	}
	into[ptr] = c.pos(n)
	if c.bytes += len(ptr); c.bytes > maxPathBytes {
		c.budget = 0
	}
}

func (c *converter) pos(n *yaml.Node) spec.Pos {
	return spec.Pos{File: c.file, Line: n.Line, Col: n.Column}
}

func escape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// value converts n, found at ptr. A mapping reached again through an alias or merge key is converted
// once and shared (memo), so merge chains cost linear time; positions are kept for its first path.
//
// An alias to a value being converted (an anchor that contains itself) would make the value cyclic,
// or expand forever for a sequence: it is recorded in c.cycle and converted as null.
func (c *converter) value(n *yaml.Node, ptr string) any {
	alias := n
	n = spec.Unalias(n)
	if c.active[n] {
		if c.cycle == nil {
			c.cycle = alias
		}
		return nil
	}
	if m, ok := c.memo[n]; ok {
		return m
	}
	c.budget--
	if c.budget <= 0 {
		return nil
	}
	c.record(c.at, ptr, n)
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		c.active[n] = true
		c.mapping(n, ptr, m)
		delete(c.active, n)
		c.memo[n] = m
		return m
	case yaml.SequenceNode:
		c.active[n] = true
		defer delete(c.active, n)
		l := make([]any, 0, len(n.Content))
		for i, e := range n.Content {
			if c.budget <= 0 {
				break
			}
			l = append(l, c.value(e, ptr+"/"+strconv.Itoa(i)))
		}
		return l
	case yaml.ScalarNode:
		return scalar(n)
	}
	return nil
}

// mapping fills m from a mapping node: explicit keys first, then the merged mappings' keys that are
// not set yet, in merge order.
func (c *converter) mapping(n *yaml.Node, ptr string, m map[string]any) {
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := spec.Unalias(n.Content[i]), n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			if fv := spec.Unalias(v); fv.Kind == yaml.SequenceNode {
				merges = append(merges, fv.Content...)
			} else {
				merges = append(merges, v) // the alias itself, to name it if it closes a cycle
			}
			continue
		}
		key := k.Value
		if k.Kind != yaml.ScalarNode {
			key = fmt.Sprintf("<non-scalar key at line %d>", k.Line)
		}
		p := ptr + "/" + escape(key)
		c.record(c.keyAt, p, k)
		m[key] = c.value(v, p)
	}
	for _, mv := range merges {
		mm, ok := c.value(mv, ptr).(map[string]any)
		if !ok {
			continue
		}
		// Each merged key is a value of this mapping: charged, or a merge chain whose mappings each
		// add a key would convert in linear time into quadratically many values (and diagnostics).
		for k, v := range mm {
			if c.budget--; c.budget <= 0 {
				return
			}
			if _, set := m[k]; !set {
				m[k] = v
			}
		}
	}
}

// scalar converts a scalar by its resolved tag; anything that is not a JSON number, boolean or null
// stays the string written.
func scalar(n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if n.Decode(&b) == nil {
			return b
		}
	case "!!int":
		var i int64
		if n.Decode(&i) == nil {
			return json.Number(strconv.FormatInt(i, 10))
		}
		var u uint64
		if n.Decode(&u) == nil {
			return json.Number(strconv.FormatUint(u, 10))
		}
	case "!!float":
		var f float64
		if n.Decode(&f) == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
		}
	}
	return n.Value
}

var printer = message.NewPrinter(language.English)

// diagnostics flattens a validation error into one diagnostic per failed leaf keyword, at the value
// it is about (at the key for an unknown property), without repeats.
func (c *converter) diagnostics(ve *jsonschema.ValidationError) spec.Diagnostics {
	var out spec.Diagnostics
	seen := map[string]bool{}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, ce := range e.Causes {
				walk(ce)
			}
			return
		}
		ptr := ""
		for _, t := range e.InstanceLocation {
			ptr += "/" + escape(t)
		}
		p := c.posAt(ptr)
		msg := e.ErrorKind.LocalizedString(printer)
		switch k := e.ErrorKind.(type) {
		case *kind.AdditionalProperties:
			props := append([]string(nil), k.Properties...)
			sort.Strings(props)
			for _, prop := range props {
				kp, ok := c.keyAt[ptr+"/"+escape(prop)]
				if !ok {
					kp = c.posAt(ptr)
				}
				d := spec.Diagnostic{Pos: kp,
					Message: fmt.Sprintf("schema: unknown key %q at %s", prop, location(e.InstanceLocation))}
				if !seen[d.String()] {
					seen[d.String()] = true
					out = append(out, d)
				}
			}
			return
		case *kind.Required:
			msg = fmt.Sprintf("missing %s", strings.Join(quoteAll(k.Missing), ", "))
		}
		d := spec.Diagnostic{Pos: p, Message: fmt.Sprintf("schema: %s: %s", location(e.InstanceLocation), msg)}
		if !seen[d.String()] {
			seen[d.String()] = true
			out = append(out, d)
		}
	}
	walk(ve)
	return out
}

// posAt returns the position of the value at ptr, or of its nearest ancestor that has one (values
// reached a second time through an alias have none of their own).
func (c *converter) posAt(ptr string) spec.Pos {
	for {
		if p, ok := c.at[ptr]; ok {
			return p
		}
		i := strings.LastIndexByte(ptr, '/')
		if i < 0 {
			return spec.Pos{File: c.file}
		}
		ptr = ptr[:i]
	}
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

// location renders an instance location the way a user reads the YAML: desktops[0].name.
func location(tokens []string) string {
	if len(tokens) == 0 {
		return "the document"
	}
	var b strings.Builder
	for i, t := range tokens {
		if _, err := strconv.Atoi(t); err == nil && i > 0 {
			b.WriteString("[" + t + "]")
			continue
		}
		if i > 0 {
			b.WriteString(".")
		}
		b.WriteString(t)
	}
	return b.String()
}

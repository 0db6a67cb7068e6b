package spec

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxPathBytes bounds the bytes of the JSON pointers kept for positions per document: through aliases,
// a small document reaches values at depths, and under keys, far longer than its own text.
const maxPathBytes = 32 << 20

// Unalias returns the node an alias node stands for (following chains of aliases, at most 100 deep),
// or n itself when it is not an alias. It charges no node budget: callers that expand user input must
// bound their own work.
func Unalias(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// kv is a key and its value in a mapping, as written (the value may be an alias).
type kv struct{ k, v *yaml.Node }

// flaw is a problem of a mapping that no schema sees, since the JSON value cannot hold it: a key
// written twice (first set), a key that is not a string, or a merge key whose value is no mapping.
type flaw struct {
	ptr   string     // the mapping's JSON pointer
	at    *yaml.Node // the offending key, or merged value
	first *yaml.Node // for a duplicate, the first key
	merge bool       // at is a merged value that is no mapping
}

// walk is one document turned into the JSON value the schema validator takes, with what the messages
// and the decoder need: the node of every value and key by JSON pointer (of its first path), and the
// entries of every mapping, merge keys expanded. It is the one walk over a document's YAML.
type walk struct {
	file   string
	root   *yaml.Node
	value  any
	at     map[string]*yaml.Node // JSON pointer -> the value's node (aliases followed)
	keyAt  map[string]*yaml.Node // JSON pointer -> the key naming the value
	pairs  map[*yaml.Node][]kv   // mapping node -> its entries, explicit keys first, then merged ones
	memo   map[*yaml.Node]map[string]any
	active map[*yaml.Node]bool // nodes being converted: reaching one again is an alias cycle
	flaws  []flaw
	cycle  *yaml.Node // the first alias found to close a cycle
	budget int
	bytes  int // of the pointers in at and keyAt
}

// walkDocument converts a document (or any node: Product.UnmarshalYAML walks a product). The result's
// budget is 0 or less when the document is too large, and cycle is set when an alias contains itself:
// the value is then not to be validated.
func walkDocument(file string, n *yaml.Node) *walk {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	w := &walk{file: file, root: n, at: map[string]*yaml.Node{}, keyAt: map[string]*yaml.Node{},
		pairs: map[*yaml.Node][]kv{}, memo: map[*yaml.Node]map[string]any{}, active: map[*yaml.Node]bool{},
		budget: maxNodes}
	w.value = w.convert(n, "")
	return w
}

func (w *walk) pos(n *yaml.Node) Pos { return Pos{File: w.file, Line: n.Line, Col: n.Column} }

// tooLarge reports whether the walk stopped at its budget.
func (w *walk) tooLarge() bool { return w.budget <= 0 }

// record keeps the node of the value or key at ptr, charging its pointer to the budget.
func (w *walk) record(into map[string]*yaml.Node, ptr string, n *yaml.Node) {
	if _, seen := into[ptr]; seen {
		return
	}
	into[ptr] = n
	if w.bytes += len(ptr); w.bytes > maxPathBytes {
		w.budget = 0
	}
}

// escape escapes a key as a JSON pointer token.
func escape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// pointer joins instance location tokens into a JSON pointer.
func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteString("/" + escape(t))
	}
	return b.String()
}

// convert converts n, found at ptr. A mapping reached again through an alias or merge key is converted
// once and shared (memo), so merge chains cost linear time; its nodes are recorded for its first path.
//
// An alias to a value being converted (an anchor that contains itself) would make the value cyclic,
// or expand forever for a sequence: it is recorded in w.cycle and converted as null.
func (w *walk) convert(n *yaml.Node, ptr string) any {
	alias := n
	n = Unalias(n)
	if w.active[n] {
		if w.cycle == nil {
			w.cycle = alias
		}
		return nil
	}
	if m, ok := w.memo[n]; ok {
		return m
	}
	w.budget--
	if w.budget <= 0 {
		return nil
	}
	w.record(w.at, ptr, n)
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		w.active[n] = true
		w.mapping(n, ptr, m)
		delete(w.active, n)
		w.memo[n] = m
		return m
	case yaml.SequenceNode:
		w.active[n] = true
		defer delete(w.active, n)
		l := make([]any, 0, len(n.Content))
		for i, e := range n.Content {
			if w.budget <= 0 {
				break
			}
			l = append(l, w.convert(e, ptr+"/"+strconv.Itoa(i)))
		}
		return l
	case yaml.ScalarNode:
		return scalar(n)
	}
	return nil
}

// mapping fills m, and the entries of n, from a mapping node: explicit keys first (the first of a
// repeated key wins), then the merged mappings' keys that are not set yet, in merge order.
func (w *walk) mapping(n *yaml.Node, ptr string, m map[string]any) {
	var merges []*yaml.Node
	var entries []kv
	first := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := Unalias(n.Content[i]), n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			if fv := Unalias(v); fv.Kind == yaml.SequenceNode {
				merges = append(merges, fv.Content...)
			} else {
				merges = append(merges, v) // the alias itself, to name it if it closes a cycle
			}
			continue
		}
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!null" {
			w.flaws = append(w.flaws, flaw{ptr: ptr, at: k})
			continue
		}
		if f, dup := first[k.Value]; dup {
			w.flaws = append(w.flaws, flaw{ptr: ptr, at: k, first: f})
			continue
		}
		first[k.Value] = k
		p := ptr + "/" + escape(k.Value)
		w.record(w.keyAt, p, k)
		m[k.Value] = w.convert(v, p)
		entries = append(entries, kv{k, v})
	}
	for _, mv := range merges {
		mm, ok := w.convert(mv, ptr).(map[string]any)
		if !ok {
			if w.cycle == nil && w.budget > 0 {
				w.flaws = append(w.flaws, flaw{ptr: ptr, at: Unalias(mv), merge: true})
			}
			continue
		}
		// Each merged key is a value of this mapping: charged, or a merge chain whose mappings each
		// add a key would convert in linear time into quadratically many values (and diagnostics).
		for _, e := range w.pairs[Unalias(mv)] {
			if w.budget--; w.budget <= 0 {
				return
			}
			if _, set := m[e.k.Value]; !set {
				m[e.k.Value] = mm[e.k.Value]
				entries = append(entries, e)
				w.record(w.keyAt, ptr+"/"+escape(e.k.Value), e.k)
			}
		}
	}
	w.pairs[n] = entries
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

// flawDiagnostics reports the flaws of the walk's mappings, naming each mapping as the grammar from
// root does.
func (w *walk) flawDiagnostics(root place) Diagnostics {
	var out Diagnostics
	for _, f := range w.flaws {
		p := placeAt(root, tokensOf(f.ptr))
		d := Diagnostic{Pos: w.pos(f.at)}
		switch {
		case f.merge:
			d.Message = fmt.Sprintf("%s: a merge key (<<) takes a mapping or a list of mappings, got %s", p.nounOf(), describe(f.at))
		case f.first == nil:
			d.Message = fmt.Sprintf("%s: a key must be a string, got %s", p.nounOf(), describe(f.at))
		default:
			if twice := p.tag.Get("twice"); twice != "" && !p.elem {
				d.Message = fmt.Sprintf(twice+" (first at %s)", f.at.Value, w.pos(f.first))
				d.Hint = p.tag.Get("fix")
			} else {
				d.Message = fmt.Sprintf("duplicate key %q in %s (first at %s)", f.at.Value, p.nounOf(), w.pos(f.first))
			}
		}
		out = append(out, d)
	}
	return out
}

// tokensOf splits a JSON pointer into its unescaped tokens.
func tokensOf(ptr string) []string {
	if ptr == "" {
		return nil
	}
	parts := strings.Split(ptr[1:], "/")
	for i, t := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return parts
}

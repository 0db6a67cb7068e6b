package spec

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	validator "github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

var printer = message.NewPrinter(language.English)

// SchemaDiagnostics checks each document on its own against sch, a compiled fleet JSON Schema (every
// document must then have version and fleet), and reports each violation as an Error in the schema's
// own words ("schema: desktops[0].count: maximum: got 1,001, want 1,000"), at the YAML position of the
// offending value, or of the offending key for an unknown key. The documents are walked as Load walks
// them: values converted by their YAML tag (an unquoted on/off is a string), merge keys and aliases
// expanded with the same bounds. Problems no schema sees (a key written twice) are left to Load.
func SchemaDiagnostics(srcs []Source, sch *validator.Schema) Diagnostics {
	var diags Diagnostics
	for _, s := range srcs {
		w := walkDocument(s.File, s.Node)
		if w.tooLarge() {
			diags = append(diags, Diagnostic{Pos: w.pos(w.root), Message: "document too large to validate"})
			continue
		}
		if w.cycle != nil {
			diags = append(diags, Diagnostic{Pos: w.pos(w.cycle),
				Message: "schema: alias *" + w.cycle.Value + " refers to a value that contains it"})
			continue
		}
		err := sch.Validate(w.value)
		if err == nil {
			continue
		}
		ve, ok := err.(*validator.ValidationError)
		if !ok {
			diags = append(diags, Diagnostic{Pos: w.pos(w.root), Message: err.Error()})
			continue
		}
		diags = append(diags, w.schemaDiagnostics(ve)...)
	}
	return diags
}

// schemaDiagnostics flattens a validation error into one diagnostic per failed leaf keyword, at the
// value it is about (at the key for an unknown property), without repeats.
func (w *walk) schemaDiagnostics(ve *validator.ValidationError) Diagnostics {
	var out Diagnostics
	seen := map[string]bool{}
	add := func(d Diagnostic) {
		if !seen[d.String()] {
			seen[d.String()] = true
			out = append(out, d)
		}
	}
	var visit func(e *validator.ValidationError)
	visit = func(e *validator.ValidationError) {
		if len(e.Causes) > 0 {
			for _, ce := range e.Causes {
				visit(ce)
			}
			return
		}
		ptr := pointer(e.InstanceLocation)
		msg := e.ErrorKind.LocalizedString(printer)
		switch k := e.ErrorKind.(type) {
		case *kind.AdditionalProperties:
			props := append([]string(nil), k.Properties...)
			sort.Strings(props)
			for _, prop := range props {
				kp, ok := w.keyAt[ptr+"/"+escape(prop)]
				pos := w.posAt(ptr)
				if ok {
					pos = w.pos(kp)
				}
				add(Diagnostic{Pos: pos, Message: fmt.Sprintf("schema: unknown key %q at %s", prop, location(e.InstanceLocation))})
			}
			return
		case *kind.Required:
			msg = fmt.Sprintf("missing %s", strings.Join(quoteAll(k.Missing), ", "))
		}
		add(Diagnostic{Pos: w.posAt(ptr), Message: fmt.Sprintf("schema: %s: %s", location(e.InstanceLocation), msg)})
	}
	visit(ve)
	return out
}

// posAt returns the position of the value at ptr, or of its nearest ancestor that has one (values
// reached a second time through an alias have none of their own).
func (w *walk) posAt(ptr string) Pos {
	for {
		if n, ok := w.at[ptr]; ok {
			return w.pos(n)
		}
		i := strings.LastIndexByte(ptr, '/')
		if i < 0 {
			return Pos{File: w.file}
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

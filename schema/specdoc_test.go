package schema

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/invopop/jsonschema"

	"github.com/deskfleet/deskfleet/schema/internal/specdoc"
)

// specDoc reads the committed docs/spec.md.
func specDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../" + specdoc.DocPath)
	if err != nil {
		t.Fatalf("%v: run go generate ./schema", err)
	}
	return string(b)
}

func TestSpecDocIsFresh(t *testing.T) {
	in, err := specdoc.ReadInput("..")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(in.Schema, JSON()) {
		t.Fatal("the embedded schema differs from schema/fleet.schema.json")
	}
	want, err := specdoc.Render(in)
	if err != nil {
		t.Fatal(err)
	}
	got := specDoc(t)
	if got == string(want) {
		return
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	for i := range max(len(gl), len(wl)) {
		g, w := "(end of file)", "(end of file)"
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("docs/spec.md is stale: run go generate ./schema\nfirst difference, line %d:\n  have %s\n  want %s", i+1, g, w)
		}
	}
}

// TestSpecDocCoversSchema walks the schema on its own: every object's properties, in order, are the
// rows of one table of docs/spec.md, and every property of a conditional rule is named.
func TestSpecDocCoversSchema(t *testing.T) {
	var root jsonschema.Schema
	if err := json.Unmarshal(JSON(), &root); err != nil {
		t.Fatal(err)
	}
	doc := specDoc(t)
	tables := docTables(doc)
	objects := 0
	var walk func(path string, s *jsonschema.Schema)
	walk = func(path string, s *jsonschema.Schema) {
		if s == nil {
			return
		}
		if s.Properties != nil && s.Properties.Len() > 0 {
			objects++
			var keys []string
			for p := s.Properties.Oldest(); p != nil; p = p.Next() {
				keys = append(keys, p.Key)
				walk(path+"."+p.Key, p.Value)
			}
			if !slices.ContainsFunc(tables, func(tb []string) bool { return slices.Equal(tb, keys) }) {
				t.Errorf("docs/spec.md has no table of the fields of %s: %v", path, keys)
			}
		}
		if s.Then != nil && s.Then.Properties != nil {
			for p := s.Then.Properties.Oldest(); p != nil; p = p.Next() {
				if !strings.Contains(doc, "`"+p.Key+"` "+"is ") {
					t.Errorf("docs/spec.md does not state the conditional rule on %s.%s", path, p.Key)
				}
			}
		}
		walk(path+"[]", s.Items)
		walk(path+".*", s.AdditionalProperties)
		for i, o := range s.OneOf {
			walk(path+".oneOf"+string(rune('0'+i)), o)
		}
	}
	walk("the top level", &root)
	for name, def := range root.Definitions {
		walk("$defs/"+name, def)
	}
	if objects < 8 {
		t.Errorf("walked %d objects with properties, want the top level and 7 more", objects)
	}
}

// docTables returns the first column of each table of doc: the field names.
func docTables(doc string) [][]string {
	var tables [][]string
	var cur []string
	for _, line := range strings.Split(doc, "\n") {
		name, ok := strings.CutPrefix(line, "| `")
		if !ok {
			if cur != nil {
				tables = append(tables, cur)
				cur = nil
			}
			continue
		}
		if i := strings.Index(name, "` |"); i > 0 {
			cur = append(cur, name[:i])
		}
	}
	return tables
}

package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/engine"
)

// driftDocPath is the reference page of the drift report's JSON form.
var driftDocPath = filepath.Join("..", "..", "docs", "drift-json.md")

func readDriftDoc(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile(driftDocPath)
	if err != nil {
		t.Fatal(err)
	}
	return string(doc)
}

// TestDriftJSONDocumented keeps docs/drift-json.md true: each object of the drift report's JSON form
// (DriftReport and the structs it holds) has a key table that lists its keys in the order they are
// written, with their JSON type and, for the keys left out when empty, "Omitted when"; no table lists a
// key the form does not have; and every key the fixtures' JSON holds is in a table.
func TestDriftJSONDocumented(t *testing.T) {
	doc := readDriftDoc(t)
	for _, p := range driftDocProblems(doc) {
		t.Errorf("docs/drift-json.md: %s", p)
	}
	tests := []struct {
		reason string
		report func() *engine.DriftReport
	}{
		{"the page's example, which sets every field", docExampleDrift},
		{"every kind of drift item, with spec-caused and replace items", studioDrift},
		{"an empty report: the lists are [], their keys still written", driftBase},
	}
	for _, tc := range tests {
		var b bytes.Buffer
		if err := DriftJSON(&b, tc.report()); err != nil {
			t.Fatalf("%s: %v", tc.reason, err)
		}
		for _, k := range undocumentedKeys(doc, b.Bytes()) {
			t.Errorf("%s: docs/drift-json.md: the JSON's key %q is in no key table", tc.reason, k)
		}
	}
	if want := fmt.Sprintf("`format_version` is `%d`", engine.DriftFormatVersion); !strings.Contains(doc, want) {
		t.Errorf("docs/drift-json.md does not say %s (engine.DriftFormatVersion)", want)
	}
}

// TestDriftJSONDocExample: the example in docs/drift-json.md is what DriftJSON writes for
// docExampleDrift, and it shows every key of the form. Like the plan's page, the page is not rewritten
// by -update: a failure prints the example to paste.
func TestDriftJSONDocExample(t *testing.T) {
	doc := readDriftDoc(t)
	var b bytes.Buffer
	if err := DriftJSON(&b, docExampleDrift()); err != nil {
		t.Fatal(err)
	}
	got, ok := jsonBlock(doc)
	if !ok {
		t.Fatal("docs/drift-json.md has no ```json block")
	}
	if got != b.String() {
		t.Errorf("docs/drift-json.md's example is not DriftJSON's output for docExampleDrift; it should read (paste it into the page's json block):\n%s", b.Bytes())
	}
	var tree any
	if err := json.Unmarshal(b.Bytes(), &tree); err != nil {
		t.Fatal(err)
	}
	shown := map[string]bool{}
	jsonKeys(tree, shown, false)
	for _, o := range driftObjects() {
		for _, f := range o.fields {
			if !shown[f.key] {
				t.Errorf("the example does not show %s's key %q: set it in docExampleDrift", o.typ.Name(), f.key)
			}
		}
	}
}

// TestDriftDocProblems: driftDocProblems finds each way the page can fall out of step with the JSON.
// Each case breaks one row of the real page.
func TestDriftDocProblems(t *testing.T) {
	doc := readDriftDoc(t)
	tests := []struct {
		name, reason string
		key          string                       // the key whose row is broken
		edit         func(row, doc string) string // the broken page, given the row's line and the page
		want         string                       // in one of the problems
	}{
		{name: "renamed", reason: "a key renamed in the page leaves the real key undocumented",
			key: "drifted", edit: func(row, doc string) string {
				return strings.Replace(doc, row, strings.Replace(row, "`drifted`", "`drift`", 1), 1)
			}, want: `DriftReport's key "drifted" has no row`},
		{name: "unknown key", reason: "a row for a key the JSON does not have is a stale page",
			key: "drifted", edit: func(row, doc string) string {
				return strings.Replace(doc, row, strings.Replace(row, "`drifted`", "`drift`", 1), 1)
			}, want: `"drift" is not a key of DriftReport`},
		{name: "left out", reason: "a row left out leaves its key undocumented",
			key: "auto_renew", edit: func(row, doc string) string { return strings.Replace(doc, row, "", 1) },
			want: `ExpiringItem's key "auto_renew" has no row`},
		{name: "order", reason: "rows in another order than the JSON's keys are reported",
			key: "want", edit: func(row, doc string) string {
				live := tableRow(doc, "live") // swapped with want's row
				doc = strings.Replace(doc, row, "\x00", 1)
				doc = strings.Replace(doc, live, row, 1)
				return strings.Replace(doc, "\x00", live, 1)
			}, want: "DriftItem's rows are not in the JSON's order"},
		{name: "type", reason: "a row with the wrong JSON type is reported",
			key: "expired", edit: func(row, doc string) string {
				return strings.Replace(doc, row, strings.Replace(row, "| boolean |", "| string |", 1), 1)
			}, want: `"expired" is boolean, not string`},
		{name: "omitted", reason: "a key left out when empty must say so",
			key: "note", edit: func(row, doc string) string {
				return strings.Replace(doc, row, strings.Replace(row, "Omitted when", "Left out when", 1), 1)
			}, want: `"note" is omitted when empty`},
		{name: "not omitted", reason: "a key always written must not say it is omitted",
			key: "cause", edit: func(row, doc string) string {
				return strings.Replace(doc, row, strings.TrimSuffix(row, " |\n")+" Omitted when empty. |\n", 1)
			}, want: `"cause" is always written`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			row := tableRow(doc, tc.key)
			if row == "" {
				t.Fatalf("%s: the page has no row for %q to break", tc.reason, tc.key)
			}
			broken := tc.edit(row, doc)
			if broken == doc {
				t.Fatalf("%s: the edit did not change the page", tc.reason)
			}
			problems := driftDocProblems(broken)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Errorf("%s: no problem says %q; got %q", tc.reason, tc.want, problems)
			}
		})
	}
}

// tableRow is the first line of doc that is a key table's row for key (with its newline), or "".
func tableRow(doc, key string) string {
	for l := range strings.Lines(doc) {
		if strings.HasPrefix(l, "| `"+key+"` |") {
			return l
		}
	}
	return ""
}

// field is one key of an object of the JSON form.
type field struct {
	key, typ  string // the JSON key and type as the page writes it ("string", "array of strings", ...)
	omitEmpty bool
}

// object is a Go struct of the JSON form and its keys in the order encoding/json writes them.
type object struct {
	typ    reflect.Type
	fields []field
}

// driftObjects are engine.DriftReport and the structs it holds, in the order they are met.
func driftObjects() []object {
	var objs []object
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t == reflect.TypeOf(time.Time{}) ||
			slices.ContainsFunc(objs, func(o object) bool { return o.typ == t }) {
			return
		}
		objs = append(objs, object{typ: t})
		i := len(objs) - 1
		for f := range t.Fields() {
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			objs[i].fields = append(objs[i].fields, field{key: name, typ: jsonTypeName(f.Type),
				omitEmpty: slices.Contains(strings.Split(opts, ","), "omitempty")})
			walk(f.Type)
		}
	}
	walk(reflect.TypeOf(engine.DriftReport{}))
	return objs
}

// jsonTypeName is the JSON type encoding/json writes for a Go type, as the page names it.
func jsonTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == reflect.TypeOf(time.Time{}), t.Kind() == reflect.String:
		return "string"
	case t.Kind() == reflect.Bool:
		return "boolean"
	case reflect.Int <= t.Kind() && t.Kind() <= reflect.Uintptr:
		return "integer"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "number"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		return "array of strings"
	case t.Kind() == reflect.Slice:
		return "array"
	}
	return "object"
}

// docRow is one row of a key table: the key, its type and its meaning.
type docRow struct{ key, typ, meaning string }

// keyTables are doc's tables whose header is "| key | type | meaning |", each as its rows in order.
func keyTables(doc string) [][]docRow {
	var tables [][]docRow
	in := false
	for l := range strings.Lines(doc) {
		l = strings.TrimSpace(l)
		switch {
		case l == "| key | type | meaning |":
			tables = append(tables, nil)
			in = true
		case !strings.HasPrefix(l, "|"):
			in = false
		case in && strings.HasPrefix(l, "|---"):
		case in:
			cells := strings.Split(strings.Trim(l, "|"), "|")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			r := docRow{key: strings.Trim(cells[0], "`")}
			if len(cells) > 1 {
				r.typ = cells[1]
			}
			if len(cells) > 2 {
				r.meaning = strings.Join(cells[2:], "|")
			}
			tables[len(tables)-1] = append(tables[len(tables)-1], r)
		}
	}
	return tables
}

// driftDocProblems says what is wrong with doc as the reference of the drift report's JSON form, from
// the Go types: an object without a table, a key without a row or a row without a key, rows out of
// the JSON's order, a wrong type, a missing or wrong "Omitted when". Each object's table is the key
// table that shares the most keys with it.
func driftDocProblems(doc string) []string {
	var problems []string
	tables := keyTables(doc)
	used := map[int]bool{}
	for _, o := range driftObjects() {
		best, bestN := -1, 0
		for i, tb := range tables {
			n := 0
			for _, r := range tb {
				if slices.ContainsFunc(o.fields, func(f field) bool { return f.key == r.key }) {
					n++
				}
			}
			if n > bestN {
				best, bestN = i, n
			}
		}
		if best < 0 {
			problems = append(problems, fmt.Sprintf("no key table documents %s", o.typ.Name()))
			continue
		}
		used[best] = true
		tb := tables[best]
		var docKeys, goKeys []string
		for _, r := range tb {
			f, ok := fieldOf(o, r.key)
			if !ok {
				problems = append(problems, fmt.Sprintf("%q is not a key of %s: its row is stale", r.key, o.typ.Name()))
				continue
			}
			docKeys = append(docKeys, r.key)
			if r.typ != f.typ {
				problems = append(problems, fmt.Sprintf("%s's %q is %s, not %s", o.typ.Name(), r.key, f.typ, r.typ))
			}
			says := strings.Contains(r.meaning, "Omitted when")
			switch {
			case f.omitEmpty && !says:
				problems = append(problems, fmt.Sprintf("%s's %q is omitted when empty: its row must say \"Omitted when ...\"", o.typ.Name(), r.key))
			case !f.omitEmpty && says:
				problems = append(problems, fmt.Sprintf("%s's %q is always written: its row must not say \"Omitted when\"", o.typ.Name(), r.key))
			}
		}
		for _, f := range o.fields {
			goKeys = append(goKeys, f.key)
			if !slices.ContainsFunc(tb, func(r docRow) bool { return r.key == f.key }) {
				problems = append(problems, fmt.Sprintf("%s's key %q has no row", o.typ.Name(), f.key))
			}
		}
		if slices.Equal(sortedCopy(docKeys), sortedCopy(goKeys)) && !slices.Equal(docKeys, goKeys) {
			problems = append(problems, fmt.Sprintf("%s's rows are not in the JSON's order: %s, not %s", o.typ.Name(),
				strings.Join(docKeys, ", "), strings.Join(goKeys, ", ")))
		}
	}
	for i, tb := range tables {
		if !used[i] && len(tb) > 0 {
			problems = append(problems, fmt.Sprintf("the key table that starts with %q documents no object of the drift report", tb[0].key))
		}
	}
	return problems
}

// undocumentedKeys are the keys of out (DriftJSON's output) that no key table of doc lists, sorted;
// out that does not decode is one key, its error.
func undocumentedKeys(doc string, out []byte) []string {
	tables := keyTables(doc)
	var tree any
	if err := json.Unmarshal(out, &tree); err != nil {
		return []string{"(the JSON does not decode: " + err.Error() + ")"}
	}
	keys := map[string]bool{}
	jsonKeys(tree, keys, false)
	var missing []string
	for k := range keys {
		if !slices.ContainsFunc(tables, func(tb []docRow) bool {
			return slices.ContainsFunc(tb, func(r docRow) bool { return r.key == k })
		}) {
			missing = append(missing, k)
		}
	}
	slices.Sort(missing)
	return missing
}

func fieldOf(o object, key string) (field, bool) {
	for _, f := range o.fields {
		if f.key == key {
			return f, true
		}
	}
	return field{}, false
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// jsonBlock is the content of doc's first ```json fenced block.
func jsonBlock(doc string) (string, bool) {
	_, rest, ok := strings.Cut(doc, "\n```json\n")
	if !ok {
		return "", false
	}
	block, _, ok := strings.Cut(rest, "\n```\n")
	if !ok {
		return "", false
	}
	return block + "\n", true
}

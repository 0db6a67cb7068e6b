package schema

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/deskfleet/deskfleet/spec"
)

func TestSchemaIsFresh(t *testing.T) {
	got, err := Generate("../spec")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, JSON()) {
		t.Fatal("fleet.schema.json is stale: run go generate ./schema")
	}
}

func TestSchemaCompiles(t *testing.T) {
	if _, err := Compiled(); err != nil {
		t.Fatal(err)
	}
}

func TestSchemaHasDescriptionsFromDocComments(t *testing.T) {
	for _, want := range []string{
		`"description": "The desktops' label (remark, UpdateVmLabels). Omitted: not managed; \"\" enforces an empty label."`,
		`"description": "Account is a sub-account, identified by its email."`,
		`"宿迁A"`, // an example
	} {
		if !bytes.Contains(JSON(), []byte(want)) {
			t.Errorf("the schema lacks %s", want)
		}
	}
}

func TestExamplesAreValid(t *testing.T) {
	files, _ := filepath.Glob("../examples/*/*.yaml")
	if len(files) < 3 {
		t.Fatalf("want at least three examples, found %v", files)
	}
	// The environments' base and overlays, one folder deeper (an overlay's base is validated with it).
	envs, _ := filepath.Glob("../examples/*/*/*.yaml")
	if len(envs) < 3 {
		t.Fatalf("want the three files of examples/environments, found %v", envs)
	}
	for _, f := range append(files, envs...) {
		if ds := ValidateFiles(f); len(ds) != 0 {
			t.Errorf("%s: the schema rejects an example:\n%v", f, ds)
		}
	}
}

// head is a valid prefix: the cases' own text starts on line 5.
const head = `version: 1
fleet: t
defaults: {site: 宿迁A, profile: p}
profiles: {p: {product: {gpu: NVIDIA A5000, os: windows}, image: img}}
`

func TestSchemaRejects(t *testing.T) {
	tests := []struct {
		reason string
		yaml   string // appended to head unless full
		full   bool
		want   []string
	}{
		{"an unknown key, at the key", "desktops:\n  - name: a\n    lable: x\n",
			false, []string{`f.yaml:7:5: schema: unknown key "lable" at desktops[0]`}},
		{"a malformed email", "accounts:\n  - {email: alice@, name: a}\n",
			false, []string{`f.yaml:6:13: schema: accounts[0].email: 'alice@' is not valid email: invalid domain: label must be 1 to 63 characters long`}},
		{"a malformed email in bindings", "bindings: {a: bob}\n",
			false, []string{`f.yaml:5:15: schema: bindings.a: 'bob' is not valid email: missing @`}},
		{"a remark over 30 characters", "accounts:\n  - {email: a@example.com, name: a, remark: 一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一}\n",
			false, []string{`f.yaml:6:45: schema: accounts[0].remark: maxLength: got 31, want 30`}},
		{"months below 1", "billing: {m: {cycle: month, months: 0}}\n",
			false, []string{`f.yaml:5:37: schema: billing.m.months: minimum: got 0, want 1`}},
		{"bandwidth below 1", "desktops: [{name: a, bandwidth: 0}]\n",
			false, []string{`f.yaml:5:33: schema: desktops[0].bandwidth: minimum: got 0, want 1`}},
		{"a bad duration", "billing: {m: {cycle: month, renewWithin: 7days}}\n",
			false, []string{`f.yaml:5:42: schema: billing.m.renewWithin: '7days' does not match pattern '^([0-9]+d|([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$'`}},
		{"an unknown power value", "desktops: [{name: a, power: yes}]\n",
			false, []string{`f.yaml:5:29: schema: desktops[0].power: value must be one of 'on', 'off', true, false`}},
		{"power 1 (a number)", "desktops: [{name: a, power: 1}]\n",
			false, []string{`f.yaml:5:29: schema: desktops[0].power: value must be one of 'on', 'off', true, false`}},
		{"a version other than 1", "version: 2\nfleet: t\n",
			true, []string{`f.yaml:1:10: schema: version: value must be 1`}},
		{"a missing fleet", "version: 1\n",
			true, []string{`f.yaml:1:1: schema: the document: missing "fleet"`}},
		{"a count over the limit", "desktops: [{name: a, count: 1001}]\n",
			false, []string{`f.yaml:5:29: schema: desktops[0].count: maximum: got 1,001, want 1,000`}},
		{"an unknown billing cycle", "billing: {m: {cycle: monthly}}\n",
			false, []string{`f.yaml:5:22: schema: billing.m.cycle: value must be one of 'minute', 'month'`}},
		{"renamedFrom with count > 1", "desktops: [{name: a, count: 2, renamedFrom: b}]\n",
			false, []string{`f.yaml:5:29: schema: desktops[0].count: maximum: got 2, want 1`}},
		{"a wrong type", "desktops: [{name: a, count: three}]\n",
			false, []string{`f.yaml:5:29: schema: desktops[0].count: got string, want integer`}},
		{"a product that is neither an id nor a selector", "desktops: [{name: a, product: 12}]\n",
			false, []string{`f.yaml:5:31: schema: desktops[0].product: got number, want string`, `f.yaml:5:31: schema: desktops[0].product: got number, want object`}},
		{"two bases: extends takes one path", "extends: [a.yaml, b.yaml]\n",
			false, []string{`f.yaml:5:10: schema: extends: got array, want string`}},
		{"remove of a defaults key that defaults has not", "remove: {defaults: [colour]}\n",
			false, []string{`f.yaml:5:21: schema: remove.defaults[0]: value must be one of 'site', 'network', 'bandwidth', 'billing', 'profile'`}},
		{"an empty name under remove", "remove: {desktops: ['']}\n",
			false, []string{`f.yaml:5:21: schema: remove.desktops[0]: minLength: got 0, want 1`}},
		{"an empty product selector", "desktops: [{name: a, product: {}}]\n",
			false, []string{`f.yaml:5:31: schema: desktops[0].product: got object, want string`, `f.yaml:5:31: schema: desktops[0].product: minProperties: got 0, want 1`}},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			src := tt.yaml
			if !tt.full {
				src = head + src
			}
			srcs, ds := spec.ParseSources("f.yaml", []byte(src))
			if len(ds) != 0 {
				t.Fatalf("parse: %v", ds)
			}
			var got []string
			for _, d := range Validate(srcs) {
				got = append(got, d.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("%s\ngot:\n  %s\nwant:\n  %s", tt.reason, strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

func TestSchemaAcceptsWhatTheLoaderAccepts(t *testing.T) {
	// power on/off unquoted (strings in yaml.v3), power true and false (what YAML 1.1 tools write for
	// them: the loader warns), a productId string, an empty label, and a merge key whose explicit keys
	// win.
	ok := head + `desktops:
  - {name: a, power: on, product: e0997510, image: i}
  - {name: d, power: true}
  - {name: e, power: false}
  - &base {name: b, power: off, count: 2, label: ""}
  - <<: *base
    name: c
`
	srcs, ds := spec.ParseSources("f.yaml", []byte(ok))
	if len(ds) != 0 {
		t.Fatal(ds)
	}
	if got := Validate(srcs); len(got) != 0 {
		t.Errorf("want the schema to accept it, got %v", got)
	}
	if _, ds := spec.Parse("f.yaml", []byte(ok)); ds.HasErrors() {
		t.Errorf("want the loader to accept it, got %v", ds)
	}
}

func TestValidateBoundsAliasExpansion(t *testing.T) {
	// A billion-laughs list bomb: 9^9 strings once expanded.
	var b strings.Builder
	b.WriteString("version: 1\nfleet: t\nl0: &l0 [x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		p := "*l" + strconv.Itoa(i-1)
		b.WriteString("l" + strconv.Itoa(i) + ": &l" + strconv.Itoa(i) + " [" + strings.Repeat(p+", ", 8) + p + "]\n")
	}
	srcs, _ := spec.ParseSources("f.yaml", []byte(b.String()))
	ds := Validate(srcs)
	if len(ds) != 1 || ds[0].String() != "f.yaml:1:1: document too large to validate" {
		t.Errorf("want one 'too large' error, got %v", ds)
	}
}

func TestValidateSharesMergedMappings(t *testing.T) {
	// A merge chain that would be 3^15 mappings if each merge were expanded anew.
	var b strings.Builder
	b.WriteString("version: 1\nfleet: t\ndesktops:\n  - &m0 {name: a, site: s, product: x, image: y}\n")
	for i := 1; i < 16; i++ {
		p := "*m" + strconv.Itoa(i-1)
		b.WriteString("  - &m" + strconv.Itoa(i) + " {<<: [" + p + ", " + p + ", " + p + "], name: g" + strconv.Itoa(i) + "}\n")
	}
	srcs, _ := spec.ParseSources("f.yaml", []byte(b.String()))
	if ds := Validate(srcs); len(ds) != 0 {
		t.Errorf("want the merge chain accepted, got %v", ds)
	}
	if _, ds := spec.Parse("f.yaml", []byte(b.String())); len(ds) != 0 {
		t.Errorf("want the loader to accept the merge chain too, got %v", ds)
	}
}

func TestValidateRejectsAliasCycles(t *testing.T) {
	// An anchor whose value contains an alias to itself: a sequence expanded forever (with pointers
	// growing at each level), a mapping that would be a cyclic value for the validator. Found by
	// FuzzValidate.
	for _, tc := range []struct{ yaml, want string }{
		{"a: &a [*a]\n", "f.yaml:1:8: schema: alias *a refers to a value that contains it"},
		{"a: &a {b: *a}\n", "f.yaml:1:11: schema: alias *a refers to a value that contains it"},
		{"version: 1\nfleet: t\nprofiles: &p {p: {<<: *p}}\n", "f.yaml:3:23: schema: alias *p refers to a value that contains it"},
	} {
		srcs, ds := spec.ParseSources("f.yaml", []byte(tc.yaml))
		if len(ds) != 0 {
			t.Fatalf("%q: parse: %v", tc.yaml, ds)
		}
		ds = Validate(srcs)
		if len(ds) != 1 || ds[0].String() != tc.want {
			t.Errorf("%q: got %v, want %s", tc.yaml, ds, tc.want)
		}
	}
}

func TestValidateBoundsMergeChainsAndDeepAliases(t *testing.T) {
	// A merge chain where each mapping adds one key: linear to convert once shared, but n²/2 values
	// (and as many unknown-key diagnostics) for the validator. And a doubling chain of 3000 anchors:
	// values 3000 levels deep, whose pointers alone would take gigabytes.
	var chain, deep strings.Builder
	chain.WriteString("version: 1\nfleet: t\ndesktops:\n  - &m0 {name: a}\n")
	for i := 1; i < 3000; i++ {
		fmt.Fprintf(&chain, "  - &m%d {<<: *m%d, k%d: 1}\n", i, i-1, i)
	}
	deep.WriteString("version: 1\nfleet: t\nx0: &a0 [1, 1]\n")
	for i := 1; i < 3000; i++ {
		fmt.Fprintf(&deep, "x%d: &a%d [*a%d, *a%d]\n", i, i, i-1, i-1)
	}
	for name, src := range map[string]string{"merge chain": chain.String(), "deep aliases": deep.String()} {
		srcs, _ := spec.ParseSources("f.yaml", []byte(src))
		ds := Validate(srcs)
		if len(ds) != 1 || ds[0].String() != "f.yaml:1:1: document too large to validate" {
			t.Errorf("%s: want one 'too large' error, got %d: %.200v", name, len(ds), ds)
		}
	}
}

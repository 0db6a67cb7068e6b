package spec

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// yaml11Bool is what PyYAML's resolver (YAML 1.1) reads as a boolean in a plain scalar.
var yaml11Bool = regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)

// asYAML11 returns what a YAML 1.1 tool makes of the document: every plain scalar it reads as a
// boolean becomes true or false, as PyYAML writes it back (yaml.safe_load then yaml.safe_dump).
func asYAML11(t *testing.T, data []byte) ([]byte, []string) {
	t.Helper()
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	var changed []string
	var visit func(n *yaml.Node)
	visit = func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode && n.Style == 0 && n.Tag == "!!str" && yaml11Bool.MatchString(n.Value) {
			v := "false"
			if strings.Contains("yes Yes YES true True TRUE on On ON", n.Value) {
				v = "true"
			}
			changed = append(changed, n.Value)
			n.Tag, n.Value = "!!bool", v
		}
		for _, c := range n.Content {
			visit(c)
		}
	}
	visit(&root)
	out, err := yaml.Marshal(&root)
	if err != nil {
		t.Fatal(err)
	}
	return out, changed
}

// TestExamplesYAML11Safe: every example (and the reference's complete example) reads the same under a
// YAML 1.1 reader: no plain scalar that such a reader takes for a boolean where the spec wants a
// string (power: on must be written power: "on"); and a copy rewritten as a YAML 1.1 tool writes it
// back is still a valid spec, with the same desktops.
func TestExamplesYAML11Safe(t *testing.T) {
	files, _ := filepath.Glob("../examples/*/*.yaml")
	envs, _ := filepath.Glob("../examples/*/*/*.yaml") // examples/environments: overlays read their base
	files = append(append(files, envs...), "testdata/spec-example.yaml")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rewritten, changed := asYAML11(t, data)
		if len(changed) > 0 {
			t.Errorf("%s: a YAML 1.1 reader takes %q for booleans: quote them", f, changed)
		}
		want, ds := Parse(f, data)
		if ds.HasErrors() {
			t.Fatalf("%s: %v", f, ds)
		}
		got, ds := Parse(f, rewritten)
		if ds.HasErrors() {
			t.Errorf("%s rewritten by a YAML 1.1 tool is not valid: %v", f, ds)
			continue
		}
		if len(got.Desktops) != len(want.Desktops) {
			t.Errorf("%s rewritten: %d desktops, want %d", f, len(got.Desktops), len(want.Desktops))
		}
	}
}

// TestYAML11Power: the booleans a YAML 1.1 tool writes for power are read as on and off, with a
// warning at the value that suggests the quoted form; nothing else is.
func TestYAML11Power(t *testing.T) {
	head := "version: 1\nfleet: lab\ndefaults: {site: s}\nprofiles:\n  p: {product: prod-1, image: img}\ndesktops:\n"
	cases := []struct {
		name, reason string
		desktop      string
		want         Power // "" for no power
		warning      string
		error        string
	}{
		{"true", "PyYAML writes power: on back as true", "  - {name: a, profile: p, power: true}\n", PowerOn,
			`7:34: warning: power: true is read as "on"`, ""},
		{"false", "and power: off as false", "  - {name: a, profile: p, power: false}\n", PowerOff,
			`7:34: warning: power: false is read as "off"`, ""},
		{"True", "a YAML 1.2 boolean in another casing is one too", "  - name: a\n    profile: p\n    power: True\n", PowerOn,
			`warning: power: True is read as "on"`, ""},
		{"quoted", "the quoted form every reader agrees on: no warning", "  - {name: a, profile: p, power: \"off\"}\n", PowerOff, "", ""},
		{"plain on", "YAML 1.2 reads a plain on as a string: no warning", "  - {name: a, profile: p, power: on}\n", PowerOn, "", ""},
		{"anchored", "an anchored boolean stays one for protect, and is on for power",
			"  - {name: a, profile: p, protect: &t true, power: *t}\n", PowerOn, `warning: power: true is read as "on"`, ""},
		{"quoted true", "a string \"true\" is not what a YAML 1.1 tool writes: still an error",
			"  - {name: a, profile: p, power: \"true\"}\n", "", "", `unknown power "true"`},
		{"number", "any other type stays an error", "  - {name: a, profile: p, power: 1}\n", "", "", "power"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fl, ds := Parse("f.yaml", []byte(head+c.desktop))
			var lines []string
			for _, d := range ds {
				lines = append(lines, d.String())
			}
			all := strings.Join(lines, "\n")
			if c.error != "" {
				if !ds.HasErrors() || !strings.Contains(all, c.error) {
					t.Fatalf("%s: want an error with %q, got:\n%s", c.reason, c.error, all)
				}
				return
			}
			if ds.HasErrors() {
				t.Fatalf("%s: want no error, got:\n%s", c.reason, all)
			}
			if c.warning == "" && len(ds) > 0 || c.warning != "" && !strings.Contains(all, c.warning) {
				t.Errorf("%s: want warning %q, got:\n%s", c.reason, c.warning, all)
			}
			if c.warning != "" && !strings.Contains(all, `power: "`+string(c.want)+`", quoted`) {
				t.Errorf("%s: the hint must suggest the quoted form, got:\n%s", c.reason, all)
			}
			if len(fl.Desktops) != 1 || fl.Desktops[0].Power == nil || *fl.Desktops[0].Power != c.want {
				t.Errorf("%s: want power %q, got %+v", c.reason, c.want, fl.Desktops)
			}
			if c.name == "anchored" && !fl.Desktops[0].Protect {
				t.Errorf("%s: protect must stay true", c.reason)
			}
		})
	}
}

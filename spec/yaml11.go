package spec

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// YAML 1.1 readers (PyYAML, ruamel in its 1.1 mode, many editors and the tools built on them) read
// the plain scalars on, off, yes and no as booleans: a spec that says `power: on` comes back from such
// a tool as `power: true`. deskfleet reads YAML 1.2, where `on` is a string, and accepts what those
// tools write for power: true for on, false for off, with a warning suggesting the quoted form
// (`power: "on"`), which every reader takes as a string. The schema allows the booleans too, so an
// editor that validates against it does not flag them.

// powerKey is the only key whose value a YAML 1.1 tool turns into a boolean.
const powerKey = "power"

// yaml11Power rewrites, in place, every boolean value of a power key of the document into the
// string it stands for ("on" for true, "off" for false) and returns a warning for each. It visits each
// node once (aliases point to nodes already visited), so it is linear in the document.
func yaml11Power(file string, root *yaml.Node) Diagnostics {
	var diags Diagnostics
	seen := map[*yaml.Node]bool{}
	var visit func(n *yaml.Node)
	visit = func(n *yaml.Node) {
		if n == nil || seen[n] {
			return
		}
		seen[n] = true
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.Kind == yaml.ScalarNode && k.Value == powerKey {
					val := v
					if val.Kind == yaml.AliasNode && val.Alias != nil {
						val = val.Alias
					}
					if str, d, ok := powerBool(file, val); ok {
						// A new node: an anchored boolean may be another key's value too.
						n.Content[i+1] = str
						diags = append(diags, d)
						continue
					}
				}
				visit(v)
			}
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				visit(c)
			}
		case yaml.AliasNode:
			visit(n.Alias)
		}
	}
	visit(root)
	return diags
}

// powerBool returns the string scalar a boolean scalar stands for as a power, at the same place, with
// its warning.
func powerBool(file string, n *yaml.Node) (*yaml.Node, Diagnostic, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		return nil, Diagnostic{}, false
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		return nil, Diagnostic{}, false
	}
	want := PowerOff
	if b {
		want = PowerOn
	}
	str := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: string(want), Style: yaml.DoubleQuotedStyle,
		Line: n.Line, Column: n.Column}
	return str, Diagnostic{Pos: Pos{File: file, Line: n.Line, Col: n.Column}, Severity: Warning,
		Message: fmt.Sprintf("power: %s is read as %q: YAML 1.1 tools (PyYAML, some editors) write an unquoted %s as %s",
			n.Value, want, want, n.Value),
		Hint: fmt.Sprintf("write power: %q, quoted: every YAML reader takes it as the string", want)}, true
}

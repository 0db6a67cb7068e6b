package spec

import (
	"encoding/json"
	"strconv"

	"github.com/invopop/jsonschema"
)

// JSONSchemaExtend states what the reflected document cannot: the values of bindings are emails (a
// map's values take no struct tags).
func (Document) JSONSchemaExtend(s *jsonschema.Schema) {
	if b, ok := s.Properties.Get(keyBindings); ok {
		b.AdditionalProperties = &jsonschema.Schema{Type: "string", Format: "email",
			Description: "The email of a sub-account declared under accounts."}
		b.Examples = []any{map[string]any{"render": "alice@example.com", "render_001": "bob@example.com"}}
	}
}

// JSONSchemaExtend sets the longest remark to MaxRemark.
func (Account) JSONSchemaExtend(s *jsonschema.Schema) {
	if r, ok := s.Properties.Get(keyOf[Account]("Remark")); ok {
		r.MaxLength = ptr(uint64(MaxRemark))
	}
}

// JSONSchemaExtend sets the largest count to MaxCount and adds the rule the reflected group cannot
// say: renamedFrom needs count 1. The loader reports a breach of the rule at renamedFrom, with
// renameHint (see Group.conditionHint).
func (Group) JSONSchemaExtend(s *jsonschema.Schema) {
	if c, ok := s.Properties.Get("count"); ok {
		c.Maximum = jsonNumber(MaxCount)
	}
	// YAML 1.1 tools write an unquoted on/off as true/false: the loader reads those as on/off (with a
	// warning), and the schema allows them so that an editor does not flag them.
	if p, ok := s.Properties.Get(keyOf[Group]("Power")); ok {
		p.Type = ""
		p.Enum = []any{string(PowerOn), string(PowerOff), true, false}
	}
	s.If = &jsonschema.Schema{Required: []string{"renamedFrom"}}
	count := jsonschema.NewProperties()
	count.Set("count", &jsonschema.Schema{Maximum: jsonNumber(1), Description: "renamedFrom renames one desktop: count must be 1."})
	s.Then = &jsonschema.Schema{Properties: count}
}

// conditionHint is the hint of an error against the group's if/then rule.
func (Group) conditionHint() string { return "rename a group of one desktop at a time" }

func jsonNumber(n int) json.Number { return json.Number(strconv.Itoa(n)) }

// JSONSchemaExtend: a budget states at least one amount, and every amount (the fleet's, a group's, a
// label's) is greater than 0 (a map's values take no struct tags).
func (Budget) JSONSchemaExtend(s *jsonschema.Schema) {
	s.MinProperties = ptr(uint64(1))
	for _, k := range []string{"groups", "labels"} {
		if m, ok := s.Properties.Get(k); ok {
			m.AdditionalProperties = &jsonschema.Schema{Type: "number", ExclusiveMinimum: "0",
				Description: "A monthly amount, greater than 0."}
		}
	}
}

package spec

import "github.com/invopop/jsonschema"

// JSONSchemaExtend adds the rule the reflected group cannot say: renamedFrom needs count 1.
func (Group) JSONSchemaExtend(s *jsonschema.Schema) {
	s.If = &jsonschema.Schema{Required: []string{"renamedFrom"}}
	count := jsonschema.NewProperties()
	count.Set("count", &jsonschema.Schema{Maximum: "1", Description: "renamedFrom renames one desktop: count must be 1."})
	s.Then = &jsonschema.Schema{Properties: count}
}

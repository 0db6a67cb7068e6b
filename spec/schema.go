package spec

import (
	"bytes"
	"encoding/json"
	"sync"

	"github.com/invopop/jsonschema"
	validator "github.com/santhosh-tekuri/jsonschema/v6"
)

// SchemaID is the $id of the fleet JSON Schema.
const SchemaID = "https://github.com/deskfleet/deskfleet/schema/fleet.schema.json"

// SchemaReflector returns the reflector that turns the types of this package into the fleet JSON
// Schema: the document inline, the other types under $defs. Package schema adds the doc comments as
// descriptions to write fleet.schema.json; Load validates against the same reflection without them.
func SchemaReflector() *jsonschema.Reflector {
	return &jsonschema.Reflector{ExpandedStruct: true}
}

// ReflectSchema reflects Document with r (from SchemaReflector) into the fleet JSON Schema (draft
// 2020-12): the types' struct tags and JSONSchemaExtend methods are its rules.
func ReflectSchema(r *jsonschema.Reflector) *jsonschema.Schema {
	s := r.Reflect(&Document{})
	s.ID = SchemaID
	s.Title = "deskfleet fleet spec"
	s.Description = "A fleet of GPU cloud desktops (format version 1). " +
		"Every document of a spec has version and fleet; the documents merge into one fleet, " +
		"over the base spec it extends, if any."
	return s
}

// MarshalSchema renders a reflected schema as fleet.schema.json holds it: indented, HTML characters
// not escaped, ending with a newline.
func MarshalSchema(s *jsonschema.Schema) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// compiledSchema is the schema Load validates against, reflected and compiled once: the document's
// and, for Product.UnmarshalYAML, the product's.
type compiledSchema struct {
	source  *jsonschema.Schema
	doc     *validator.Schema
	product *validator.Schema
}

var ownSchema = sync.OnceValues(func() (*compiledSchema, error) {
	src := ReflectSchema(SchemaReflector())
	data, err := MarshalSchema(src)
	if err != nil {
		return nil, err
	}
	return compileSchema(data, src)
})

// compileSchema compiles fleet schema JSON for validation, formats asserted. src, when not nil, is
// the reflected schema that data renders (Load reads its conditional rules for its messages).
func compileSchema(data []byte, src *jsonschema.Schema) (*compiledSchema, error) {
	doc, err := validator.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	c := validator.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(SchemaID, doc); err != nil {
		return nil, err
	}
	out := &compiledSchema{source: src}
	if out.doc, err = c.Compile(SchemaID); err != nil {
		return nil, err
	}
	if out.product, err = c.Compile(SchemaID + "#/$defs/Product"); err != nil {
		return nil, err
	}
	return out, nil
}

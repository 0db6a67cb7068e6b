package schema

import (
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/deskfleet/deskfleet/spec"
)

var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(schemaJSON)))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(ID, doc); err != nil {
		return nil, err
	}
	return c.Compile(ID)
})

// Compiled returns the embedded schema compiled (once) for validation; an error means the committed
// fleet.schema.json is broken.
func Compiled() (*jsonschema.Schema, error) { return compiled() }

// ValidateFiles reads the spec at paths as spec.Load does and validates every document; read and syntax
// errors are returned as diagnostics too.
func ValidateFiles(paths ...string) spec.Diagnostics {
	srcs, diags := spec.ReadSources(paths...)
	diags = append(diags, Validate(srcs)...)
	diags.Sort()
	return diags
}

// Validate checks each document against the embedded fleet schema on its own (every document must have
// version and fleet) and returns each violation as an Error in the schema's words, at the YAML position
// of the offending value, or of the offending key for an unknown key. The documents are walked by the
// loader's own walk (spec.SchemaDiagnostics): values converted by their YAML tag, so an unquoted on/off
// is the string it is in yaml.v3, and merge keys and aliases expanded as the loader expands them.
func Validate(srcs []spec.Source) spec.Diagnostics {
	sch, err := compiled()
	if err != nil {
		return spec.Diagnostics{{Message: "the embedded fleet schema does not compile: " + err.Error()}}
	}
	return spec.SchemaDiagnostics(srcs, sch)
}

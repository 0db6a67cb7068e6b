package schema

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/invopop/jsonschema"

	"github.com/deskfleet/deskfleet/spec"
)

//go:generate go run ./internal/gen
//go:generate go run ./internal/gendoc

// ID is the $id of the fleet schema.
const ID = "https://github.com/deskfleet/deskfleet/schema/fleet.schema.json"

// Generate reflects the spec types into the fleet JSON Schema (draft 2020-12), with the doc comments of
// package spec as descriptions and the `example=` tags as examples. It reads the spec package's sources
// for the comments at specDir, a path relative to the working directory that must be "../spec" when run
// from the schema folder (as `go generate` and `go test` do). The output is deterministic, indented and
// ends with a newline: it is what fleet.schema.json must hold.
func Generate(specDir string) ([]byte, error) {
	r := &jsonschema.Reflector{
		ExpandedStruct: true, // the root object inline, the other types under $defs
	}
	// AddGoComments keys the comments by base joined with each file's folder: with base
	// ".../schema" and specDir "../spec" that is the spec package's import path.
	if err := r.AddGoComments("github.com/deskfleet/deskfleet/schema", specDir); err != nil {
		return nil, fmt.Errorf("reading the doc comments of %s: %w", specDir, err)
	}
	if len(r.CommentMap) == 0 {
		return nil, fmt.Errorf("no doc comments found under %s: run from the schema folder", specDir)
	}
	s := r.Reflect(&spec.Document{})
	s.ID = ID
	s.Title = "deskfleet fleet spec"
	s.Description = "A fleet of GPU cloud desktops (format version 1). " +
		"Every document of a spec has version and fleet; the documents merge into one fleet."
	// A map's values take no struct tags: bindings' values are emails.
	if b, ok := s.Properties.Get("bindings"); ok {
		b.AdditionalProperties = &jsonschema.Schema{Type: "string", Format: "email",
			Description: "The email of a sub-account declared under accounts."}
		b.Examples = []any{map[string]any{"render": "alice@example.com", "render_001": "bob@example.com"}}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

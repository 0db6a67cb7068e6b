// Package schema holds the JSON Schema of the fleet spec, generated from the types of package spec
// (`go generate ./schema` writes fleet.schema.json; a test fails when it is stale), and validates loaded
// documents against it, reporting each violation at its file:line:col.
//
// Editors use the schema through the `# yaml-language-server: $schema=...` comment for completion and
// hover help. The schema expresses types, required keys, unknown keys, enums, bounds, formats and the
// rules between keys of one mapping; spec.Load validates every document against the same schema
// (reflected from the same types) in its own words, and alone checks the cross-references: names of
// plans, profiles, desktops and accounts, and names declared twice.
package schema

import _ "embed"

//go:embed fleet.schema.json
var schemaJSON []byte

// JSON returns the committed fleet.schema.json. The caller must not modify it.
func JSON() []byte { return schemaJSON }

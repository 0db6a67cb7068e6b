package schema

import (
	"fmt"

	"github.com/deskfleet/deskfleet/spec"
)

//go:generate go run ./internal/gen
//go:generate go run ./internal/gendoc

// ID is the $id of the fleet schema.
const ID = spec.SchemaID

// Generate reflects the spec types into the fleet JSON Schema (draft 2020-12) as spec.ReflectSchema
// does for the loader, adding the doc comments of package spec as descriptions (the `example=` tags
// give the examples). It reads the spec package's sources for the comments at specDir, a path relative
// to the working directory that must be "../spec" when run from the schema folder (as `go generate`
// and `go test` do). The output is deterministic, indented and ends with a newline: it is what
// fleet.schema.json must hold.
func Generate(specDir string) ([]byte, error) {
	r := spec.SchemaReflector()
	// AddGoComments keys the comments by base joined with each file's folder: with base
	// ".../schema" and specDir "../spec" that is the spec package's import path.
	if err := r.AddGoComments("github.com/deskfleet/deskfleet/schema", specDir); err != nil {
		return nil, fmt.Errorf("reading the doc comments of %s: %w", specDir, err)
	}
	if len(r.CommentMap) == 0 {
		return nil, fmt.Errorf("no doc comments found under %s: run from the schema folder", specDir)
	}
	return spec.MarshalSchema(spec.ReflectSchema(r))
}

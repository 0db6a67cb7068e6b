package render

import (
	"encoding/json"
	"io"

	"github.com/deskfleet/deskfleet/engine"
)

// JSON writes the plan as indented JSON (two spaces) followed by a newline: the form documented in
// docs/plan-json.md, versioned by its format_version field. Strings are escaped as encoding/json does
// by default (<, > and & as \u003c, \u003e, \u0026), everywhere alike. Decoding the output into an
// engine.Plan and writing it again gives the same bytes. It fails, writing nothing, when a step has
// no op; otherwise only on w's error.
func JSON(w io.Writer, p *engine.Plan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}

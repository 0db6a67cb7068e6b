// Package spec reads fleet specs: the YAML a user writes (format version 1, docs/spec.md) into a Fleet,
// with every value's file, line and column kept so that each problem, here or in later stages, is
// reported where it was written.
//
// Load decodes strictly (unknown keys are errors), merges the files and documents of a spec (a key set
// twice is an error) over the base spec it extends, if any (`extends`: the spec's values override the
// base's by the rule of overlay.go, each position following the value that won), applies the defaults
// cascade (group field, else `defaults`, else built-in), expands each group's count into the
// names the API gives (render, render_001, render_002, ...) and cross-checks references, collecting every
// Diagnostic rather than stopping at the first. Fields that the spec may omit to leave unmanaged are
// pointers (nil: not managed) or carry an explicit Set flag (Bindings).
//
// The package imports nothing else from deskfleet.
package spec

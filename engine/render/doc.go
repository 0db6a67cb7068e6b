// Package render turns an *engine.Plan into what people and programs read: Text for a terminal,
// Markdown for a pull-request comment, JSON for programs (documented in docs/plan-json.md).
// A drift report gets the same three forms: DriftText, DriftMarkdown, DriftJSON (docs/drift-json.md).
//
// Every renderer is a pure function of the plan and its options: the output is deterministic (no map
// iteration order, no clock, no environment), so it is golden-tested. Renderers only read the plan;
// they never change it. Names come first and ids are shortened; a change that needs a flag to apply
// says which flag.
package render

// Package engine turns a fleet spec into changes: Resolve maps the spec's names to the API's ids,
// Observe reads the live state, Diff (a pure function) decides what to do and returns a Plan of typed,
// batched steps with their dependencies, and Price adds what the plan costs.
//
// The data flows one way (docs/architecture.md, "Data flow"):
//
//	spec.Fleet --Resolve(catalog, snapshot)--> Desired --Diff(snapshot, state.Record)--> Plan --Price--> Plan with Cost
//
// All I/O happens in ReadCatalog, Observe and Price; Resolve and Diff do none, so their decision
// tables are tested with golden plans.
package engine

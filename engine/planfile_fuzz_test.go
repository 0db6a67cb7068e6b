package engine_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/deskfleet/deskfleet/engine"
)

// FuzzLoadPlan feeds arbitrary bytes to LoadPlan's decoding (what it does once the file is read:
// limits, format_version, Plan.UnmarshalJSON) and to Plan.UnmarshalJSON alone. Neither may panic;
// errors name the file; a plan that loads writes as JSON that loads again and writes the same bytes
// (the round trip render.JSON promises). The seed corpus is a plan of every op and field and
// engine/testdata/fuzz/FuzzLoadPlan (run as ordinary tests by `go test`).
func FuzzLoadPlan(f *testing.F) {
	full, err := json.Marshal(pfPlan())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(full)
	f.Add([]byte(`{"format_version": 1, "fleet": "studio"}`))
	const p = "dir/plan.json"
	f.Fuzz(func(t *testing.T, data []byte) {
		var direct engine.Plan
		_ = json.Unmarshal(data, &direct)

		plan, err := engine.DecodePlanFile(p, data)
		if err != nil {
			if !bytes.Contains([]byte(err.Error()), []byte(p)) {
				t.Errorf("error not naming the file: %v", err)
			}
			return
		}
		if plan.FormatVersion != engine.FormatVersion {
			t.Errorf("loaded a plan of format_version %d", plan.FormatVersion)
		}
		once, err := json.Marshal(plan)
		if err != nil {
			t.Fatalf("a loaded plan does not write: %v", err)
		}
		var again engine.Plan
		if err := json.Unmarshal(once, &again); err != nil {
			t.Fatalf("a written plan does not load: %v\n%s", err, once)
		}
		twice, err := json.Marshal(&again)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(once, twice) {
			t.Errorf("the round trip changed the plan:\n%s\n%s", once, twice)
		}
	})
}

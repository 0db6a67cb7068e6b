package render

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/engine"
)

// allKinds are the 16 op kinds; fullPlan has one step of each.
var allKinds = []engine.OpKind{
	engine.KindCreateDefaultNet, engine.KindSupplyDefaultNet, engine.KindCreateSubAccounts,
	engine.KindChangeSubAccountName, engine.KindChangeSubAccountRemark, engine.KindCreateDesktops,
	engine.KindDeleteDesktop, engine.KindRebuildDesktop, engine.KindRenameDesktop, engine.KindPowerDesktops,
	engine.KindLabelDesktops, engine.KindBindAccounts, engine.KindChangeAccount, engine.KindUnbindAccounts,
	engine.KindUpdateOrder, engine.KindRenewOrder,
}

func TestJSONGolden(t *testing.T) {
	var b bytes.Buffer
	if err := JSON(&b, fullPlan()); err != nil {
		t.Fatal(err)
	}
	goldenFile(t, "json-full", b.Bytes())
}

func TestFullPlanHasEveryOpKind(t *testing.T) {
	var kinds []engine.OpKind
	for _, s := range fullPlan().Steps {
		kinds = append(kinds, s.Op.Kind())
	}
	for _, k := range allKinds {
		if !slices.Contains(kinds, k) {
			t.Errorf("fullPlan has no step of kind %s: the round trip does not cover it", k)
		}
	}
}

// TestJSONRoundTrip: JSON, decoded into an engine.Plan and written again, gives the same bytes
// (Step.UnmarshalJSON rebuilds every op kind).
func TestJSONRoundTrip(t *testing.T) {
	cases := []struct {
		reason string
		plan   func() *engine.Plan
	}{
		{"every op kind and every field", fullPlan},
		{"an empty plan (null and omitted slices)", emptyPlan},
		{"the sketch's plan", studioPlan},
		{"1000 desktops", bigPlan},
		{"errors only", errorsOnlyPlan},
	}
	for _, tc := range cases {
		var first bytes.Buffer
		if err := JSON(&first, tc.plan()); err != nil {
			t.Fatalf("%s: %v", tc.reason, err)
		}
		var decoded engine.Plan
		if err := json.Unmarshal(first.Bytes(), &decoded); err != nil {
			t.Fatalf("%s: decode: %v", tc.reason, err)
		}
		var second bytes.Buffer
		if err := JSON(&second, &decoded); err != nil {
			t.Fatalf("%s: %v", tc.reason, err)
		}
		if !bytes.Equal(first.Bytes(), second.Bytes()) {
			t.Errorf("%s: the round trip changed the JSON:\n%s\n---\n%s", tc.reason, first.Bytes(), second.Bytes())
		}
		if !strings.HasSuffix(first.String(), "}\n") {
			t.Errorf("%s: not newline-terminated", tc.reason)
		}
		for i, s := range decoded.Steps {
			if want := tc.plan().Steps[i].Op; !reflect.DeepEqual(s.Op, want) {
				t.Errorf("%s: step %d decoded as %#v, want %#v", tc.reason, s.ID, s.Op, want)
			}
		}
	}
}

func TestJSONStepWithoutOp(t *testing.T) {
	p := emptyPlan()
	p.Steps = []engine.Step{{ID: 1}}
	var b bytes.Buffer
	if err := JSON(&b, p); err == nil {
		t.Fatal("a step without an op was written")
	}
	if b.Len() != 0 {
		t.Errorf("a failed JSON wrote %d bytes", b.Len())
	}
}

// TestJSONDocumented keeps docs/plan-json.md true: every key the plan's JSON form can hold is
// mentioned there in backquotes. Keys come from a fully populated plan's output (which covers the
// steps' own keys) and from the json tags of the plan's and every op's Go types (which covers
// fields a fixture leaves empty).
func TestJSONDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "plan-json.md"))
	if err != nil {
		t.Fatal(err)
	}
	p := fullPlan()
	var b bytes.Buffer
	if err := JSON(&b, p); err != nil {
		t.Fatal(err)
	}
	var tree any
	if err := json.Unmarshal(b.Bytes(), &tree); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	jsonKeys(tree, keys, false)
	tagKeys(reflect.TypeOf(engine.Plan{}), keys)
	for _, s := range p.Steps {
		tagKeys(reflect.TypeOf(s.Op), keys)
	}
	var missing []string
	for k := range keys {
		if !bytes.Contains(doc, []byte("`"+k+"`")) {
			missing = append(missing, k)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("docs/plan-json.md does not mention these keys of the plan's JSON: %s", strings.Join(missing, ", "))
	}
	if !bytes.Contains(doc, []byte(`"format_version": 1`)) {
		t.Error("docs/plan-json.md has no example with format_version 1")
	}
}

// jsonKeys collects the object keys of a decoded JSON value; the keys of "observed" are data (object
// ids), not names, and are skipped.
func jsonKeys(v any, keys map[string]bool, data bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if !data {
				keys[k] = true
			}
			jsonKeys(x, keys, k == "observed")
		}
	case []any:
		for _, x := range v {
			jsonKeys(x, keys, false)
		}
	}
}

// tagKeys collects the json names of t's fields and of the structs it holds. engine.Step (written
// by its own MarshalJSON) and time.Time are leaves.
func tagKeys(t reflect.Type, keys map[string]bool) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == reflect.TypeOf(time.Time{}) || t == reflect.TypeOf(engine.Step{}) {
		return
	}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		keys[name] = true
		tagKeys(f.Type, keys)
	}
}

// TestJSONDocExample: the example in docs/plan-json.md is what JSON writes for docExamplePlan.
func TestJSONDocExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "plan-json.md"))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := JSON(&b, docExamplePlan()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, b.Bytes()) {
		t.Errorf("docs/plan-json.md's example is not JSON's output for docExamplePlan; it should read:\n%s", b.Bytes())
	}
}

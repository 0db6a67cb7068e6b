package state

import (
	"reflect"
	"testing"
	"time"
)

// TestEqualCoversEveryField: Desktop.Equal and Account.Equal tell apart two values that differ in any
// one field (a field added to the type and not to Equal would make the executor skip writing it).
func TestEqualCoversEveryField(t *testing.T) {
	check := func(zero any, equal func(a, b any) bool) {
		typ := reflect.TypeOf(zero)
		for i := range typ.NumField() {
			f := typ.Field(i)
			v := reflect.New(typ).Elem()
			fv := v.Field(i)
			switch fv.Kind() {
			case reflect.String:
				fv.SetString("x")
			case reflect.Bool:
				fv.SetBool(true)
			case reflect.Pointer:
				fv.Set(reflect.New(f.Type.Elem()))
			case reflect.Struct:
				if f.Type != reflect.TypeOf(time.Time{}) {
					t.Fatalf("%s.%s: a field of a kind this test does not know", typ.Name(), f.Name)
				}
				fv.Set(reflect.ValueOf(time.Unix(1, 0)))
			default:
				t.Fatalf("%s.%s: a field of a kind this test does not know (%s)", typ.Name(), f.Name, fv.Kind())
			}
			if equal(reflect.New(typ).Elem().Interface(), v.Interface()) {
				t.Errorf("%s.Equal does not compare field %s", typ.Name(), f.Name)
			}
		}
	}
	check(Desktop{}, func(a, b any) bool { return a.(Desktop).Equal(b.(Desktop)) })
	check(Account{}, func(a, b any) bool { return a.(Account).Equal(b.(Account)) })
	s1, s2 := "a", "a"
	if !(Desktop{Label: &s1, AppliedAt: time.Unix(5, 0)}).Equal(Desktop{Label: &s2, AppliedAt: time.Unix(5, 0).UTC()}) {
		t.Errorf("Desktop.Equal: equal labels behind different pointers, or one instant in two locations, must be equal")
	}
}

// TestTrackedChanges: the methods note what they change; a record changed behind their back (a map
// replaced, a slice appended to directly, the whole record assigned) is reported Whole.
func TestTrackedChanges(t *testing.T) {
	tests := []struct {
		reason string
		fn     func(r *Record)
		whole  bool
		want   func(c Changes) bool
	}{
		{"a desktop put and one deleted", func(r *Record) {
			r.PutDesktop(Desktop{VmID: "vm-9"})
			r.DeleteDesktop("vm-1")
		}, false, func(c Changes) bool { return reflect.DeepEqual(c.Desktops, []string{"vm-1", "vm-9"}) }},
		{"an intent set, a step appended", func(r *Record) {
			in, _ := r.Intent("i-1")
			in.Status = IntentDone
			r.SetIntent(in)
			r.AppendRunStep("run-1", StepOutcome{Step: 2})
		}, false, func(c Changes) bool {
			return reflect.DeepEqual(c.Intents, []string{"i-1"}) && c.RunSteps["run-1"] == 1 && len(c.Runs) == 0
		}},
		{"nothing", func(*Record) {}, false, func(c Changes) bool { return c.Empty() }},
		{"a map replaced", func(r *Record) { r.Desktops = map[string]Desktop{} }, true, nil},
		{"an intent appended directly", func(r *Record) { r.Intents = append(r.Intents, Intent{ID: "x"}) }, true, nil},
		{"the record assigned", func(r *Record) { *r = Record{} }, true, nil},
	}
	for _, tt := range tests {
		r := &Record{Desktops: map[string]Desktop{"vm-1": {VmID: "vm-1"}}}
		r.AppendIntent(Intent{ID: "i-1", Status: IntentSent})
		r.AppendRun(Run{ID: "run-1", Steps: []StepOutcome{{Step: 1}}})
		r.Track()
		tt.fn(r)
		c := r.Changes()
		if c.Whole != tt.whole || (tt.want != nil && !tt.want(c)) {
			t.Errorf("%s: Changes = %+v", tt.reason, c)
		}
	}
}

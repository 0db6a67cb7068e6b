package memory_test

import (
	"context"
	"errors"
	"testing"

	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/memory"
	"github.com/deskfleet/deskfleet/state/statetest"
)

func TestConformance(t *testing.T) {
	statetest.Run(t, func(*testing.T) state.Store { return memory.New() })
}

// TestBypassCaught: a change made in fn without the record's methods, which a store writing change
// sets would lose, fails the Update with ErrBypassed (every test on this store catches it), while
// the same change through the methods, and a replaced map (written whole), are stored.
func TestBypassCaught(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	l, err := s.Lock(ctx, "studio", statetest.Holder("ana"), 0)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Update(ctx, l, func(r *state.Record) error {
		r.Desktops = map[string]state.Desktop{"vm-1": {VmID: "vm-1", Name: "a"}} // replaced: written whole
		r.AppendIntent(state.Intent{ID: "i-1", Status: state.IntentPending})
		return nil
	}))
	tests := []struct {
		reason string
		fn     func(r *state.Record)
	}{
		{"a desktop overwritten in place", func(r *state.Record) { r.Desktops["vm-1"] = state.Desktop{VmID: "vm-1", Name: "b"} }},
		{"an intent changed in place", func(r *state.Record) { r.Intents[0].Status = state.IntentDone }},
		{"a desktop swapped for another (same count)", func(r *state.Record) {
			delete(r.Desktops, "vm-1")
			r.Desktops["vm-2"] = state.Desktop{VmID: "vm-2"}
		}},
	}
	for _, tt := range tests {
		err := s.Update(ctx, l, func(r *state.Record) error { tt.fn(r); return nil })
		if !errors.Is(err, memory.ErrBypassed) {
			t.Errorf("%s: Update = %v, want ErrBypassed", tt.reason, err)
		}
	}
	must(s.Update(ctx, l, func(r *state.Record) error {
		r.PutDesktop(state.Desktop{VmID: "vm-1", Name: "b"})
		in, _ := r.Intent("i-1")
		in.Status = state.IntentDone
		r.SetIntent(in)
		return nil
	}))
	rec, err := s.Read(ctx, "studio")
	if err != nil || rec.Desktops["vm-1"].Name != "b" || rec.Intents[0].Status != state.IntentDone || rec.Serial != 2 {
		t.Errorf("through the methods: %+v, %v", rec, err)
	}
}

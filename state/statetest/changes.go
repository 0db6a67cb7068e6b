package statetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/state"
)

// changeCases check that Updates made through the record's methods are stored as they were made.
var changeCases = []testCase{
	{
		name: "change sets are stored",
		reason: "desktops and accounts put and deleted, intents appended and changed, runs appended, set and given steps, " +
			"over many Updates of one lock and then of another, read back as a model record holds them",
		run: func(t *testing.T, reason string, s state.Store) {
			model := &state.Record{Fleet: fleet}
			l := lock(t, s, fleet, "ana")
			for i := range 12 {
				both(t, s, l, model, edit(i))
				if i == 5 { // a new lock: a store's kept record does not outlive it
					if err := s.Unlock(context.Background(), l); err != nil {
						t.Fatal(err)
					}
					l = lock(t, s, fleet, "bo")
				}
				compare(t, reason, fmt.Sprintf("after update %d", i+1), read(t, s, fleet), model, int64(i+1))
			}
		},
	},
	{
		name:   "failed fn undoes tracked changes",
		reason: "changes made through the methods by an fn that fails are not stored, nor seen by the next Update of the same lock",
		run: func(t *testing.T, reason string, s state.Store) {
			model := &state.Record{Fleet: fleet}
			l := lock(t, s, fleet, "ana")
			both(t, s, l, model, edit(0))
			boom := errors.New("boom")
			err := s.Update(context.Background(), l, func(r *state.Record) error {
				r.PutDesktop(state.Desktop{VmID: "vm-undone", Name: "undone"})
				r.DeleteDesktop("vm-0")
				r.DeleteAccount("a0@x.io")
				in, _ := r.Intent("run-0/0")
				in.Status = state.IntentFailed
				r.SetIntent(in)
				r.AppendIntent(state.Intent{ID: "undone", Status: state.IntentPending})
				r.AppendRunStep("run-0", state.StepOutcome{Step: 99, Status: "undone"})
				r.AppendRun(state.Run{ID: "undone"})
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("%s: Update = %v, want fn's error", reason, err)
			}
			compare(t, reason, "after the failed Update", read(t, s, fleet), model, 1)
			update(t, s, l, func(r *state.Record) error {
				got := r.Clone()
				got.Serial = 0
				if !same(got, withSerial(model, 0)) {
					t.Errorf("%s: the next Update's fn sees %s, want %s", reason, dump(got), dump(model))
				}
				return nil
			})
			both(t, s, l, model, edit(1))
			compare(t, reason, "after a later Update", read(t, s, fleet), model, 3)
		},
	},
	{
		name:   "record replaced whole",
		reason: "an fn that replaces the record (*r = other, or a map of it) has it stored whole",
		run: func(t *testing.T, reason string, s state.Store) {
			l := lock(t, s, fleet, "ana")
			model := &state.Record{Fleet: fleet}
			both(t, s, l, model, edit(0))
			other := &state.Record{Fleet: fleet}
			for i := 3; i < 6; i++ {
				edit(i)(other)
			}
			update(t, s, l, func(r *state.Record) error { *r = *other.Clone(); return nil })
			compare(t, reason, "after *r = other", read(t, s, fleet), other, 2)
			update(t, s, l, func(r *state.Record) error {
				r.Desktops = map[string]state.Desktop{"vm-new": {VmID: "vm-new", Name: "new"}}
				return nil
			})
			other.Desktops = map[string]state.Desktop{"vm-new": {VmID: "vm-new", Name: "new"}}
			compare(t, reason, "after r.Desktops = m", read(t, s, fleet), other, 3)
			both(t, s, l, other, edit(6))
			compare(t, reason, "after a tracked Update", read(t, s, fleet), other, 4)
		},
	},
	{
		name:   "journal trimmed across updates",
		reason: "appending intents and runs one Update at a time keeps the newest MaxRuns runs (with their steps) and MaxIntents intents, the open ones whatever their age",
		run: func(t *testing.T, reason string, s state.Store) {
			l := lock(t, s, fleet, "ana")
			update(t, s, l, func(r *state.Record) error {
				r.AppendIntent(state.Intent{ID: "open-oldest", Status: state.IntentSent})
				for i := range state.MaxIntents - 3 {
					r.AppendIntent(state.Intent{ID: fmt.Sprintf("i-%d", i), Status: state.IntentDone})
				}
				for i := range state.MaxRuns - 2 {
					r.AppendRun(state.Run{ID: fmt.Sprintf("run-%d", i), Outcome: "done"})
				}
				return nil
			})
			for i := range 6 {
				update(t, s, l, func(r *state.Record) error {
					r.AppendIntent(state.Intent{ID: fmt.Sprintf("new-%d", i), Status: state.IntentPending})
					r.AppendRun(state.Run{ID: fmt.Sprintf("new-run-%d", i), Outcome: "running"})
					r.AppendRunStep(fmt.Sprintf("new-run-%d", i), state.StepOutcome{Step: 1, Status: "done"})
					return nil
				})
			}
			rec := read(t, s, fleet)
			if len(rec.Intents) != state.MaxIntents || rec.Intents[0].ID != "open-oldest" || rec.Intents[1].ID != "i-4" ||
				rec.Intents[len(rec.Intents)-1].ID != "new-5" {
				t.Errorf("%s: %d intents: %s, %s, ..., %s", reason, len(rec.Intents), rec.Intents[0].ID, rec.Intents[1].ID, rec.Intents[len(rec.Intents)-1].ID)
			}
			last := rec.Runs[len(rec.Runs)-1]
			if len(rec.Runs) != state.MaxRuns || rec.Runs[0].ID != "run-4" || last.ID != "new-run-5" || len(last.Steps) != 1 {
				t.Errorf("%s: %d runs from %s to %s (%d steps)", reason, len(rec.Runs), rec.Runs[0].ID, last.ID, len(last.Steps))
			}
			if in, ok := rec.Intent("i-4"); !ok || in.Status != state.IntentDone {
				t.Errorf("%s: Intent(i-4) = %+v, %v on the record read", reason, in, ok)
			}
		},
	},
}

// edit is the i-th change of a sequence that uses every method.
func edit(i int) func(r *state.Record) {
	return func(r *state.Record) {
		at := time.Date(2026, 3, 1, 9, 0, i, 0, time.UTC)
		label := fmt.Sprintf("label-%d", i)
		run := fmt.Sprintf("run-%d", i/3)
		r.PutDesktop(state.Desktop{VmID: fmt.Sprintf("vm-%d", i), Name: fmt.Sprintf("render-%d", i), Label: &label, AppliedAt: at})
		r.PutAccount(state.Account{Email: fmt.Sprintf("a%d@x.io", i), AccountID: fmt.Sprint(i)})
		if i%3 == 0 {
			r.AppendRun(state.Run{ID: run, StartedAt: at, Outcome: "running"})
		}
		r.AppendIntent(state.Intent{ID: fmt.Sprintf("%s/%d", run, i), RunID: run, Step: i, Targets: []string{"x"},
			Params: []byte(`{"step":1}`), Status: state.IntentPending, StartedAt: at})
		r.AppendRunStep(run, state.StepOutcome{Step: i, Action: "CreateVm", Status: "done"})
		if i > 0 {
			prev := fmt.Sprintf("run-%d/%d", (i-1)/3, i-1)
			if in, ok := r.Intent(prev); ok {
				in.Status, in.EndedAt = state.IntentDone, at
				r.SetIntent(in)
			}
			if d, ok := r.Desktops[fmt.Sprintf("vm-%d", i-1)]; ok {
				d.Power = "on"
				r.PutDesktop(d)
			}
		}
		if i >= 2 && i%2 == 0 {
			r.DeleteDesktop(fmt.Sprintf("vm-%d", i-2))
			r.DeleteAccount(fmt.Sprintf("a%d@x.io", i-2))
		}
		if i%3 == 2 {
			if got, ok := r.Run(run); ok {
				got.Outcome, got.EndedAt = "done", at
				r.SetRun(got)
			}
		}
	}
}

// both applies e to the store's record (in an Update) and to model.
func both(t *testing.T, s state.Store, l *state.Lock, model *state.Record, e func(*state.Record)) {
	t.Helper()
	update(t, s, l, func(r *state.Record) error { e(r); return nil })
	e(model)
}

// compare fails unless got holds what want does, at serial.
func compare(t *testing.T, reason, when string, got, want *state.Record, serial int64) {
	t.Helper()
	if got.Serial != serial || got.Fleet != fleet {
		t.Errorf("%s: %s: serial %d of fleet %q, want %d of %q", reason, when, got.Serial, got.Fleet, serial, fleet)
	}
	if !same(withSerial(got, 0), withSerial(want, 0)) {
		t.Errorf("%s: %s:\n got %s\nwant %s", reason, when, dump(got), dump(want))
	}
}

func withSerial(r *state.Record, serial int64) *state.Record {
	c := r.Clone()
	c.Serial = serial
	return c
}

// same compares two records as JSON, empty and nil collections alike.
func same(a, b *state.Record) bool { return bytes.Equal(dumpBytes(a), dumpBytes(b)) }

func dumpBytes(r *state.Record) []byte {
	c := r.Clone()
	if len(c.Desktops) == 0 {
		c.Desktops = nil
	}
	if len(c.Accounts) == 0 {
		c.Accounts = nil
	}
	if len(c.Intents) == 0 {
		c.Intents = nil
	}
	if len(c.Runs) == 0 {
		c.Runs = nil
	}
	b, _ := json.Marshal(c)
	return b
}

func dump(r *state.Record) string { return string(dumpBytes(r)) }

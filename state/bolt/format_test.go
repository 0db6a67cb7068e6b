package bolt_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/bolt"
	"github.com/deskfleet/deskfleet/state/statetest"
)

// copyFixture copies testdata/format1.db (a file written by the whole-record format, before this
// layout) to a fresh path.
func copyFixture(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "format1.db"))
	if err != nil {
		t.Fatal(err)
	}
	path := statePath(t)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func formatOf(t *testing.T, path string) (format string, buckets []string) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *bbolt.Tx) error { //nolint:errcheck // fn never fails
		format = string(tx.Bucket([]byte("meta")).Get([]byte("format")))
		return tx.ForEach(func(name []byte, _ *bbolt.Bucket) error {
			buckets = append(buckets, string(name))
			return nil
		})
	})
	return format, buckets
}

// TestFormat1Migrates: a state file written by the whole-record format (testdata/format1.db, with
// its records in testdata/format1.json as that version read them) reads the same before and after the
// first write converts it to the per-object layout; the conversion is one transaction of that
// write, its previous generation (PATH.prev) is the old file, and Updates go on from its serial.
func TestFormat1Migrates(t *testing.T) {
	ctx := context.Background()
	path := copyFixture(t)
	want := map[string]*state.Record{}
	raw, err := os.ReadFile(filepath.Join("testdata", "format1.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		s := open(t, path)
		for fleet, w := range want {
			got, err := s.Read(ctx, fleet)
			if err != nil {
				t.Fatalf("%s: Read(%s): %v", when, fleet, err)
			}
			g, _ := json.Marshal(got)
			x, _ := json.Marshal(w)
			if !bytes.Equal(g, x) {
				t.Errorf("%s: fleet %s reads\n%s\nwant\n%s", when, fleet, g, x)
			}
		}
		if fleets, err := s.Fleets(ctx); err != nil || len(fleets) != 2 || fleets[0] != "farm" || fleets[1] != "studio" {
			t.Errorf("%s: Fleets = %v, %v", when, fleets, err)
		}
	}
	check("before the conversion")
	if f, _ := formatOf(t, path); f != bolt.Format1 {
		t.Fatalf("the fixture has format %q, want %q", f, bolt.Format1)
	}

	s := open(t, path)
	l, err := s.Lock(ctx, "studio", statetest.Holder("ana"), 0) // the first write converts the file
	if err != nil {
		t.Fatal(err)
	}
	f, buckets := formatOf(t, path)
	if f != bolt.Format || len(buckets) != 3 || buckets[0] != "fleets" {
		t.Errorf("after the first write: format %q, buckets %v; want %q with fleets, locks, meta", f, buckets, bolt.Format)
	}
	if pf, _ := formatOf(t, path+".prev"); pf != bolt.Format1 {
		t.Errorf("the previous generation has format %q, want the file as it was (%q)", pf, bolt.Format1)
	}
	if err := s.Unlock(ctx, l); err != nil {
		t.Fatal(err)
	}
	check("after the conversion")

	l, err = s.Lock(ctx, "studio", statetest.Holder("ana"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, l, func(r *state.Record) error {
		in, _ := r.Intent("run-2/1")
		in.Status = state.IntentDone
		r.SetIntent(in)
		r.DeleteDesktop("vm-2")
		r.AppendRunStep("run-2", state.StepOutcome{Step: 1, Action: "DeleteVm", Status: "done"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Read(ctx, "studio")
	if err != nil || rec.Serial != 3 || len(rec.Desktops) != 1 || rec.Intents[1].Status != state.IntentDone ||
		len(rec.Runs[1].Steps) != 1 || *rec.Desktops["vm-1"].Label != "gpu" {
		t.Errorf("an Update after the conversion: %+v, %v", rec, err)
	}
	if err := s.Unlock(ctx, l); err != nil {
		t.Fatal(err)
	}
	// The previous generation, in the old format, is put back into the converted file.
	if restored, err := bolt.Restore(path, "studio", true, bolt.Options{}); err != nil || len(restored) != 1 || restored[0].Serial != 2 {
		t.Fatalf("Restore from the format-1 previous generation = %+v, %v", restored, err)
	}
	if f, _ := formatOf(t, path); f != bolt.Format {
		t.Errorf("after Restore of one record the file has format %q, want %q", f, bolt.Format)
	}
	check("after Restore")
}

// TestKeptRecordFollowsTheFile: the record a Store keeps between the Updates of a lock is not used
// once the file changed behind it (another Store of the same file, in this process or another,
// updating with the same lock): the next Update reads the file again.
func TestKeptRecordFollowsTheFile(t *testing.T) {
	ctx := context.Background()
	path := statePath(t)
	a, b := open(t, path), open(t, path)
	l, err := a.Lock(ctx, "studio", statetest.Holder("ana"), 0)
	if err != nil {
		t.Fatal(err)
	}
	put := func(s *bolt.Store, id string) {
		t.Helper()
		if err := s.Update(ctx, l, func(r *state.Record) error { r.PutDesktop(state.Desktop{VmID: id, Name: id}); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	put(a, "vm-1")
	put(b, "vm-2")
	put(a, "vm-3")
	rec, err := b.Read(ctx, "studio")
	if err != nil || rec.Serial != 3 || len(rec.Desktops) != 3 {
		t.Errorf("after Updates through two Stores: %+v, %v; want serial 3 with vm-1..vm-3", rec, err)
	}
}

package bolt_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/bolt"
	"github.com/deskfleet/deskfleet/state/bolt/bolttest"
	"github.com/deskfleet/deskfleet/state/statetest"
)

// These tests feed the store damaged files: run them with a memory limit (ulimit -v) and a timeout.

// writeGenerations writes fleet's record twice, from two Stores (two processes' worth), so that the
// file holds serial 2 and its previous generation (PATH.prev) serial 1; each record has n desktops,
// so that the file spans many pages.
func writeGenerations(t *testing.T, path string, fleets []string, n int) {
	t.Helper()
	ctx := context.Background()
	for gen := 1; gen <= 2; gen++ {
		s, err := bolt.Open(path, bolt.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, fleet := range fleets {
			l, err := s.Lock(ctx, fleet, statetest.Holder("ana"), 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Update(ctx, l, func(r *state.Record) error {
				r.Desktops = map[string]state.Desktop{}
				for i := range n {
					id := fmt.Sprintf("vm-%04d", i)
					r.Desktops[id] = state.Desktop{VmID: id, Name: fmt.Sprintf("gen%d-render-%04d", gen, i), ImageID: "img-win10"}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if err := s.Unlock(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
		s.Close()
	}
}

// readAll opens the store and reads every fleet: the first error, nil when all reads work.
func readAll(path string, fleets []string) error {
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	ctx := context.Background()
	for _, fleet := range fleets {
		if _, err := s.Read(ctx, fleet); err != nil {
			return err
		}
		if _, err := s.CurrentLock(ctx, fleet); err != nil {
			return err
		}
	}
	_, err = s.Fleets(ctx)
	return err
}

// TestDamagedFile: a truncated file and one with garbled pages are errors wrapping state.ErrCorrupt
// that name the file and its previous generation, never a crash (SIGBUS, panic); Restore puts the
// previous generation back and the store reads again.
func TestDamagedFile(t *testing.T) {
	fleets := []string{"farm", "studio"}
	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
		reason string
	}{
		{"truncated", func(t *testing.T, path string) { bolttest.Truncate(t, path) }, "a file cut short (a full disk, a copy interrupted) makes bbolt read past the mapping: SIGBUS"},
		{"garbled pages", func(t *testing.T, path string) { bolttest.Garble(t, path, 14) }, "garbage in the data pages makes bbolt panic or fault"},
		{"garbled meta pages", func(t *testing.T, path string) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			page := os.Getpagesize()
			for _, off := range []int{0, page} {
				copy(data[off+40:off+80], bytes.Repeat([]byte{0x5a}, 40))
			}
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "both meta pages garbled: bbolt refuses the file; it must still say damaged and how to recover"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := statePath(t)
			writeGenerations(t, path, fleets, 300)
			before := open(t, path) // opened while sound
			tt.damage(t, path)
			damaged, _ := os.ReadFile(path)

			err := readAll(path, fleets)
			if !errors.Is(err, state.ErrCorrupt) || !strings.Contains(err.Error(), path) ||
				!strings.Contains(err.Error(), path+".prev") {
				t.Fatalf("%s: reading = %v, want an error wrapping state.ErrCorrupt naming the file and %s.prev", tt.reason, err, filepath.Base(path))
			}
			s, err := bolt.Open(statePath(t), bolt.Options{}) // another file: unaffected
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			if after, _ := os.ReadFile(path); !bytes.Equal(after, damaged) {
				t.Errorf("%s: the damaged file was written to", tt.reason)
			}
			// A write is refused too, and does not replace the previous generation.
			prev, _ := os.ReadFile(path + ".prev")
			if _, err := before.Lock(context.Background(), "studio", statetest.Holder("bo"), 0); !errors.Is(err, state.ErrCorrupt) {
				t.Errorf("%s: Lock on the damaged file = %v, want ErrCorrupt", tt.reason, err)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, damaged) {
				t.Errorf("%s: the damaged file was written to", tt.reason)
			}
			if after, _ := os.ReadFile(path + ".prev"); !bytes.Equal(after, prev) {
				t.Errorf("%s: the previous generation was replaced", tt.reason)
			}

			restored, err := bolt.Restore(path, "", false, bolt.Options{})
			if err != nil {
				t.Fatalf("Restore: %v", err)
			}
			if len(restored) != 2 || !restored[0].Whole || restored[0].Serial != 1 {
				t.Errorf("Restore = %+v, want both fleets, whole file, serial 1", restored)
			}
			if err := readAll(path, fleets); err != nil {
				t.Fatalf("after Restore: %v", err)
			}
			rec, _ := open(t, path).Read(context.Background(), "studio")
			if rec.Serial != 1 || rec.Desktops["vm-0007"].Name != "gen1-render-0007" {
				t.Errorf("after Restore: serial %d, %+v, want the first generation", rec.Serial, rec.Desktops["vm-0007"])
			}
			kept, _ := filepath.Glob(path + ".damaged-*")
			if len(kept) != 1 {
				t.Errorf("the damaged file is kept beside it: %v", kept)
			}
		})
	}
}

// TestDamagedRecord: a record one of whose objects (a desktop) no longer matches its checksum is
// refused (that fleet only), and Restore of that fleet puts its previous generation back, leaving
// the others as they are.
func TestDamagedRecord(t *testing.T) {
	ctx := context.Background()
	path := statePath(t)
	writeGenerations(t, path, []string{"farm", "studio"}, 3)
	editValue(t, path, "studio", "desktops", "vm-0001", func(v []byte) []byte {
		return bytes.Replace(v, []byte("gen2-render-0001"), []byte("gen2-render-9999"), 1)
	})

	s := open(t, path)
	_, err := s.Read(ctx, "studio")
	var ce *state.CorruptError
	if !errors.As(err, &ce) || ce.Fleet != "studio" || !errors.Is(err, state.ErrChecksum) || !strings.Contains(err.Error(), "vm-0001") {
		t.Fatalf("Read of an edited record = %v, want a CorruptError of fleet studio naming desktop vm-0001, wrapping ErrChecksum", err)
	}
	if _, err := s.Lock(ctx, "studio", statetest.Holder("ana"), 0); !errors.As(err, &ce) || !strings.Contains(err.Error(), "vm-0001") {
		t.Errorf("Lock on a file with a damaged record = %v, want a CorruptError naming the object (a damaged file is never written)", err)
	}
	if rec, err := s.Read(ctx, "farm"); err != nil || rec.Serial != 2 {
		t.Errorf("another fleet's record reads as before: %v, %v", rec, err)
	}
	if _, err := bolt.Restore(path, "farm", false, bolt.Options{}); err == nil || !strings.Contains(err.Error(), "not damaged") {
		t.Errorf("Restore of a sound record = %v, want a refusal", err)
	}
	restored, err := bolt.Restore(path, "", false, bolt.Options{})
	if err != nil || len(restored) != 1 || restored[0].Fleet != "studio" || restored[0].Whole {
		t.Fatalf("Restore = %+v, %v, want studio's record only", restored, err)
	}
	if rec, err := s.Read(ctx, "studio"); err != nil || rec.Serial != 1 || rec.Desktops["vm-0001"].Name != "gen1-render-0001" {
		t.Errorf("studio after Restore: %+v, %v", rec, err)
	}
	if rec, err := s.Read(ctx, "farm"); err != nil || rec.Serial != 2 {
		t.Errorf("farm after Restore: %v, %v", rec, err)
	}
}

// TestLegacyRecord: a file of format 1 holding a record written without a checksum (by an earlier
// deskfleet) reads as it is; the next write converts the file, and every object is sealed.
func TestLegacyRecord(t *testing.T) {
	ctx := context.Background()
	path := statePath(t)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		meta, _ := tx.CreateBucket([]byte("meta"))
		recs, _ := tx.CreateBucket([]byte("records"))
		tx.CreateBucket([]byte("locks")) //nolint:errcheck // checked by the Puts below
		if err := meta.Put([]byte("format"), []byte(bolt.Format1)); err != nil {
			return err
		}
		return recs.Put([]byte("studio"), []byte(`{"fleet":"studio","serial":7,"desktops":{"vm-1":{"vmId":"vm-1","name":"old","appliedAt":"2026-01-02T03:04:05Z"}}}`))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s := open(t, path)
	rec, err := s.Read(ctx, "studio")
	if err != nil || rec.Serial != 7 || rec.Desktops["vm-1"].Name != "old" {
		t.Fatalf("Read of a record without a checksum = %+v, %v", rec, err)
	}
	l, err := s.Lock(ctx, "studio", statetest.Holder("ana"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, l, func(*state.Record) error { return nil }); err != nil {
		t.Fatal(err)
	}
	editValue(t, path, "studio", "desktops", "vm-1", func(v []byte) []byte {
		if !bytes.HasPrefix(v, []byte(`{"checksum":"sha256:`)) {
			t.Errorf("the desktop is not sealed after an Update: %.60s", v)
		}
		return v
	})
	if rec, err := s.Read(ctx, "studio"); err != nil || rec.Serial != 8 || rec.Desktops["vm-1"].Name != "old" {
		t.Errorf("after the conversion: %+v, %v", rec, err)
	}
}

// editValue rewrites one stored object of fleet (in bucket kind: desktops, accounts) with bbolt
// directly, as a hand edit or a flipped bit would.
func editValue(t *testing.T, path, fleet, kind, key string, edit func([]byte) []byte) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("fleets")).Bucket([]byte(fleet)).Bucket([]byte(kind))
		v := append([]byte(nil), b.Get([]byte(key))...)
		return b.Put([]byte(key), edit(v))
	}); err != nil {
		t.Fatal(err)
	}
}

// TestModesUntouched: Open tightens only a regular state file: not one behind a symbolic link, and
// not a file that is not a state file (which it refuses).
func TestModesUntouched(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.db")
	writeGenerations(t, real, []string{"studio"}, 1)
	link := filepath.Join(dir, "link.db")
	yaml := filepath.Join(dir, "fleet.yaml")
	yamlLink := filepath.Join(dir, "yaml-link.db")
	if err := os.WriteFile(yaml, []byte("fleet: studio\n"+strings.Repeat("# padding\n", 500)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, l := range [][2]string{{real, link}, {yaml, yamlLink}} {
		if err := os.Symlink(l[0], l[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(real, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		open, target string
		ok           bool
		reason       string
	}{
		{link, real, true, "a state path that is a symbolic link is used, but its target's mode is not changed through it"},
		{yaml, yaml, false, "--state fleet.yaml is refused before anything is changed"},
		{yamlLink, yaml, false, "a link to a spec is refused, its target untouched"},
	}
	for _, tt := range tests {
		s, err := bolt.Open(tt.open, bolt.Options{})
		if tt.ok != (err == nil) {
			t.Errorf("%s: Open = %v", tt.reason, err)
		}
		if err == nil {
			if _, err := s.Read(context.Background(), "studio"); err != nil {
				t.Errorf("%s: Read = %v", tt.reason, err)
			}
			s.Close()
		}
		if fi, _ := os.Stat(tt.target); fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: the target's mode became %04o", tt.reason, fi.Mode().Perm())
		}
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced")
	}
}

// TestCallerPanic: a panic in the function given to Update is the caller's, re-raised as it was, not
// taken for damage; the file stays usable.
func TestCallerPanic(t *testing.T) {
	ctx := context.Background()
	path := statePath(t)
	s := open(t, path)
	l, err := s.Lock(ctx, "studio", statetest.Holder("ana"), 0)
	if err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want the caller's own panic value", r)
			}
		}()
		s.Update(ctx, l, func(*state.Record) error { panic("boom") }) //nolint:errcheck
	}()
	if err := s.Update(ctx, l, func(*state.Record) error { return nil }); err != nil {
		t.Errorf("Update after the caller's panic: %v", err)
	}
}

package bolt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/deskfleet/deskfleet/state"
)

// TestGuardRecoversFault: bbolt reading a page past the end of a truncated file faults (SIGBUS, which
// kills the process unless recovered); guard turns it into an error wrapping state.ErrCorrupt. The
// store's own checks (checkFile) refuse such a file before bbolt maps it, so this calls guard
// directly, without them. Run with a memory limit and a timeout.
func TestGuardRecoversFault(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.Lock(ctx, "studio", state.Holder{User: "ana"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, l, func(r *state.Record) error {
		r.Desktops = map[string]state.Desktop{}
		for i := range 2000 {
			id := fmt.Sprintf("vm-%05d", i)
			r.Desktops[id] = state.Desktop{VmID: id, Name: "render-" + id}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// To a quarter of what its pages span (the file itself may be longer: bbolt grows it ahead).
	var size int64
	if err := guard(path, func() error {
		db, err := openDB(path, true, DefaultTimeout)
		if err != nil {
			return err
		}
		defer db.Close()
		return db.View(func(tx *bbolt.Tx) error { size = tx.Size(); return nil })
	}); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, size/4); err != nil {
		t.Fatal(err)
	}
	if checkFile(path) == nil {
		t.Fatal("checkFile passes a file truncated to a quarter")
	}
	var sum byte
	err = guard(path, func() error {
		db, err := openDB(path, true, DefaultTimeout)
		if err != nil {
			return err
		}
		defer db.Close()
		return db.View(func(tx *bbolt.Tx) error {
			return tx.ForEach(func(_ []byte, b *bbolt.Bucket) error {
				return b.ForEach(func(_, v []byte) error {
					for _, c := range v { // read every byte: some lie past the end
						sum += c
					}
					return nil
				})
			})
		})
	})
	if !errors.Is(err, state.ErrCorrupt) {
		t.Fatalf("guard = %v (read %d), want the fault recovered as ErrCorrupt", err, sum)
	}
	t.Log(err)
}

package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/deskfleet/deskfleet/internal/pgtest"
	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/statetest"
)

// TestDamagedRecord: a record that no longer matches its checksum (edited by hand) is refused by Read
// and Update with a *state.CorruptError naming the fleet; other fleets read as before; Restore puts
// the previous generation back (kept by the last Update). A record without a checksum (written by an
// earlier deskfleet) reads as it is.
func TestDamagedRecord(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	s := open(t, dsn)
	for _, f := range []string{"farm", fleet} {
		for gen := 1; gen <= 2; gen++ {
			l, err := s.Lock(ctx, f, statetest.Holder("ana"), 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Update(ctx, l, func(r *state.Record) error {
				r.Desktops = map[string]state.Desktop{"vm-1": {VmID: "vm-1", Name: map[int]string{1: "first", 2: "second"}[gen]}}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if err := s.Unlock(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
	}
	conn := pgtest.Connect(t, dsn)
	if _, err := conn.Exec(ctx, `UPDATE deskfleet_records SET record = jsonb_set(record, '{desktops,vm-1,name}', '"edited"')
		WHERE fleet = $1`, fleet); err != nil {
		t.Fatal(err)
	}

	_, err := s.Read(ctx, fleet)
	var ce *state.CorruptError
	if !errors.As(err, &ce) || ce.Fleet != fleet || !errors.Is(err, state.ErrCorrupt) || !strings.Contains(err.Error(), "previous generation") {
		t.Fatalf("Read of an edited record = %v, want a CorruptError of %s saying its previous generation is kept", err, fleet)
	}
	if rec, err := s.Read(ctx, "farm"); err != nil || rec.Serial != 2 {
		t.Errorf("another fleet reads as before: %v, %v", rec, err)
	}
	l := lock(t, s, "bo", 0)
	if err := s.Update(ctx, l, noop); !errors.Is(err, state.ErrCorrupt) {
		t.Errorf("Update of a damaged record = %v, want ErrCorrupt (nothing written over it)", err)
	}
	s.Unlock(ctx, l)
	if d, err := s.Damaged(ctx); err != nil || len(d) != 1 || d[0] != fleet {
		t.Errorf("Damaged = %v, %v", d, err)
	}
	if _, err := s.Restore(ctx, "farm", statetest.Holder("ana"), false); err == nil || !strings.Contains(err.Error(), "not damaged") {
		t.Errorf("Restore of a sound record = %v, want a refusal", err)
	}
	restored, err := s.Restore(ctx, "", statetest.Holder("ana"), false)
	if err != nil || len(restored) != 1 || restored[0].Fleet != fleet || restored[0].Serial != 1 {
		t.Fatalf("Restore = %+v, %v, want %s at serial 1", restored, err, fleet)
	}
	if rec, err := s.Read(ctx, fleet); err != nil || rec.Desktops["vm-1"].Name != "first" || rec.Serial != 1 {
		t.Errorf("after Restore: %+v, %v", rec, err)
	}
	if l, _ := s.CurrentLock(ctx, fleet); l != nil {
		t.Errorf("Restore left the lock of %s", l.Holder)
	}

	// A row written before checksums existed.
	if _, err := conn.Exec(ctx, `UPDATE deskfleet_records SET checksum = NULL,
		record = jsonb_set(record, '{desktops,vm-1,name}', '"legacy"') WHERE fleet = 'farm'`); err != nil {
		t.Fatal(err)
	}
	if rec, err := s.Read(ctx, "farm"); err != nil || rec.Desktops["vm-1"].Name != "legacy" {
		t.Errorf("a record without a checksum: %+v, %v", rec, err)
	}
}

package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/internal/pgtest"
	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/postgres"
	"github.com/deskfleet/deskfleet/state/statetest"
)

// BenchmarkStateUpdate is state/bolt's BenchmarkStateUpdate on PostgreSQL: a step's update (close
// one intent, change one desktop, journal the step) at 1,000 and 10,000 managed desktops; x_bound is
// the ratio of their per-update costs (within 1.5x: an update writes what it changed).
func BenchmarkStateUpdate(b *testing.B) {
	b.Run("postgres", func(b *testing.B) { statetest.BenchUpdate(b, openPostgres) })
}

func openPostgres(b *testing.B) state.Store {
	s, err := postgres.Open(context.Background(), pgtest.DSN(b), postgres.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// changeRows counts fleet's change rows.
func changeRows(t *testing.T, dsn, fleet string) int {
	t.Helper()
	var n int
	if err := pgtest.Connect(t, dsn).QueryRow(context.Background(),
		`SELECT count(*) FROM deskfleet_changes WHERE fleet = $1`, fleet).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestChangeSets: an Update through the record's methods writes one row per object changed, not the
// record; Unlock folds them into the base. A holder that ended without Unlock leaves its change rows:
// a damaged one is refused with a *state.CorruptError naming it, Restore drops it (and the ones
// after it), keeping the base and the sound changes before it, and the next lock's first Update
// folds the rest into the base.
func TestChangeSets(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	s := open(t, dsn)
	put := func(s state.Store, l *state.Lock, id, name string) {
		t.Helper()
		if err := s.Update(ctx, l, func(r *state.Record) error {
			r.PutDesktop(state.Desktop{VmID: id, Name: name, AppliedAt: time.Unix(0, 0).UTC()})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	l := lock(t, s, "ana", 0)
	for i, n := range []string{"a", "b", "c"} {
		put(s, l, "vm-"+n, n)
		if got, want := changeRows(t, dsn, fleet), i; got != want {
			t.Errorf("after update %d: %d change rows, want %d (the first is the base: the fleet had no row)", i+1, got, want)
		}
	}
	put(s, l, "vm-a", "a2") // serial 4
	if err := s.Unlock(ctx, l); err != nil {
		t.Fatal(err)
	}
	if got := changeRows(t, dsn, fleet); got != 0 {
		t.Errorf("Unlock left %d change rows, want 0 (folded into the base)", got)
	}

	// Another process writes three changes, then its database session ends without Unlock.
	other := open(t, dsn)
	l2 := lock(t, other, "bo", 0)
	for _, n := range []string{"d", "e", "f"} { // serials 5, 6, 7
		put(other, l2, "vm-"+n, n)
	}
	conn := pgtest.Connect(t, dsn)
	if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(backend_pid) FROM deskfleet_locks WHERE fleet = $1`, fleet); err != nil {
		t.Fatal(err)
	}
	if got := changeRows(t, dsn, fleet); got != 3 {
		t.Fatalf("%d change rows left by a holder that ended, want 3", got)
	}
	if _, err := conn.Exec(ctx, `UPDATE deskfleet_changes SET body = jsonb_set(body, '{name}', '"edited"')
		WHERE fleet = $1 AND key = 'vm-e'`, fleet); err != nil {
		t.Fatal(err)
	}
	_, err := s.Read(ctx, fleet)
	var ce *state.CorruptError
	if !errors.As(err, &ce) || ce.Fleet != fleet || !errors.Is(err, state.ErrChecksum) || !strings.Contains(err.Error(), "vm-e") || !ce.Restorable {
		t.Fatalf("Read with an edited change row = %v, want a restorable CorruptError naming desktop vm-e", err)
	}
	if d, err := s.Damaged(ctx); err != nil || len(d) != 1 || d[0] != fleet {
		t.Errorf("Damaged = %v, %v", d, err)
	}
	restored, err := s.Restore(ctx, "", statetest.Holder("ana"), false)
	if err != nil || len(restored) != 1 || restored[0].Serial != 5 {
		t.Fatalf("Restore = %+v, %v, want %s at serial 5", restored, err, fleet)
	}
	rec, err := s.Read(ctx, fleet)
	if err != nil || rec.Serial != 5 || len(rec.Desktops) != 4 || rec.Desktops["vm-a"].Name != "a2" || rec.Desktops["vm-d"].Name != "d" {
		t.Errorf("after Restore: %+v, %v; want serial 5 with vm-a..vm-d", rec, err)
	}
	l = lock(t, s, "ana", 0)
	put(s, l, "vm-g", "g")
	if got := changeRows(t, dsn, fleet); got != 0 {
		t.Errorf("the first Update of a lock left %d change rows of an earlier holder, want 0 (folded)", got)
	}
	if rec, err := s.Read(ctx, fleet); err != nil || rec.Serial != 6 || len(rec.Desktops) != 5 {
		t.Errorf("an Update after Restore: %+v, %v", rec, err)
	}
}

// TestOldDatabaseMigrates: a database of schema version 2 (each record one jsonb value, as earlier
// versions wrote it) is migrated by Open (the change table added); its records read as they were,
// and the next Updates write change sets on top of them.
func TestOldDatabaseMigrates(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	conn := pgtest.Connect(t, dsn)
	for _, stmt := range []string{
		`CREATE TABLE deskfleet_schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
		`INSERT INTO deskfleet_schema_version (version) VALUES (1), (2)`,
		`CREATE TABLE deskfleet_records (fleet text PRIMARY KEY, serial bigint NOT NULL, record jsonb NOT NULL,
			updated_at timestamptz NOT NULL DEFAULT now(), checksum text, previous jsonb, previous_serial bigint, previous_checksum text)`,
		`CREATE TABLE deskfleet_locks (fleet text PRIMARY KEY, token text NOT NULL, holder_user text NOT NULL,
			holder_host text NOT NULL, holder_pid integer NOT NULL, holder_command text NOT NULL, since timestamptz NOT NULL,
			heartbeat timestamptz NOT NULL, backend_pid integer NOT NULL)`,
		// As version 2 wrote a record: the whole of it, and the checksum of its jsonb text.
		`INSERT INTO deskfleet_records (fleet, serial, record, checksum) SELECT 'studio', 3, r,
			encode(sha256(convert_to(r::text, 'UTF8')), 'hex') FROM (SELECT '{"fleet":"studio","serial":3,
			"desktops":{"vm-1":{"vmId":"vm-1","name":"render-01","appliedAt":"2026-03-01T09:00:00Z"}},
			"intents":[{"id":"run-1/1","runId":"run-1","step":1,"op":"delete_desktop","action":"DeleteVm","requestId":"r1",
				"targets":["render-02"],"status":"sent","taskId":"t1","startedAt":"2026-03-01T09:00:00Z"}],
			"runs":[{"id":"run-1","user":"ana","host":"h","command":"deskfleet apply","startedAt":"2026-03-01T09:00:00Z",
				"specDigest":"sha256:x","outcome":"running","steps":[{"step":1,"action":"DeleteVm","targets":"render-02","status":"sent"}]}]}'::jsonb AS r) x`,
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	s := open(t, dsn)
	var version int
	if err := conn.QueryRow(ctx, `SELECT max(version) FROM deskfleet_schema_version`).Scan(&version); err != nil || version != postgres.SchemaVersion {
		t.Fatalf("schema version %d, %v after Open; want %d", version, err, postgres.SchemaVersion)
	}
	rec, err := s.Read(ctx, "studio")
	if err != nil || rec.Serial != 3 || rec.Desktops["vm-1"].Name != "render-01" || len(rec.Intents) != 1 || len(rec.Runs[0].Steps) != 1 {
		t.Fatalf("the old record reads as %+v, %v", rec, err)
	}
	l, err := s.Lock(ctx, "studio", statetest.Holder("ana"), 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := s.Update(ctx, l, func(r *state.Record) error {
			in, _ := r.Intent("run-1/1")
			in.Status = state.IntentDone
			r.SetIntent(in)
			r.DeleteDesktop("vm-1")
			r.AppendRunStep("run-1", state.StepOutcome{Step: 2 + i, Action: "StopVm", Status: "done"})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if n := changeRows(t, dsn, "studio"); n != 5 {
		t.Errorf("%d change rows after two Updates of an old record, want 5 (intent, desktop, step; then intent, step)", n)
	}
	rec, err = s.Read(ctx, "studio")
	if err != nil || rec.Serial != 5 || len(rec.Desktops) != 0 || rec.Intents[0].Status != state.IntentDone || len(rec.Runs[0].Steps) != 3 {
		t.Errorf("after two Updates: %+v, %v", rec, err)
	}
}

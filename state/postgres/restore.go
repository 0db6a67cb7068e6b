package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/deskfleet/deskfleet/state"
)

// Damaged lists the fleets whose record (its base, or one of its change sets) does not match its
// checksum, sorted.
func (s *Store) Damaged(ctx context.Context) ([]string, error) {
	if err := s.begin(); err != nil {
		return nil, err
	}
	defer s.end()
	rows, err := s.pool.Query(ctx, `SELECT fleet FROM deskfleet_records
		WHERE (checksum IS NOT NULL AND checksum <> `+recordChecksum(`record`)+`)
			OR fleet IN (SELECT t.fleet FROM deskfleet_changes t WHERE t.checksum <> `+changeChecksum+`)
		ORDER BY fleet COLLATE "C"`)
	var names []string
	if err == nil {
		names, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		return nil, s.sc.wrap("listing damaged records", err)
	}
	return names, nil
}

// Restore puts back the previous generation of fleet's record, under the fleet's lock taken for
// holder (a held lock is a *state.LockedError). Without fleet, every damaged record is restored. A
// record that is not damaged is left alone and is an error, unless force is set (fleet must then be
// named). What goes back:
//
//   - a damaged change set (changes.go): it and the change sets after it are removed, so the record
//     is the base with the sound changes before it, at the serial of the last of those;
//   - a damaged base, or a record restored with force: the previous generation kept in the row (the
//     record as it was before the base was last written: see migration 2 and changes.go), with its
//     serial; the change sets since are removed.
//
// The previous generation stays as it was, so a second Restore changes nothing.
func (s *Store) Restore(ctx context.Context, fleet string, holder state.Holder, force bool) ([]state.Restored, error) {
	fleets := []string{fleet}
	if fleet == "" {
		if force {
			return nil, errors.New("name the fleet whose record to put back")
		}
		damaged, err := s.Damaged(ctx)
		if err != nil {
			return nil, err
		}
		if len(damaged) == 0 {
			return nil, fmt.Errorf("state database %s: no record is damaged; nothing restored", s.redacted)
		}
		fleets = damaged
	}
	var out []state.Restored
	for _, f := range fleets {
		r, err := s.restore(ctx, f, holder, force)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (s *Store) restore(ctx context.Context, fleet string, holder state.Holder, force bool) (state.Restored, error) {
	l, err := s.Lock(ctx, fleet, holder, 0)
	if err != nil {
		return state.Restored{}, err
	}
	defer s.Unlock(ctx, l) //nolint:errcheck // a failed release leaves a lock `state unlock` clears
	if err := s.begin(); err != nil {
		return state.Restored{}, err
	}
	defer s.end()
	hl := s.heldFor(l)
	if hl == nil {
		return state.Restored{}, s.sc.notLocked(fleet, "the lock was released", nil)
	}
	hl.mu.Lock()
	defer hl.mu.Unlock()
	fail := func(err error) (state.Restored, error) {
		return state.Restored{}, s.sc.wrap("restoring fleet "+fleet, err)
	}
	tx, err := hl.conn.Begin(ctx)
	if err != nil {
		return fail(err)
	}
	defer rollback(ctx, tx)
	var (
		data, sum     *string
		prev, prevSum *string
		prevSerial    *int64
	)
	err = tx.QueryRow(ctx, `SELECT record::text, checksum, previous::text, previous_checksum, previous_serial
		FROM deskfleet_records WHERE fleet = $1 FOR UPDATE`, fleet).Scan(&data, &sum, &prev, &prevSum, &prevSerial)
	if errors.Is(err, pgx.ErrNoRows) {
		return state.Restored{}, fmt.Errorf("state database %s holds no record of fleet %s", s.redacted, fleet)
	}
	if err != nil {
		return fail(err)
	}
	damaged := sum != nil && data != nil && checksumOf(*data) != *sum
	if !damaged {
		if serial, ok, err := s.dropDamagedChanges(ctx, tx, fleet); err != nil || ok {
			if err != nil {
				return fail(err)
			}
			if err := tx.Commit(ctx); err != nil {
				return fail(err)
			}
			return state.Restored{Fleet: fleet, Serial: serial}, nil
		}
	}
	if !damaged && !force {
		return state.Restored{}, fmt.Errorf("state database %s: the record of fleet %s is not damaged; nothing restored "+
			"(--force puts its previous generation back all the same)", s.redacted, fleet)
	}
	if prev == nil || prevSerial == nil {
		return state.Restored{}, fmt.Errorf("state database %s keeps no previous generation of fleet %s "+
			"(it is kept from the second update made by this version on)", s.redacted, fleet)
	}
	if prevSum != nil && checksumOf(*prev) != *prevSum {
		return state.Restored{}, s.corrupt(fleet, "its previous generation is damaged too", false, state.ErrChecksum)
	}
	if _, err := tx.Exec(ctx, `UPDATE deskfleet_records SET record = previous, serial = previous_serial,
		checksum = `+recordChecksum(`previous`)+`, updated_at = now() WHERE fleet = $1`, fleet); err != nil {
		return fail(err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM deskfleet_changes WHERE fleet = $1`, fleet); err != nil {
		return fail(err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fail(err)
	}
	return state.Restored{Fleet: fleet, Serial: *prevSerial}, nil
}

// dropDamagedChanges removes fleet's first damaged change set and those after it, and sets the
// fleet's serial to the last sound one's (the base's when none is left); ok is false when no change
// set is damaged.
func (s *Store) dropDamagedChanges(ctx context.Context, tx pgx.Tx, fleet string) (serial int64, ok bool, err error) {
	var first *int64
	if err := tx.QueryRow(ctx, `SELECT min(t.serial) FROM deskfleet_changes t
		WHERE t.fleet = $1 AND t.checksum <> `+changeChecksum, fleet).Scan(&first); err != nil || first == nil {
		return 0, false, err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM deskfleet_changes WHERE fleet = $1 AND serial >= $2`, fleet, *first); err != nil {
		return 0, false, err
	}
	if err := tx.QueryRow(ctx, `UPDATE deskfleet_records r SET serial = greatest(
			coalesce((r.record->>'serial')::bigint, 0),
			coalesce((SELECT max(c.serial) FROM deskfleet_changes c WHERE c.fleet = $1), 0)), updated_at = now()
		WHERE r.fleet = $1 RETURNING r.serial`, fleet).Scan(&serial); err != nil {
		return 0, false, err
	}
	return serial, true, nil
}

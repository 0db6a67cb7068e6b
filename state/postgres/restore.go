package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/deskfleet/deskfleet/state"
)

// Damaged lists the fleets whose record does not match its checksum, sorted.
func (s *Store) Damaged(ctx context.Context) ([]string, error) {
	if err := s.begin(); err != nil {
		return nil, err
	}
	defer s.end()
	rows, err := s.pool.Query(ctx, `SELECT fleet FROM deskfleet_records
		WHERE checksum IS NOT NULL AND checksum <> `+recordChecksum(`record`)+` ORDER BY fleet COLLATE "C"`)
	var names []string
	if err == nil {
		names, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		return nil, s.sc.wrap("listing damaged records", err)
	}
	return names, nil
}

// Restore puts back the previous generation of fleet's record (the one its last Update replaced,
// kept in the row: see migration 2), under the fleet's lock taken for holder (a held lock is a
// *state.LockedError). Without fleet, every damaged record is restored. A record that is not damaged
// is left alone and is an error, unless force is set (fleet must then be named). The restored record
// keeps its serial; its previous generation stays as it was, so a second Restore changes nothing.
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
	if err := tx.Commit(ctx); err != nil {
		return fail(err)
	}
	return state.Restored{Fleet: fleet, Serial: *prevSerial}, nil
}

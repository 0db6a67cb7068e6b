package state

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrNoSourceRecord is Migrate's error when the source holds no record of the fleet.
var ErrNoSourceRecord = errors.New("no record in the source")

// ErrCopyDiffers is Migrate's error when the record read back from the target is not the one copied.
var ErrCopyDiffers = errors.New("the copy read back from the target differs from the source; " +
	"the target's record is not to be trusted")

// TargetExistsError is Migrate's error when the target already holds a record of the fleet and force
// is false.
type TargetExistsError struct {
	Fleet    string
	Serial   int64
	Desktops int // managed desktops in the target's record
}

func (e *TargetExistsError) Error() string {
	noun := "desktops"
	if e.Desktops == 1 {
		noun = "desktop"
	}
	return fmt.Sprintf("the target already holds a record of it (serial %d, %d %s)", e.Serial, e.Desktops, noun)
}

// Migrate copies fleet's record (managed desktops and accounts, intents, journal) from src to dst and
// returns the copy as read back from dst.
//
// Contract:
//   - Both fleets' locks are taken for holder, without waiting (src's first, then dst's), and released
//     before Migrate returns, so no apply runs on either side during the copy. A lock held by someone
//     else is the store's *LockedError, and nothing is written.
//   - A fleet with no record in src (Serial 0) is ErrNoSourceRecord. A record already in dst is
//     overwritten only when force is set; otherwise it is a *TargetExistsError and dst is unchanged.
//   - The copy is one Update of dst, so dst numbers it itself: its serial is the one dst had plus one
//     (1 in a new target), and plans saved against src are stale against dst.
//   - The record is read back from dst and compared with src's but for the serial, as JSON (equal
//     instants in different locations, and empty and nil collections, compare equal); a difference is
//     ErrCopyDiffers. src is never written.
func Migrate(ctx context.Context, src, dst Store, fleet string, holder Holder, force bool) (*Record, error) {
	srcLock, err := src.Lock(ctx, fleet, holder, 0)
	if err != nil {
		return nil, err
	}
	defer src.Unlock(ctx, srcLock) //nolint:errcheck // a failed release leaves a lock `state unlock` clears
	rec, err := src.Read(ctx, fleet)
	if err != nil {
		return nil, err
	}
	if rec.Serial == 0 {
		return nil, ErrNoSourceRecord
	}
	dstLock, err := dst.Lock(ctx, fleet, holder, 0)
	if err != nil {
		return nil, err
	}
	defer dst.Unlock(ctx, dstLock) //nolint:errcheck // as above
	existing, err := dst.Read(ctx, fleet)
	if err != nil {
		return nil, err
	}
	if existing.Serial > 0 && !force {
		return nil, &TargetExistsError{Fleet: fleet, Serial: existing.Serial, Desktops: len(existing.Desktops)}
	}
	if err := dst.Update(ctx, dstLock, func(r *Record) error {
		serial := r.Serial
		r.Replace(rec)    // written whole
		r.Serial = serial // the store numbers its own changes
		return nil
	}); err != nil {
		return nil, err
	}
	got, err := dst.Read(ctx, fleet)
	if err != nil {
		return nil, err
	}
	if !sameRecord(rec, got) {
		return nil, ErrCopyDiffers
	}
	return got, nil
}

// sameRecord compares two records but for their serial, which each store numbers itself, as JSON:
// stores keep a record as JSON, and equal instants may come back in different time.Locations.
func sameRecord(a, b *Record) bool {
	x, y := normalized(*a), normalized(*b)
	x.Serial, y.Serial = 0, 0
	jx, errX := json.Marshal(x)
	jy, errY := json.Marshal(y)
	return errX == nil && errY == nil && bytes.Equal(jx, jy)
}

// normalized makes empty collections nil, so that a store returning {} for nil compares equal.
func normalized(r Record) Record {
	if len(r.Desktops) == 0 {
		r.Desktops = nil
	}
	if len(r.Accounts) == 0 {
		r.Accounts = nil
	}
	if len(r.Intents) == 0 {
		r.Intents = nil
	}
	if len(r.Runs) == 0 {
		r.Runs = nil
	}
	return r
}

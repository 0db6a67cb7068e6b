package state

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Store keeps fleets' records. Implementations: state/bolt (a bbolt file, the default) and
// state/memory (tests); one conformance suite (state/statetest) runs on every implementation, and a
// shared store (PostgreSQL) must pass it too. No implementation type appears in this interface.
//
// Contract:
//   - Lock takes the fleet's lock for holder, waiting up to timeout (0: do not wait). When another
//     holder has it, Lock returns a *LockedError naming that holder. The returned Lock must be
//     released with Unlock; while held, the store keeps its heartbeat fresh (implementations may do so
//     on every Update). Only the lock's holder may Update the fleet's record.
//   - Read returns a copy of the fleet's record (an empty record, Serial 0, when none exists). It does
//     not need the lock.
//   - Update runs fn on the record in one transaction: when fn returns nil the record is stored with
//     Serial+1 and its journal trimmed (Record.Trim), atomically and durably (it survives a crash of
//     the process right after Update returns); when fn fails nothing changes, and the next Update's
//     fn sees nothing of what it did. fn changes the record through its methods (PutDesktop,
//     SetIntent, AppendRunStep, ...: track.go), and the store writes the objects they changed (an
//     Update costs what it changed, not the record's size); a record or map replaced whole is written
//     whole. The record may be one the store keeps between the Updates of a lock: fn must not keep it
//     after it returns. Update fails with ErrNotLocked when the lock passed is not (or no longer) the
//     fleet's current lock.
//   - Fleets lists the fleets with a record.
//   - Unlock removes the fleet's lock only while l's token still holds it, so it never removes a lock
//     taken by someone else meanwhile; unlocking a lock already released is not an error. To clear a
//     stale or abandoned lock, Unlock the lock CurrentLock returned: that removes exactly the lock that
//     was looked at, or nothing if it changed hands since.
//   - CurrentLock returns the fleet's lock (holder and token), nil when it is free.
type Store interface {
	Lock(ctx context.Context, fleet string, holder Holder, timeout time.Duration) (*Lock, error)
	Unlock(ctx context.Context, l *Lock) error
	CurrentLock(ctx context.Context, fleet string) (*Lock, error)
	Read(ctx context.Context, fleet string) (*Record, error)
	Update(ctx context.Context, l *Lock, fn func(*Record) error) error
	Fleets(ctx context.Context) ([]string, error)
	Close() error
}

// Holder says who holds a lock: what contenders print.
type Holder struct {
	User      string    `json:"user"`
	Host      string    `json:"host"`
	PID       int       `json:"pid"`
	Command   string    `json:"command"`
	Since     time.Time `json:"since"`
	Heartbeat time.Time `json:"heartbeat"`
}

// String names the holder: "ana@build-7 (pid 4182, deskfleet apply, since 09:00:01 UTC)".
func (h Holder) String() string {
	return fmt.Sprintf("%s@%s (pid %d, %s, since %s)", h.User, h.Host, h.PID, h.Command,
		h.Since.UTC().Format("2006-01-02 15:04:05 UTC"))
}

// Lock is a held lock on one fleet.
type Lock struct {
	Fleet  string
	Holder Holder
	// Token identifies this holding: a lock taken again (after its holder's lock was cleared) has
	// another token, so the old holder's Updates and Unlock are refused.
	Token string
}

// LockedError is Lock's error when another holder has the lock.
type LockedError struct {
	Fleet  string
	Holder Holder
	// Stale is true when the holder's process is known to be gone (same host, pid not running).
	Stale bool
}

func (e *LockedError) Error() string {
	s := fmt.Sprintf("fleet %s is locked by %s", e.Fleet, e.Holder)
	if e.Stale {
		s += "; that process is gone: the lock is stale"
	}
	return s
}

// ErrNotLocked is Update's error when the lock is not held (released, or taken by a forced unlock).
var ErrNotLocked = errors.New("the fleet's lock is not held by this process (released or taken over)")

// ErrCorrupt is wrapped by every error a store returns for damaged state: a file or database row
// that cannot be read back as it was written (a truncated or garbled file, a record whose checksum
// does not match). Such state is refused, never read as empty or partly; see CorruptError.
var ErrCorrupt = errors.New("the state is damaged")

// CorruptError is a store's error for damaged state: Store names the store (a file path, or a
// redacted database location), Fleet the fleet whose record is damaged ("" when the damage is not
// one record's: the whole file), Detail what was found. It wraps ErrCorrupt and Err (the cause, when
// there is one). Recover tells where the previous generation is kept, or that none is; Restorable is
// true when the store keeps one (its restore can put it back).
type CorruptError struct {
	Store      string
	Fleet      string
	Detail     string
	Recover    string
	Restorable bool
	Err        error
}

func (e *CorruptError) Error() string {
	s := "state " + e.Store
	if e.Fleet != "" {
		s += ": the record of fleet " + e.Fleet
	}
	s += " is damaged"
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Recover != "" {
		s += "; " + e.Recover
	}
	return s
}

func (e *CorruptError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrCorrupt}
	}
	return []error{ErrCorrupt, e.Err}
}

// Restored is what a store's restore brought back: Fleet's record, now at Serial. Whole is true when
// the whole store (every fleet) was put back, not only this record.
type Restored struct {
	Fleet  string
	Serial int64
	Whole  bool
}

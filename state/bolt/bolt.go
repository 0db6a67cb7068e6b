// Package bolt is the default state.Store: one bbolt file (by default .deskfleet/state.db) holding
// every fleet's record and lock.
//
// Sharing the file between processes. bbolt locks its file (flock) for as long as a DB is open, and a
// second process opening it waits. So this store never keeps the file open: every operation opens it,
// runs one bbolt transaction and closes it, holding bbolt's file lock for milliseconds. Reads (Read,
// CurrentLock, Fleets) open it read-only under a shared file lock; writes (Lock, Unlock,
// Update) read-write under an exclusive one. Waiting for bbolt's file lock is bounded by
// Options.Timeout (1s by default): a file held longer by another process is an error, never a hang.
//
// The fleet lock is therefore not a held transaction but a record in the file (holder, token,
// heartbeat), taken and released by short write transactions: a second deskfleet process reads it
// and reports the holder at once, and a process killed while holding it leaves the record behind,
// reported Stale (same host, pid gone) until `deskfleet state unlock` clears it.
//
// Layout: bucket "fleets" holds a bucket per fleet with one sealed value per object of its record
// (layout.go); bucket "locks" maps a fleet's name to its lock as JSON; bucket "meta" holds the format
// ("deskfleet-state/2"). A file of format deskfleet-state/1 (one sealed value per fleet's whole
// record, in bucket "records"; records of older deskfleets without a checksum) is read as it is and
// converted by the first write.
//
// Writes cost what they change: Update writes the objects fn changed (state.Changes) and the fleet's
// head. While this Store holds a fleet's lock it keeps the record it last wrote, decoded, so that an
// Update does not read the record back: it reads the fleet's head, and uses the kept record when
// the serial there is the one it wrote (else it reads the record again). A failed fn, or a failed
// commit, drops the kept record: the next Update reads the file again.
//
// Files: nothing is created until the first write (Lock, Update). Then the folder is created 0700 if
// missing and the file 0600. Open tightens an existing state file readable or writable by group or
// others to 0600, and fails when it cannot; it does so only to a regular file that it has checked is
// a deskfleet state file, opened without following a symbolic link: a path that is a symbolic link
// is used but never has its mode changed, and a file that is not a state file (--state fleet.yaml)
// is refused untouched. Every write transaction is fsynced (bbolt's default).
//
// Damage (a truncated or garbled file, a record whose checksum does not match) is an error wrapping
// state.ErrCorrupt, never a crash, and the file keeps its previous generation in PATH.prev, which
// Restore puts back: see damage.go.
package bolt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/internal/locking"
)

// DefaultTimeout is Options.Timeout's default.
const DefaultTimeout = time.Second

// Format is the format the file's meta bucket names; a file with another (but Format1, which the
// first write converts) is refused.
const Format = "deskfleet-state/2"

// Format1 is the format of files written before the per-object layout: read as they are, converted
// by the first write.
const Format1 = "deskfleet-state/1"

var (
	bucketRecords = []byte("records")
	bucketLocks   = []byte("locks")
	bucketMeta    = []byte("meta")
	keyFormat     = []byte("format")
)

// ErrClosed is the error of every operation after Close.
var ErrClosed = errors.New("state store closed")

// Options tune a Store.
type Options struct {
	// Timeout bounds each wait for bbolt's own file lock, which another process holds only during one
	// operation (0: DefaultTimeout). It is not the fleet lock's timeout, which Lock takes.
	Timeout time.Duration
}

// Store is a state.Store in one bbolt file. It is safe for concurrent use, by goroutines and by
// processes: no file handle is kept between operations.
type Store struct {
	path    string
	timeout time.Duration
	mu      *sync.RWMutex // this process's share of the file: see fileMutex

	closeMu sync.RWMutex
	closed  bool

	// backedUp: this Store has kept the file's previous generation (before its first write).
	backedUp bool
	// kept is the record of each fleet whose lock this Store holds, as its last Update wrote it
	// (guarded by mu, held for writing).
	kept map[string]*keptRecord
	// pending is the record an Update wrote, kept once its transaction committed.
	pending *keptRecord
}

// keptRecord is a fleet's record kept between the Updates of one lock.
type keptRecord struct {
	token string
	write string // the id of the write that stored it (the head's)
	rec   *state.Record
}

var _ state.Store = (*Store)(nil)

// fileMutexes serialise this process's operations on one file (by absolute path): flock conflicts
// between two descriptors of one process too, so goroutines (or two Stores on one path) would
// otherwise wait on each other's file lock with a timeout.
var fileMutexes sync.Map // string -> *sync.RWMutex

// Open returns the store in the file at path. It creates nothing (see the package comment); when the
// file exists it must be a deskfleet state file (or an empty bbolt file), undamaged (else an error
// wrapping state.ErrCorrupt), and a mode looser than 0600 is tightened to 0600 (a regular file only,
// never through a symbolic link).
func Open(path string, opt Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("state file: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("state file %s: %w", path, err)
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	mu, _ := fileMutexes.LoadOrStore(abs, new(sync.RWMutex))
	s := &Store{path: path, timeout: opt.Timeout, mu: mu.(*sync.RWMutex), kept: map[string]*keptRecord{}}

	lfi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("state file: %w", err)
	}
	fi, err := os.Stat(path) // a symbolic link's target
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return s, nil // a dangling link: the first write creates its target
	case err != nil:
		return nil, fmt.Errorf("state file: %w", err)
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("state file %s is not a regular file", path)
	}
	// Check the format first, so that `--state fleet.yaml` fails at once and leaves the file alone.
	if _, err := s.view(func(*bbolt.Tx) error { return nil }); err != nil {
		return nil, err
	}
	if lfi.Mode().IsRegular() && fi.Size() > 0 {
		if err := tighten(path); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// tighten makes the state file at path (a regular file, checked to be a state file) private to its
// owner when group or others may read or write it. It opens the path without following a symbolic
// link (one put there meanwhile is left alone) and changes the mode of what it opened.
func tighten(path string) error {
	f, err := openNoFollow(path)
	if err != nil {
		if errors.Is(err, errIsLink) {
			return nil // now a symbolic link: not ours to change
		}
		return fmt.Errorf("state file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			return fmt.Errorf("state file %s has mode %04o (others may read it) and cannot be made private: %w", path, perm, err)
		}
	}
	return nil
}

// Path is the file's path, as given to Open.
func (s *Store) Path() string { return s.path }

// Lock takes fleet's lock for holder: when another holder has it, Lock polls every 100ms for up to
// timeout, then returns a *state.LockedError naming that holder, Stale when the holder's process is
// gone. A stale lock is never taken over (Unlock of the lock CurrentLock returns clears it). The store sets the holder's
// Heartbeat, and Since when zero. The first Lock creates the file.
func (s *Store) Lock(ctx context.Context, fleet string, holder state.Holder, timeout time.Duration) (*state.Lock, error) {
	return locking.Wait(ctx, timeout, func() (*state.Lock, error) {
		// Look before writing: waiting processes poll with shared read transactions, not fsynced writes.
		if cur, err := s.CurrentLock(ctx, fleet); err != nil {
			return nil, err
		} else if cur != nil {
			return nil, &state.LockedError{Fleet: fleet, Holder: cur.Holder, Stale: cur.Holder.ProcessGone()}
		}
		var l *state.Lock
		err := s.update(func(tx *bbolt.Tx) error {
			cur, err := getLock(tx, fleet)
			if err != nil {
				return err
			}
			if cur != nil {
				return &state.LockedError{Fleet: fleet, Holder: cur.Holder, Stale: cur.Holder.ProcessGone()}
			}
			now := time.Now()
			h := holder
			if h.Since.IsZero() {
				h.Since = now
			}
			h.Heartbeat = now
			nl := &lockRecord{Holder: h, Token: locking.NewToken()}
			if err := putJSON(tx.Bucket(bucketLocks), fleet, nl); err != nil {
				return err
			}
			l = &state.Lock{Fleet: fleet, Holder: h, Token: nl.Token}
			return nil
		})
		if err != nil {
			return nil, err
		}
		return l, nil
	})
}

// Unlock releases l; a lock already released or taken over is left alone, without error. It never
// creates the file.
func (s *Store) Unlock(_ context.Context, l *state.Lock) error {
	if l == nil {
		return nil
	}
	if !s.exists() {
		return s.checkOpen()
	}
	return s.update(func(tx *bbolt.Tx) error {
		if k := s.kept[l.Fleet]; k != nil && k.token == l.Token {
			delete(s.kept, l.Fleet)
		}
		cur, err := getLock(tx, l.Fleet)
		if err != nil || cur == nil || cur.Token != l.Token {
			return err
		}
		return tx.Bucket(bucketLocks).Delete([]byte(l.Fleet))
	})
}

// CurrentLock returns fleet's lock (holder and token), nil when it is free. It reads only and never
// creates the file.
func (s *Store) CurrentLock(_ context.Context, fleet string) (*state.Lock, error) {
	var l *state.Lock
	_, err := s.view(func(tx *bbolt.Tx) error {
		cur, err := getLock(tx, fleet)
		if cur != nil {
			l = &state.Lock{Fleet: fleet, Holder: cur.Holder, Token: cur.Token}
		}
		return err
	})
	return l, err
}

// Read returns fleet's record (an empty one, Serial 0, when it has none or the file does not exist).
// It reads only and never creates the file.
func (s *Store) Read(_ context.Context, fleet string) (*state.Record, error) {
	rec := &state.Record{Fleet: fleet}
	_, err := s.view(func(tx *bbolt.Tx) error {
		var err error
		rec, err = getRecord(tx, fleet)
		return err
	})
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// Update runs fn on the fleet's record inside one bbolt write transaction (so fn must be quick and
// must not call the store): when fn returns nil the objects it changed (state.Changes) are stored with
// Serial+1 and the journal trimmed, the lock's heartbeat is refreshed, and the transaction is fsynced
// before Update returns. When fn fails nothing changes. ErrNotLocked when l is not the fleet's current
// lock. fn receives the record this Store keeps for the lock (see the package comment): it must not
// keep it after it returns.
func (s *Store) Update(_ context.Context, l *state.Lock, fn func(*state.Record) error) error {
	if l == nil {
		return state.ErrNotLocked
	}
	if !s.exists() {
		if err := s.checkOpen(); err != nil {
			return err
		}
		return state.ErrNotLocked // no file, so no lock
	}
	return s.update(func(tx *bbolt.Tx) (err error) {
		cur, err := getLock(tx, l.Fleet)
		if err != nil {
			return err
		}
		if cur == nil || cur.Token != l.Token {
			delete(s.kept, l.Fleet)
			return state.ErrNotLocked
		}
		rec, err := s.keptFor(tx, l)
		if err != nil {
			return err
		}
		delete(s.kept, l.Fleet) // kept again only once written (a failed fn or commit drops it)
		serial := rec.Serial
		rec.Track()
		if err := callFn(fn, rec); err != nil {
			rec.Changes()
			return err
		}
		rec.Fleet, rec.Serial = l.Fleet, serial+1
		rec.Trim()
		ch := rec.Changes()
		write := locking.NewToken()
		if ch.Whole {
			err = writeWhole(tx, l.Fleet, rec, write)
		} else {
			var fb *bbolt.Bucket
			if fb, err = fleetBuckets(tx.Bucket(bucketFleets), l.Fleet); err == nil {
				err = writeChanges(fb, rec, ch, write)
			}
		}
		if err != nil {
			return fmt.Errorf("state file %s: writing the record of %s: %w", s.path, l.Fleet, err)
		}
		cur.Holder.Heartbeat = time.Now()
		if err := putJSON(tx.Bucket(bucketLocks), l.Fleet, cur); err != nil {
			return err
		}
		s.pending = &keptRecord{token: l.Token, write: write, rec: rec}
		return nil
	})
}

// keptFor returns the record kept for l when the file's head is still the one its write stored,
// else the record read from tx.
func (s *Store) keptFor(tx *bbolt.Tx, l *state.Lock) (*state.Record, error) {
	fb := fleetBucket(tx, l.Fleet)
	if k := s.kept[l.Fleet]; k != nil && k.token == l.Token {
		h, err := readHead(fb)
		if err == nil && h.Write == k.write && h.Serial == k.rec.Serial {
			return k.rec, nil
		}
	}
	return getRecord(tx, l.Fleet)
}

// Fleets lists the fleets with a record, sorted. It reads only.
func (s *Store) Fleets(context.Context) ([]string, error) {
	var names []string
	_, err := s.view(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketRecords, bucketFleets} {
			if b := tx.Bucket(name); b != nil {
				if err := b.ForEach(func(k, _ []byte) error {
					names = append(names, string(k))
					return nil
				}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	sort.Strings(names)
	return names, err
}

// Close marks the store closed: later operations fail with ErrClosed. No file is open between
// operations, so there is nothing else to release; an operation in flight finishes first.
func (s *Store) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	s.closed = true
	return nil
}

// callFn calls the caller's Update function; a panic in it is re-raised by guard as it was, not taken
// for damage.
func callFn(fn func(*state.Record) error, rec *state.Record) (err error) {
	defer func() {
		if r := recover(); r != nil {
			panic(callerPanic{r})
		}
	}()
	return fn(rec)
}

// lockRecord is a fleet's lock as stored.
type lockRecord struct {
	Holder state.Holder `json:"holder"`
	Token  string       `json:"token"`
}

func (s *Store) checkOpen() error {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return nil
}

func (s *Store) exists() bool {
	fi, err := os.Stat(s.path)
	return err == nil && fi.Size() > 0
}

// view runs fn in a read-only transaction on the file opened read-only (shared file lock). found is
// false, and fn is not called, when the file does not exist or is empty (being created by another
// process); fn then sees nothing, which is what an empty store holds.
func (s *Store) view(fn func(*bbolt.Tx) error) (found bool, err error) {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return false, ErrClosed
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.exists() {
		return false, nil
	}
	if err := checkFile(s.path); err != nil {
		if !s.exists() { // removed since the first look
			return false, nil
		}
		return false, err
	}
	err = guard(s.path, func() error {
		db, err := openDB(s.path, true, s.timeout)
		if err != nil {
			if !s.exists() { // removed, or created but not yet initialised, since the first look
				return errGone
			}
			return s.openError(err)
		}
		defer db.Close()
		return db.View(func(tx *bbolt.Tx) error {
			if err := checkFormat(tx, s.path); err != nil {
				return err
			}
			return fn(tx)
		})
	})
	if errors.Is(err, errGone) {
		return false, nil
	}
	return true, err
}

var errGone = errors.New("the file is gone")

// update runs fn in one write transaction on the file opened read-write (exclusive file lock),
// creating the folder (0700) and the file (0600) when missing, and the buckets when new. The commit
// is fsynced; the file is closed before update returns.
func (s *Store) update(fn func(*bbolt.Tx) error) error {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if dir := filepath.Dir(s.path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("state folder: %w", err)
		}
	}
	if err := checkFile(s.path); err != nil {
		return err
	}
	return guard(s.path, func() error { return s.updateDB(fn) })
}

// updateDB is update's work on the file, under guard: it keeps the file's previous generation before
// this Store's first write (see damage.go), then runs fn.
func (s *Store) updateDB(fn func(*bbolt.Tx) error) error {
	db, err := openDB(s.path, false, s.timeout)
	if err != nil {
		return s.openError(err)
	}
	closed := false
	defer func() {
		if !closed { // a panic: close the file all the same
			db.Close()
		}
	}()
	if !s.backedUp {
		if err := backup(db, s.path); err != nil {
			return err
		}
		s.backedUp = true
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		if err := checkFormat(tx, s.path); err != nil {
			return err
		}
		if tx.Bucket(bucketMeta) == nil {
			meta, err := tx.CreateBucket(bucketMeta)
			if err != nil {
				return err
			}
			if err := meta.Put(keyFormat, []byte(Format)); err != nil {
				return err
			}
		}
		if string(tx.Bucket(bucketMeta).Get(keyFormat)) == Format1 {
			if err := migrateFormat1(tx, s.path); err != nil {
				return err
			}
		}
		for _, name := range [][]byte{bucketFleets, bucketLocks} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return fn(tx)
	})
	if err == nil && s.pending != nil {
		s.kept[s.pending.rec.Fleet] = s.pending
	}
	s.pending = nil
	closed = true
	if cerr := db.Close(); err == nil && cerr != nil {
		return fmt.Errorf("state file %s: %w", s.path, cerr)
	}
	return err
}

func (s *Store) openError(err error) error { return openError(s.path, s.timeout, err) }

func openError(path string, timeout time.Duration, err error) error {
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return fmt.Errorf("state file %s: another process kept it busy for more than %v: %w", path, timeout, err)
	case errors.Is(err, fs.ErrPermission), errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("state file: %w", err)
	}
	// checkFile passed, so bbolt's refusal (invalid, checksum, version, size) is damage it found.
	return corruptFile(path, "bbolt refuses it", err)
}

// checkFormat refuses a bbolt file that is not a deskfleet state file of this format. A file with no
// bucket at all is a new one.
func checkFormat(tx *bbolt.Tx, path string) error {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		empty := true
		tx.ForEach(func([]byte, *bbolt.Bucket) error { //nolint:errcheck // fn never fails
			empty = false
			return nil
		})
		if empty {
			return nil
		}
		return fmt.Errorf("state file %s is a bbolt file but not deskfleet's (no %q bucket)", path, bucketMeta)
	}
	if f := string(meta.Get(keyFormat)); f != Format && f != Format1 {
		return fmt.Errorf("state file %s has format %q; this deskfleet reads %q and %q only", path, f, Format, Format1)
	}
	return nil
}

func getLock(tx *bbolt.Tx, fleet string) (*lockRecord, error) {
	b := tx.Bucket(bucketLocks)
	if b == nil {
		return nil, nil
	}
	v := b.Get([]byte(fleet))
	if v == nil {
		return nil, nil
	}
	l := &lockRecord{}
	if err := json.Unmarshal(v, l); err != nil {
		return nil, corruptFile(tx.DB().Path(), fmt.Sprintf("the lock of fleet %s cannot be decoded", fleet), err)
	}
	return l, nil
}

// getRecord decodes fleet's record: a fresh value, so callers own it (bbolt's bytes are only valid
// within the transaction). A damaged value is a *state.CorruptError naming the fleet.
func getRecord(tx *bbolt.Tx, fleet string) (*state.Record, error) {
	rec := &state.Record{Fleet: fleet}
	if b := tx.Bucket(bucketRecords); b != nil { // format 1
		v := b.Get([]byte(fleet))
		if v == nil {
			return rec, nil
		}
		if _, err := state.UnsealRecord(v, rec); err != nil {
			return nil, corruptRecord(tx.DB().Path(), fleet, err.Error(), err)
		}
		return rec, nil
	}
	rec, err := loadFleet(fleetBucket(tx, fleet), fleet)
	if err != nil {
		return nil, corruptRecord(tx.DB().Path(), fleet, err.Error(), err)
	}
	return rec, nil
}

// putRecord stores fleet's record whole: in its own bucket (format 2), or sealed as one value in a
// file of format 1.
func putRecord(tx *bbolt.Tx, fleet string, rec *state.Record) error {
	if b := tx.Bucket(bucketRecords); b != nil {
		data, err := state.SealRecord(rec)
		if err != nil {
			return fmt.Errorf("encoding the record of %s: %w", fleet, err)
		}
		return b.Put([]byte(fleet), data)
	}
	return writeWhole(tx, fleet, rec, "")
}

func sortRestored(r []state.Restored) {
	sort.Slice(r, func(i, j int) bool { return r[i].Fleet < r[j].Fleet })
}

func putJSON(b *bbolt.Bucket, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", key, err)
	}
	return b.Put([]byte(key), data)
}

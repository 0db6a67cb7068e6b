// Package memory is a state.Store kept in memory, for tests and the examples: nothing survives the
// process. It is safe for concurrent use, and has the lock semantics of every Store (state/statetest
// checks them): records are stored as JSON, so what Read returns and what Update's fn receives are
// copies, exactly as with a store on disk.
package memory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/internal/locking"
)

// ErrClosed is the error of every operation after Close.
var ErrClosed = errors.New("state store closed")

// Store is an in-memory state.Store. The zero value is not usable: call New.
type Store struct {
	mu      sync.Mutex
	records map[string][]byte // fleet -> JSON of its Record
	locks   map[string]held
	closed  bool
}

type held struct {
	holder state.Holder
	token  string
}

var _ state.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{records: map[string][]byte{}, locks: map[string]held{}}
}

// Lock takes fleet's lock for holder, polling every 100ms for up to timeout while another holder has
// it; then it returns a *state.LockedError naming that holder (Stale when its process is gone). A
// stale lock is never taken over: Unlock of the lock CurrentLock returns clears it. The store sets the holder's Heartbeat (and
// Since when zero).
func (s *Store) Lock(ctx context.Context, fleet string, holder state.Holder, timeout time.Duration) (*state.Lock, error) {
	return locking.Wait(ctx, timeout, func() (*state.Lock, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed {
			return nil, ErrClosed
		}
		if h, ok := s.locks[fleet]; ok {
			return nil, &state.LockedError{Fleet: fleet, Holder: h.holder, Stale: h.holder.ProcessGone()}
		}
		now := time.Now()
		if holder.Since.IsZero() {
			holder.Since = now
		}
		holder.Heartbeat = now
		l := &state.Lock{Fleet: fleet, Holder: holder, Token: locking.NewToken()}
		s.locks[fleet] = held{holder: holder, token: l.Token}
		return l, nil
	})
}

// Unlock releases l; a lock already released or taken over is left alone, without error.
func (s *Store) Unlock(_ context.Context, l *state.Lock) error {
	if l == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if h, ok := s.locks[l.Fleet]; ok && h.token == l.Token {
		delete(s.locks, l.Fleet)
	}
	return nil
}

// CurrentLock returns fleet's lock (holder and token), nil when it is free.
func (s *Store) CurrentLock(_ context.Context, fleet string) (*state.Lock, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	h, ok := s.locks[fleet]
	if !ok {
		return nil, nil
	}
	return &state.Lock{Fleet: fleet, Holder: h.holder, Token: h.token}, nil
}

// Read returns a copy of fleet's record; an empty one (Serial 0) when the fleet has none.
func (s *Store) Read(_ context.Context, fleet string) (*state.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	return decode(fleet, s.records[fleet])
}

// Update runs fn on a copy of the fleet's record and, when fn returns nil, stores it with Serial+1,
// the journal trimmed (state.Record.Trim), and the lock's heartbeat refreshed. fn runs under the
// store's mutex: it must not call the store. ErrNotLocked when l is not the fleet's current lock.
func (s *Store) Update(_ context.Context, l *state.Lock, fn func(*state.Record) error) error {
	if l == nil {
		return state.ErrNotLocked
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	h, ok := s.locks[l.Fleet]
	if !ok || h.token != l.Token {
		return state.ErrNotLocked
	}
	rec, err := decode(l.Fleet, s.records[l.Fleet])
	if err != nil {
		return err
	}
	serial := rec.Serial
	if err := fn(rec); err != nil {
		return err
	}
	rec.Fleet, rec.Serial = l.Fleet, serial+1
	rec.Trim()
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encoding the record of %s: %w", l.Fleet, err)
	}
	s.records[l.Fleet] = b
	h.holder.Heartbeat = time.Now()
	s.locks[l.Fleet] = h
	return nil
}

// Fleets lists the fleets with a record, sorted.
func (s *Store) Fleets(context.Context) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	names := make([]string, 0, len(s.records))
	for n := range s.records {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// Close drops the store's content; later operations fail with ErrClosed. Closing twice is not an error.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.records, s.locks = nil, nil
	return nil
}

func decode(fleet string, b []byte) (*state.Record, error) {
	rec := &state.Record{Fleet: fleet}
	if b == nil {
		return rec, nil
	}
	if err := json.Unmarshal(b, rec); err != nil {
		return nil, fmt.Errorf("decoding the record of %s: %w", fleet, err)
	}
	return rec, nil
}

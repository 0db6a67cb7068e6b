// Package memory is a state.Store kept in memory, for tests and the examples: nothing survives the
// process. It is safe for concurrent use, and has the lock semantics of every Store (state/statetest
// checks them). It stores a record as a store on disk does, one JSON value per object (desktop,
// account, intent, run, step outcome), written from the change set of each Update (state.Changes),
// so what Read returns is a copy decoded from them, and a change that bypassed the record's methods
// is lost here as it would be on disk.
//
// Checking. Every Update of a record of up to CheckLimit objects then compares the record fn left
// with what was stored, object by object, and fails (ErrBypassed) when they differ: a write that
// bypassed the record's methods (rec.Desktops[id] = d) is caught by every test that runs on this
// store. Larger records (benchmarks) are not checked, to keep Update O(what changed).
package memory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/internal/locking"
)

// ErrClosed is the error of every operation after Close.
var ErrClosed = errors.New("state store closed")

// ErrBypassed is Update's error when the record fn left differs from what its change set stored: fn
// changed it without the record's methods (see Checking).
var ErrBypassed = errors.New("the record was changed without its methods (PutDesktop, SetIntent, ...): the change would be lost")

// CheckLimit is the size (desktops, accounts, intents and runs) up to which every Update is checked.
const CheckLimit = 512

// Store is an in-memory state.Store. The zero value is not usable: call New.
type Store struct {
	mu     sync.Mutex
	fleets map[string]*stored
	locks  map[string]held
	kept   map[string]*state.Record // the record of each held lock, as its last Update left it
	closed bool
}

// stored is a fleet's record as JSON values, one per object.
type stored struct {
	serial             int64
	desktops, accounts map[string][]byte
	intents, runs      map[int64][]byte   // by sequence number
	steps              map[int64][][]byte // by run sequence number, in order
}

type held struct {
	holder state.Holder
	token  string
}

var _ state.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{fleets: map[string]*stored{}, locks: map[string]held{}, kept: map[string]*state.Record{}}
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
		delete(s.kept, l.Fleet)
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
	return s.fleets[fleet].decode(fleet)
}

// Update runs fn on the fleet's record and, when fn returns nil, stores the objects it changed
// (state.Changes) with Serial+1, the journal trimmed (state.Record.Trim), and the lock's heartbeat
// refreshed; a record of up to CheckLimit objects is then checked (see Checking). fn runs under the
// store's mutex: it must not call the store, nor keep the record after it returns. ErrNotLocked when
// l is not the fleet's current lock.
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
	rec := s.kept[l.Fleet]
	delete(s.kept, l.Fleet) // kept again once written: a failed fn drops it
	if rec == nil {
		var err error
		if rec, err = s.fleets[l.Fleet].decode(l.Fleet); err != nil {
			return err
		}
	}
	serial := rec.Serial
	rec.Track()
	if err := fn(rec); err != nil {
		rec.Changes()
		return err
	}
	rec.Fleet, rec.Serial = l.Fleet, serial+1
	rec.Trim()
	ch := rec.Changes()
	st := s.fleets[l.Fleet]
	if st == nil || ch.Whole {
		st = newStored()
		ch = wholeChanges(rec)
	}
	small := len(rec.Desktops)+len(rec.Accounts)+len(rec.Intents)+len(rec.Runs) <= CheckLimit
	if small {
		if err := st.checkUnchanged(rec, ch); err != nil {
			return fmt.Errorf("fleet %s: %w", l.Fleet, err)
		}
	}
	if err := st.apply(rec, ch); err != nil {
		return fmt.Errorf("encoding the record of %s: %w", l.Fleet, err)
	}
	s.fleets[l.Fleet] = st
	if small && (len(st.desktops) != len(rec.Desktops) || len(st.accounts) != len(rec.Accounts) ||
		len(st.intents) != len(rec.Intents) || len(st.runs) != len(rec.Runs)) {
		return fmt.Errorf("fleet %s: %w: the number of objects differs from what was stored", l.Fleet, ErrBypassed)
	}
	s.kept[l.Fleet] = rec
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
	names := make([]string, 0, len(s.fleets))
	for n := range s.fleets {
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
	s.fleets, s.locks, s.kept = nil, nil, nil
	return nil
}

// decode builds the record from its stored values (an empty one for nil).
func (st *stored) decode(fleet string) (*state.Record, error) {
	rec := &state.Record{Fleet: fleet}
	if st == nil {
		return rec, nil
	}
	rec.Serial = st.serial
	fail := func(what string, err error) (*state.Record, error) {
		return nil, fmt.Errorf("decoding %s of the record of %s: %w", what, fleet, err)
	}
	for id, b := range st.desktops {
		var d state.Desktop
		if err := json.Unmarshal(b, &d); err != nil {
			return fail("desktop "+id, err)
		}
		if rec.Desktops == nil {
			rec.Desktops = map[string]state.Desktop{}
		}
		rec.Desktops[id] = d
	}
	for e, b := range st.accounts {
		var a state.Account
		if err := json.Unmarshal(b, &a); err != nil {
			return fail("account "+e, err)
		}
		if rec.Accounts == nil {
			rec.Accounts = map[string]state.Account{}
		}
		rec.Accounts[e] = a
	}
	for _, seq := range slices.Sorted(maps.Keys(st.intents)) {
		var in state.Intent
		if err := json.Unmarshal(st.intents[seq], &in); err != nil {
			return fail("an intent", err)
		}
		rec.LoadIntent(seq, in)
	}
	for _, seq := range slices.Sorted(maps.Keys(st.runs)) {
		var run state.Run
		if err := json.Unmarshal(st.runs[seq], &run); err != nil {
			return fail("a run", err)
		}
		for _, b := range st.steps[seq] {
			var so state.StepOutcome
			if err := json.Unmarshal(b, &so); err != nil {
				return fail("a step outcome", err)
			}
			run.Steps = append(run.Steps, so)
		}
		rec.LoadRun(seq, run)
	}
	return rec, nil
}

func newStored() *stored {
	return &stored{desktops: map[string][]byte{}, accounts: map[string][]byte{},
		intents: map[int64][]byte{}, runs: map[int64][]byte{}, steps: map[int64][][]byte{}}
}

// apply writes ch from rec into st.
func (st *stored) apply(rec *state.Record, ch state.Changes) error {
	st.serial = rec.Serial
	put := func(m map[string][]byte, k string, v any, present bool) error {
		if !present {
			delete(m, k)
			return nil
		}
		b, err := json.Marshal(v)
		m[k] = b
		return err
	}
	for _, id := range ch.Desktops {
		d, ok := rec.Desktops[id]
		if err := put(st.desktops, id, d, ok); err != nil {
			return err
		}
	}
	for _, e := range ch.Accounts {
		a, ok := rec.Accounts[e]
		if err := put(st.accounts, e, a, ok); err != nil {
			return err
		}
	}
	for _, d := range ch.DroppedIntents {
		delete(st.intents, d.Seq)
	}
	for _, d := range ch.DroppedRuns {
		delete(st.runs, d.Seq)
		delete(st.steps, d.Seq)
	}
	var err error
	for _, id := range ch.Intents {
		if in, ok := rec.Intent(id); ok {
			if st.intents[rec.IntentSeq(id)], err = json.Marshal(in); err != nil {
				return err
			}
		}
	}
	for _, id := range ch.Runs {
		if run, ok := rec.Run(id); ok {
			run.Steps = nil
			if st.runs[rec.RunSeq(id)], err = json.Marshal(run); err != nil {
				return err
			}
		}
	}
	for id, from := range ch.RunSteps {
		run, ok := rec.Run(id)
		if !ok {
			continue
		}
		seq := rec.RunSeq(id)
		steps := st.steps[seq][:min(from, len(st.steps[seq]))]
		for _, so := range run.Steps[len(steps):] {
			b, err := json.Marshal(so)
			if err != nil {
				return err
			}
			steps = append(steps, b)
		}
		st.steps[seq] = steps
	}
	return nil
}

// wholeChanges names every object of rec.
func wholeChanges(rec *state.Record) state.Changes {
	ch := state.Changes{RunSteps: map[string]int{}}
	ch.Desktops = slices.Collect(maps.Keys(rec.Desktops))
	ch.Accounts = slices.Collect(maps.Keys(rec.Accounts))
	for _, in := range rec.Intents {
		ch.Intents = append(ch.Intents, in.ID)
	}
	for _, run := range rec.Runs {
		ch.Runs = append(ch.Runs, run.ID)
		ch.RunSteps[run.ID] = 0
	}
	return ch
}

// checkUnchanged compares the objects of rec that ch does not name with the stored values: they
// must not have changed (see Checking).
func (st *stored) checkUnchanged(rec *state.Record, ch state.Changes) error {
	differ := func(what string) error { return fmt.Errorf("%w: %s differs from what was stored", ErrBypassed, what) }
	same := func(b []byte, v any) bool {
		j, err := json.Marshal(v)
		return err == nil && bytes.Equal(b, j)
	}
	set := func(keys []string) map[string]bool {
		m := make(map[string]bool, len(keys))
		for _, k := range keys {
			m[k] = true
		}
		return m
	}
	dirtyD, dirtyA, dirtyI, dirtyR := set(ch.Desktops), set(ch.Accounts), set(ch.Intents), set(ch.Runs)
	for id, d := range rec.Desktops {
		if !dirtyD[id] && !same(st.desktops[id], d) {
			return differ("desktop " + id)
		}
	}
	for id := range st.desktops {
		if _, ok := rec.Desktops[id]; !ok && !dirtyD[id] {
			return differ("desktop " + id)
		}
	}
	for e, a := range rec.Accounts {
		if !dirtyA[e] && !same(st.accounts[e], a) {
			return differ("account " + e)
		}
	}
	for e := range st.accounts {
		if _, ok := rec.Accounts[e]; !ok && !dirtyA[e] {
			return differ("account " + e)
		}
	}
	for _, in := range rec.Intents {
		if !dirtyI[in.ID] && !same(st.intents[rec.IntentSeq(in.ID)], in) {
			return differ("intent " + in.ID)
		}
	}
	for _, run := range rec.Runs {
		seq := rec.RunSeq(run.ID)
		from, stepsDirty := ch.RunSteps[run.ID]
		if !stepsDirty {
			from = len(run.Steps)
			if len(st.steps[seq]) != len(run.Steps) {
				return differ("the steps of run " + run.ID)
			}
		}
		for i, so := range run.Steps[:min(from, len(run.Steps))] {
			if i >= len(st.steps[seq]) || !same(st.steps[seq][i], so) {
				return differ(fmt.Sprintf("step %d of run %s", i, run.ID))
			}
		}
		run.Steps = nil
		if !dirtyR[run.ID] && !same(st.runs[seq], run) {
			return differ("run " + run.ID)
		}
	}
	return nil
}

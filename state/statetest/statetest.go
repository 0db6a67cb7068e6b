// Package statetest is the conformance suite every state.Store implementation passes: Run it from
// the implementation's tests with a function that opens a fresh, empty store.
//
// What it checks is the state.Store contract, plus this module's choices: Update trims the journal
// (state.Record.Trim), a waiting Lock polls and gives up at its timeout naming the holder, and a lock
// whose process is gone is reported Stale but never taken over by Lock. Writes are change sets
// (state.Changes): every change made through the record's methods is stored, across many Updates of
// one lock (a store may keep the record between them) and across locks; a failed fn undoes them,
// for the next Update of the same lock too; a record replaced whole is stored whole.
package statetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/state"
)

// Run runs the suite; open returns a fresh, empty store for each subtest (the suite closes it).
func Run(t *testing.T, open func(t *testing.T) state.Store) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tc.run(t, tc.reason, s)
		})
	}
}

type testCase struct {
	name   string
	reason string
	run    func(t *testing.T, reason string, s state.Store)
}

const fleet = "studio"

// Holder returns a holder for tests, named who on this host with this process's pid.
func Holder(who string) state.Holder {
	host, _ := os.Hostname()
	return state.Holder{User: who, Host: host, PID: os.Getpid(), Command: "deskfleet apply", Since: time.Now()}
}

var cases = append(baseCases, changeCases...)

var baseCases = []testCase{
	{
		name:   "empty read",
		reason: "a fleet without a record reads as an empty record with Serial 0, and no fleet is listed",
		run: func(t *testing.T, reason string, s state.Store) {
			ctx := context.Background()
			rec := read(t, s, fleet)
			if rec.Fleet != fleet || rec.Serial != 0 || len(rec.Desktops) != 0 || len(rec.Accounts) != 0 ||
				len(rec.Intents) != 0 || len(rec.Runs) != 0 {
				t.Errorf("%s: got %+v", reason, rec)
			}
			fleets, err := s.Fleets(ctx)
			if err != nil || len(fleets) != 0 {
				t.Errorf("%s: Fleets = %v, %v", reason, fleets, err)
			}
			if l, err := s.CurrentLock(ctx, fleet); err != nil || l != nil {
				t.Errorf("%s: CurrentLock = %v, %v; want nil, nil", reason, l, err)
			}
		},
	},
	{
		name:   "update increments serial",
		reason: "each committed Update stores fn's changes and adds one to Serial",
		run: func(t *testing.T, reason string, s state.Store) {
			l := lock(t, s, fleet, "ana")
			for i := 1; i <= 3; i++ {
				id := fmt.Sprintf("vm-%d", i)
				update(t, s, l, func(r *state.Record) error {
					r.Serial = 1000 // ignored: the store sets Serial
					if r.Desktops == nil {
						r.Desktops = map[string]state.Desktop{}
					}
					r.Desktops[id] = state.Desktop{VmID: id, Name: fmt.Sprintf("render_%03d", i)}
					return nil
				})
				rec := read(t, s, fleet)
				if rec.Serial != int64(i) || len(rec.Desktops) != i || rec.Desktops[id].VmID != id || rec.Fleet != fleet {
					t.Fatalf("%s: after update %d got serial %d, %d desktops, fleet %q", reason, i, rec.Serial, len(rec.Desktops), rec.Fleet)
				}
			}
		},
	},
	{
		name:   "failed fn changes nothing",
		reason: "when fn fails, Update returns its error and the stored record (serial included) is unchanged",
		run: func(t *testing.T, reason string, s state.Store) {
			l := lock(t, s, fleet, "ana")
			update(t, s, l, func(r *state.Record) error {
				r.Accounts = map[string]state.Account{"a@x.io": {Email: "a@x.io", AccountID: "1"}}
				return nil
			})
			boom := errors.New("boom")
			err := s.Update(context.Background(), l, func(r *state.Record) error {
				delete(r.Accounts, "a@x.io")
				r.Runs = append(r.Runs, state.Run{ID: "r1"})
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("%s: Update = %v, want fn's error", reason, err)
			}
			rec := read(t, s, fleet)
			if rec.Serial != 1 || len(rec.Accounts) != 1 || len(rec.Runs) != 0 {
				t.Errorf("%s: got serial %d, accounts %v, runs %v", reason, rec.Serial, rec.Accounts, rec.Runs)
			}
		},
	},
	{
		name:   "update needs the current lock",
		reason: "Update with no lock, a made-up lock, a released lock or a lock forced away fails with ErrNotLocked and changes nothing",
		run: func(t *testing.T, reason string, s state.Store) {
			ctx := context.Background()
			noop := func(*state.Record) error { return nil }
			check := func(what string, l *state.Lock) {
				t.Helper()
				if err := s.Update(ctx, l, noop); !errors.Is(err, state.ErrNotLocked) {
					t.Errorf("%s: Update with %s = %v, want ErrNotLocked", reason, what, err)
				}
			}
			check("a nil lock", nil)
			check("a made-up lock", &state.Lock{Fleet: fleet, Holder: Holder("eve"), Token: "guess"})

			l := lock(t, s, fleet, "ana")
			if err := s.Unlock(ctx, l); err != nil {
				t.Fatal(err)
			}
			check("a released lock", l)
			if err := s.Unlock(ctx, l); err != nil {
				t.Errorf("%s: a second Unlock = %v, want nil", reason, err)
			}

			old := lock(t, s, fleet, "ana")
			clearLock(t, s, fleet)
			check("a lock cleared", old)
			other := lock(t, s, fleet, "bo")
			check("a lock cleared and taken by another", old)
			if err := s.Unlock(ctx, old); err != nil {
				t.Errorf("%s: Unlock of a lock taken over = %v, want nil", reason, err)
			}
			if h := holderOf(t, s, fleet); h == nil || h.User != "bo" {
				t.Errorf("%s: the old holder's Unlock released the new holder's lock (holder now %v)", reason, h)
			}
			update(t, s, other, noop)
			if rec := read(t, s, fleet); rec.Serial != 1 {
				t.Errorf("%s: serial %d, want 1 (only the current holder's update)", reason, rec.Serial)
			}
		},
	},
	{
		name:   "second lock names the holder",
		reason: "while a lock is held, Lock fails with *LockedError naming the holder: at once with timeout 0, at the timeout otherwise",
		run: func(t *testing.T, reason string, s state.Store) {
			ctx := context.Background()
			first := lock(t, s, fleet, "ana")
			for _, timeout := range []time.Duration{0, 300 * time.Millisecond} {
				start := time.Now()
				l, err := s.Lock(ctx, fleet, Holder("bo"), timeout)
				took := time.Since(start)
				var le *state.LockedError
				if !errors.As(err, &le) || l != nil {
					t.Fatalf("%s: Lock = %v, %v; want *LockedError", reason, l, err)
				}
				h := le.Holder
				if le.Fleet != fleet || h.User != "ana" || h.PID != first.Holder.PID || h.Host != first.Holder.Host ||
					h.Command != first.Holder.Command || !h.Since.Equal(first.Holder.Since) || h.Heartbeat.IsZero() || le.Stale {
					t.Errorf("%s: LockedError %+v does not name the holder %+v", reason, le, first.Holder)
				}
				if took < timeout { // a lower bound is behaviour; upper bounds are not asserted (load makes them flaky)
					t.Errorf("%s: with timeout %v Lock returned after only %v", reason, timeout, took)
				}
			}
			if h := holderOf(t, s, fleet); h == nil || h.User != "ana" {
				t.Errorf("%s: CurrentLock's holder = %v", reason, h)
			}
			// Another fleet's lock is independent.
			lock(t, s, "farm", "bo")
		},
	},
	{
		name:   "lock waits until released",
		reason: "Lock with a timeout polls and takes the lock once its holder releases it",
		run: func(t *testing.T, reason string, s state.Store) {
			ctx := context.Background()
			first := lock(t, s, fleet, "ana")
			const hold = 250 * time.Millisecond
			go func() {
				time.Sleep(hold)
				s.Unlock(ctx, first)
			}()
			start := time.Now()
			l, err := s.Lock(ctx, fleet, Holder("bo"), 10*time.Second)
			if err != nil {
				t.Fatalf("%s: Lock = %v", reason, err)
			}
			if took := time.Since(start); took < hold-20*time.Millisecond {
				t.Errorf("%s: took the lock after %v, before its holder released it (%v)", reason, took, hold)
			}
			if l.Holder.User != "bo" || l.Token == "" || l.Token == first.Token || l.Fleet != fleet {
				t.Errorf("%s: got lock %+v", reason, l)
			}
		},
	},
	{
		name:   "lock wait ends with the context",
		reason: "a canceled context stops the wait at once; the error still names the holder",
		run: func(t *testing.T, reason string, s state.Store) {
			lock(t, s, fleet, "ana")
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			_, err := s.Lock(ctx, fleet, Holder("bo"), time.Minute)
			var le *state.LockedError
			if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &le) || le.Holder.User != "ana" {
				t.Errorf("%s: Lock = %v", reason, err)
			}
		},
	},
	{
		name:   "clearing a lock",
		reason: "Unlock of the lock CurrentLock returned clears it (the fleet can then be locked), and never removes a lock taken after it was read",
		run: func(t *testing.T, reason string, s state.Store) {
			ctx := context.Background()
			if l, err := s.CurrentLock(ctx, fleet); err != nil || l != nil {
				t.Errorf("%s: CurrentLock of a free fleet = %v, %v", reason, l, err)
			}
			first := lock(t, s, fleet, "ana")
			h := clearLock(t, s, fleet)
			if h == nil || h.User != "ana" || h.PID != first.Holder.PID {
				t.Fatalf("%s: cleared %v", reason, h)
			}
			if h := holderOf(t, s, fleet); h != nil {
				t.Errorf("%s: still held by %v", reason, h)
			}
			lock(t, s, fleet, "bo")

			// Read the lock, then it changes hands before the clearing Unlock: nothing is removed.
			read, err := s.CurrentLock(ctx, fleet)
			if err != nil || read == nil {
				t.Fatalf("%s: CurrentLock = %v, %v", reason, read, err)
			}
			clearLock(t, s, fleet)
			third := lock(t, s, fleet, "cy")
			if err := s.Unlock(ctx, read); err != nil {
				t.Fatal(err)
			}
			if h := holderOf(t, s, fleet); h == nil || h.User != "cy" {
				t.Errorf("%s: an Unlock of a lock read before it changed hands removed the new one (holder now %v)", reason, h)
			}
			update(t, s, third, func(*state.Record) error { return nil })
		},
	},
	{
		name:   "stale lock reported not taken",
		reason: "a lock whose process is gone (this host, pid not running) is reported Stale; Lock does not take it over",
		run: func(t *testing.T, reason string, s state.Store) {
			ctx := context.Background()
			gone := Holder("ana")
			gone.PID = DeadPID(t)
			if _, err := s.Lock(ctx, fleet, gone, 0); err != nil {
				t.Fatal(err)
			}
			_, err := s.Lock(ctx, fleet, Holder("bo"), 0)
			var le *state.LockedError
			if !errors.As(err, &le) || !le.Stale || le.Holder.PID != gone.PID {
				t.Fatalf("%s: Lock = %v", reason, err)
			}
			if h := clearLock(t, s, fleet); h == nil || h.PID != gone.PID {
				t.Fatalf("%s: cleared %v", reason, h)
			}
			lock(t, s, fleet, "bo")
		},
	},
	{
		name:   "heartbeat",
		reason: "Lock sets the holder's heartbeat and Update refreshes it",
		run: func(t *testing.T, reason string, s state.Store) {
			l := lock(t, s, fleet, "ana")
			h1 := holderOf(t, s, fleet)
			if h1 == nil || h1.Heartbeat.IsZero() {
				t.Fatalf("%s: CurrentLock's holder = %v", reason, h1)
			}
			time.Sleep(20 * time.Millisecond)
			update(t, s, l, func(*state.Record) error { return nil })
			h2 := holderOf(t, s, fleet)
			if h2 == nil || !h2.Heartbeat.After(h1.Heartbeat) {
				t.Errorf("%s: heartbeat %v after Update, was %v", reason, h2, h1.Heartbeat)
			}
		},
	},
	{
		name:   "concurrent locks",
		reason: "of many simultaneous Lock calls exactly one succeeds; the others name its holder",
		run: func(t *testing.T, reason string, s state.Store) {
			const n = 16
			var wg sync.WaitGroup
			locks := make([]*state.Lock, n)
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					locks[i], errs[i] = s.Lock(context.Background(), fleet, Holder(fmt.Sprintf("u%d", i)), 0)
				})
			}
			wg.Wait()
			var winner *state.Lock
			for i := range n {
				if errs[i] == nil {
					if winner != nil {
						t.Fatalf("%s: two holders: %v and %v", reason, winner.Holder, locks[i].Holder)
					}
					winner = locks[i]
				}
			}
			if winner == nil {
				t.Fatalf("%s: nobody got the lock: %v", reason, errs)
			}
			for i := range n {
				var le *state.LockedError
				if errs[i] != nil && (!errors.As(errs[i], &le) || le.Holder.User != winner.Holder.User) {
					t.Errorf("%s: loser %d got %v, want the winner %s named", reason, i, errs[i], winner.Holder.User)
				}
			}
		},
	},
	{
		name:   "concurrent updates keep every change",
		reason: "Updates from many goroutines under one lock are serialised: none is lost and Serial counts them all",
		run: func(t *testing.T, reason string, s state.Store) {
			l := lock(t, s, fleet, "ana")
			const n = 24
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					err := s.Update(context.Background(), l, func(r *state.Record) error {
						if r.Desktops == nil {
							r.Desktops = map[string]state.Desktop{}
						}
						id := fmt.Sprintf("vm-%02d", i)
						r.Desktops[id] = state.Desktop{VmID: id}
						return nil
					})
					if err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			rec := read(t, s, fleet)
			if rec.Serial != n || len(rec.Desktops) != n {
				t.Errorf("%s: serial %d and %d desktops, want %d of each", reason, rec.Serial, len(rec.Desktops), n)
			}
		},
	},
	{
		name:   "fleets lists fleets with a record",
		reason: "Fleets lists each fleet once an Update stored its record, sorted; a lock alone is no record",
		run: func(t *testing.T, reason string, s state.Store) {
			ctx := context.Background()
			for _, name := range []string{"studio", "farm", "classroom"} {
				update(t, s, lock(t, s, name, "ana"), func(*state.Record) error { return nil })
			}
			lock(t, s, "only-locked", "ana")
			got, err := s.Fleets(ctx)
			if want := []string{"classroom", "farm", "studio"}; err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s: Fleets = %v, %v; want %v", reason, got, err, want)
			}
		},
	},
	{
		name:   "records are copies",
		reason: "mutating what Read returned, or the record fn saw after Update returned, does not change the store",
		run: func(t *testing.T, reason string, s state.Store) {
			l := lock(t, s, fleet, "ana")
			label := "gpu"
			var kept *state.Record
			update(t, s, l, func(r *state.Record) error {
				r.Desktops = map[string]state.Desktop{"vm-1": {VmID: "vm-1", Label: &label}}
				r.Intents = []state.Intent{{ID: "r/1", Targets: []string{"a"}, Params: []byte(`{"x":1}`), Status: state.IntentPending}}
				kept = r
				return nil
			})
			kept.Desktops["vm-2"] = state.Desktop{VmID: "vm-2"}
			kept.Intents[0].Targets[0] = "changed"
			label = "changed"

			rec := read(t, s, fleet)
			rec.Desktops["vm-3"] = state.Desktop{VmID: "vm-3"}
			*rec.Desktops["vm-1"].Label = "changed"
			rec.Intents[0].Params[0] = 'X'
			rec.Serial = 99

			again := read(t, s, fleet)
			if len(again.Desktops) != 1 || *again.Desktops["vm-1"].Label != "gpu" || again.Intents[0].Targets[0] != "a" ||
				string(again.Intents[0].Params) != `{"x":1}` || again.Serial != 1 {
				t.Errorf("%s: store changed: %+v", reason, again)
			}
		},
	},
	{
		name:   "journal trimmed",
		reason: "Update keeps the newest MaxRuns runs and drops the oldest closed intents beyond MaxIntents, never an open one",
		run: func(t *testing.T, reason string, s state.Store) {
			l := lock(t, s, fleet, "ana")
			update(t, s, l, func(r *state.Record) error {
				for i := range state.MaxRuns + 5 {
					r.Runs = append(r.Runs, state.Run{ID: fmt.Sprintf("run-%d", i), Outcome: "done"})
				}
				r.Intents = append(r.Intents, state.Intent{ID: "open-oldest", Status: state.IntentSent})
				for i := range state.MaxIntents + 10 {
					r.Intents = append(r.Intents, state.Intent{ID: fmt.Sprintf("i-%d", i), Status: state.IntentDone})
				}
				return nil
			})
			rec := read(t, s, fleet)
			if len(rec.Runs) != state.MaxRuns || rec.Runs[0].ID != "run-5" || rec.Runs[len(rec.Runs)-1].ID != fmt.Sprintf("run-%d", state.MaxRuns+4) {
				t.Errorf("%s: %d runs from %s", reason, len(rec.Runs), rec.Runs[0].ID)
			}
			if len(rec.Intents) != state.MaxIntents || rec.Intents[0].ID != "open-oldest" || rec.Intents[1].ID != "i-11" {
				t.Errorf("%s: %d intents starting %s, %s", reason, len(rec.Intents), rec.Intents[0].ID, rec.Intents[1].ID)
			}
		},
	},
}

// DeadPID returns the pid of a process of this host that has ended: the test binary, run again with
// no test selected and waited for.
func DeadPID(t testing.TB) int {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatalf("running a child to get a dead pid: %v", err)
	}
	return cmd.Process.Pid
}

func lock(t *testing.T, s state.Store, fleet, who string) *state.Lock {
	t.Helper()
	l, err := s.Lock(context.Background(), fleet, Holder(who), 0)
	if err != nil {
		t.Fatalf("Lock(%s) for %s: %v", fleet, who, err)
	}
	return l
}

func update(t *testing.T, s state.Store, l *state.Lock, fn func(*state.Record) error) {
	t.Helper()
	if err := s.Update(context.Background(), l, fn); err != nil {
		t.Fatalf("Update(%s): %v", l.Fleet, err)
	}
}

func read(t *testing.T, s state.Store, fleet string) *state.Record {
	t.Helper()
	rec, err := s.Read(context.Background(), fleet)
	if err != nil {
		t.Fatalf("Read(%s): %v", fleet, err)
	}
	return rec
}

// holderOf returns the holder of fleet's lock (CurrentLock), nil when it is free.
func holderOf(t *testing.T, s state.Store, fleet string) *state.Holder {
	t.Helper()
	l, err := s.CurrentLock(context.Background(), fleet)
	if err != nil {
		t.Fatal(err)
	}
	if l == nil {
		return nil
	}
	return &l.Holder
}

// clearLock clears fleet's lock as `deskfleet state unlock` does (Unlock of CurrentLock's lock) and
// returns the holder it removed, nil when the fleet was free.
func clearLock(t *testing.T, s state.Store, fleet string) *state.Holder {
	t.Helper()
	ctx := context.Background()
	l, err := s.CurrentLock(ctx, fleet)
	if err != nil {
		t.Fatal(err)
	}
	if l == nil {
		return nil
	}
	if err := s.Unlock(ctx, l); err != nil {
		t.Fatal(err)
	}
	return &l.Holder
}

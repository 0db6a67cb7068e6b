package main

import (
	"context"
	"os"
	"strconv"
	"time"

	"github.com/deskfleet/deskfleet/state"
)

// crashAfterIntentEnv names a fault-injection hook for the crash tests (TestCLICrashResume): when set
// to N, apply kills its own process (SIGKILL on unix, TerminateProcess on Windows) right after the N-th
// intent it records is stored, as a power cut would. It exists only in the test binary, which TestMain
// runs as deskfleet: the package's withCrashHook is the identity in a release build.
const crashAfterIntentEnv = "DESKFLEET_CRASH_AFTER_INTENT"

func init() { withCrashHook = crashHook }

// crashHook wraps st with the hook when the environment asks for it.
func crashHook(st state.Store) state.Store {
	n, err := strconv.Atoi(os.Getenv(crashAfterIntentEnv))
	if err != nil || n <= 0 {
		return st
	}
	return &crashingStore{Store: st, after: n}
}

// crashingStore counts the Updates that add an intent and dies after the configured one is stored.
type crashingStore struct {
	state.Store
	after, seen int
}

func (s *crashingStore) Update(ctx context.Context, l *state.Lock, fn func(*state.Record) error) error {
	added := false
	err := s.Store.Update(ctx, l, func(r *state.Record) error {
		before := len(r.Intents)
		if err := fn(r); err != nil {
			return err
		}
		added = len(r.Intents) > before
		return nil
	})
	if err == nil && added {
		s.seen++
		if s.seen == s.after {
			killSelf()
		}
	}
	return err
}

// killSelf ends the process at once, with no deferred function, flush or exit handler running.
func killSelf() {
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		p.Kill() //nolint:errcheck // the process ends here
	}
	// The kill may land a moment later: never return to the caller, who would go on applying.
	for {
		time.Sleep(time.Hour)
	}
}

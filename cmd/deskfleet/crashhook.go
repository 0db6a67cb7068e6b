package main

import (
	"context"
	"os"
	"strconv"
	"syscall"

	"github.com/deskfleet/deskfleet/state"
)

// crashAfterIntentEnv names a fault-injection hook for the crash tests of QUALITY.md: when set to N,
// apply kills its own process with SIGKILL right after the N-th intent it records is stored, as a
// power cut would. It is read by apply only and documented here, not in --help: it exists for tests.
const crashAfterIntentEnv = "DESKFLEET_CRASH_AFTER_INTENT"

// withCrashHook wraps st with the hook when the environment asks for it.
func withCrashHook(st state.Store) state.Store {
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
			syscall.Kill(os.Getpid(), syscall.SIGKILL) //nolint:errcheck // the process ends here
		}
	}
	return err
}

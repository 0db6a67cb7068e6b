// Package locking holds what every state.Store implementation does alike around its fleet locks:
// waiting for a lock by polling, and lock tokens.
package locking

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/deskfleet/deskfleet/state"
)

// PollInterval is how often a waiting Lock tries again.
const PollInterval = 100 * time.Millisecond

// Wait calls try until it returns a lock, an error other than *state.LockedError, or timeout has
// passed (timeout 0: one try). It tries once more at the deadline, so a lock released just in time is
// taken. When ctx ends first, the error wraps both ctx's error and the last *state.LockedError (so a
// caller interrupted while waiting can still name the holder).
func Wait(ctx context.Context, timeout time.Duration, try func() (*state.Lock, error)) (*state.Lock, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(timeout)
	for {
		l, err := try()
		var locked *state.LockedError
		if err == nil || !errors.As(err, &locked) {
			return l, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, err
		}
		t := time.NewTimer(min(PollInterval, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("waiting for the lock: %w", errors.Join(ctx.Err(), err))
		case <-t.C:
		}
	}
}

// NewToken returns a random lock token (32 hex digits).
func NewToken() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand.Read does not fail (Go 1.24+)
	}
	return hex.EncodeToString(b)
}

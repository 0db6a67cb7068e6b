package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/deskfleet/deskfleet/state"
)

// The fleet's lock, as every method of Session that writes a record takes it, and as a person clears it.

// lock takes the fleet's lock for command, waiting up to timeout. A holder whose process is known to
// be gone (same host, pid not running) cannot be using the lock: it is taken over, with a Notify; what
// that run left in flight is for Settle. Unlock removes exactly the stale lock read here: if another
// process took the fleet meanwhile, its lock stays and the second Lock names it.
func (s *Session) lock(ctx context.Context, fleet, command string, timeout time.Duration) (*state.Lock, error) {
	holder := s.Holder
	holder.Command, holder.Since = command, time.Now()
	lock, err := s.Store.Lock(ctx, fleet, holder, timeout)
	var stale *state.LockedError
	if !errors.As(err, &stale) || !stale.Stale {
		return lock, err
	}
	s.notify(fmt.Sprintf("taking over the stale lock of %s: that process is gone", stale.Holder))
	cur, err := s.Store.CurrentLock(ctx, fleet)
	if err != nil {
		return nil, err
	}
	if cur != nil && cur.Holder.ProcessGone() {
		if err := s.Store.Unlock(ctx, cur); err != nil {
			return nil, err
		}
	}
	return s.Store.Lock(ctx, fleet, holder, timeout)
}

func (s *Session) notify(msg string) {
	if s.Notify != nil {
		s.Notify(msg)
	}
}

// LiveLockError is Unlock's error for a lock whose holder may still run (its process is not known to
// be gone) when force is not given: nothing was removed.
type LiveLockError struct {
	Fleet  string
	Holder state.Holder
}

func (e *LiveLockError) Error() string {
	return fmt.Sprintf("fleet %s is locked by %s; not removed", e.Fleet, e.Holder)
}

// Unlock clears fleet's lock: a stale one (its process is gone), or any with force. It returns the
// holder removed (nil when the fleet was not locked) and whether it was stale. It removes exactly the
// lock it looked at: when another process took the fleet meanwhile, nothing is removed and the
// error is a *state.LockedError naming the new holder. A live holder without force is a
// *LiveLockError.
func (s *Session) Unlock(ctx context.Context, fleet string, force bool) (removed *state.Holder, stale bool, err error) {
	cur, err := s.Store.CurrentLock(ctx, fleet)
	if err != nil || cur == nil {
		return nil, false, err
	}
	stale = cur.Holder.ProcessGone()
	if !stale && !force {
		return nil, false, &LiveLockError{Fleet: fleet, Holder: cur.Holder}
	}
	if err := s.Store.Unlock(ctx, cur); err != nil {
		return nil, false, err
	}
	now, err := s.Store.CurrentLock(ctx, fleet)
	if err != nil {
		return nil, false, err
	}
	if now != nil && now.Token != cur.Token {
		return nil, false, &state.LockedError{Fleet: fleet, Holder: now.Holder, Stale: now.Holder.ProcessGone()}
	}
	return &cur.Holder, stale, nil
}

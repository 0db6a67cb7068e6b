package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/deskfleet/deskfleet/state"
)

// The pull-request claim of a fleet: from the plan of a pull (merge) request to its merge or close,
// the fleet is that request's, so that the plan a reviewer approved is the one that merges. Another
// request's claim of the same fleet is refused naming the holder; an apply is refused unless it is
// the claiming request's (or there is no claim); the claiming request's apply releases it, and so
// does its close or a person.
//
// Storage. A claim outlives the process that took it (a CI job), so it cannot be the fleet's lock:
// a PostgreSQL store's lock is a database session, released when the job ends. It is a record of its
// own in the state store, under ClaimKey(fleet), written under that key's lock (taken for the
// moment of the write, so two jobs claiming at once are ordered): its journal (Record.Runs) is the
// history of the fleet's claims, newest last, and the newest entry with outcome "claimed" is the
// current claim. The fleet's own record is not touched, so taking a claim does not make a saved plan
// of the fleet stale. Entries: ID "pr-N" (the request's number), User the request's author,
// GitCommit its head commit, Host and Command where and how the claim was taken, StartedAt when, EndedAt when it
// ended and Outcome how: claimed (current), applied, released, broken (by a person).

// ClaimSuffix ends the key under which a fleet's claim is stored (ClaimKey).
const ClaimSuffix = " (pull-request claim)"

// ClaimKey is the state key of fleet's claim: the fleet's name and ClaimSuffix. `deskfleet state
// list` shows it next to the fleet; `deskfleet state history 'lab (pull-request claim)'` its journal.
func ClaimKey(fleet string) string { return fleet + ClaimSuffix }

// Outcomes of a claim's journal entry.
const (
	ClaimHeld     = "claimed"
	ClaimApplied  = "applied"
	ClaimReleased = "released"
	ClaimBroken   = "broken"
)

// PullRequest names a pull (merge) request: its number, head commit and author.
type PullRequest struct {
	Number int
	Head   string
	Author string
}

// String is "pull request #12 (ana, abc1234)": the head commit shortened to 7 characters; the
// parenthesis lists what is known.
func (p PullRequest) String() string {
	var who []string
	if p.Author != "" {
		who = append(who, p.Author)
	}
	if p.Head != "" {
		who = append(who, p.Head[:min(7, len(p.Head))])
	}
	s := fmt.Sprintf("pull request #%d", p.Number)
	if len(who) > 0 {
		s += " (" + strings.Join(who, ", ") + ")"
	}
	return s
}

// Claim is a fleet's current claim.
type Claim struct {
	Fleet string
	PR    PullRequest
	// Since is when the request first claimed the fleet (a refresh keeps it); By the host that took
	// or last refreshed it (a CI runner).
	Since time.Time
	By    string
}

// ClaimedError is the error of a claim, a release or an apply refused because another pull request
// claims the fleet.
type ClaimedError struct {
	Claim Claim
}

func (e *ClaimedError) Error() string {
	return fmt.Sprintf("fleet %s is claimed by %s since %s", e.Claim.Fleet, e.Claim.PR,
		e.Claim.Since.UTC().Format("2006-01-02 15:04 UTC"))
}

// Hint says what ends the claim.
func (e *ClaimedError) Hint() string {
	return fmt.Sprintf("its reviewed plan applies when it merges, which releases the claim, as closing it does; "+
		"to break it by hand: `deskfleet unlock --fleet %s --pr %d`", e.Claim.Fleet, e.Claim.PR.Number)
}

// ErrNoPullRequest is the error of a claim without a pull-request number.
var ErrNoPullRequest = errors.New("a claim needs the pull request's number (1 or more)")

// CurrentClaim returns fleet's claim, nil when the fleet is not claimed. It reads without a lock.
func (s *Session) CurrentClaim(ctx context.Context, fleet string) (*Claim, error) {
	rec, err := s.claimRecord(ctx, fleet)
	if err != nil {
		return nil, err
	}
	return currentClaim(fleet, rec), nil
}

// Claim takes fleet's claim for pr, or refreshes it (its head commit and author) when pr already
// holds it; fresh reports a new claim. Another request's claim is a *ClaimedError naming it; nothing
// is changed then. timeout is how long to wait for the claim's lock (held only while a claim is
// written).
func (s *Session) Claim(ctx context.Context, fleet string, pr PullRequest, timeout time.Duration) (c *Claim, fresh bool, err error) {
	if pr.Number < 1 {
		return nil, false, ErrNoPullRequest
	}
	err = s.writeClaim(ctx, fleet, "deskfleet lock", timeout, func(rec *state.Record, cur *Claim) (bool, error) {
		if cur != nil && cur.PR.Number != pr.Number {
			return false, &ClaimedError{Claim: *cur}
		}
		now := time.Now().UTC()
		entry := state.Run{ID: "pr-" + strconv.Itoa(pr.Number), User: pr.Author, GitCommit: pr.Head,
			Host: s.Holder.Host, Command: "deskfleet lock", StartedAt: now, Outcome: ClaimHeld}
		if fresh = cur == nil; fresh {
			rec.Runs = append(rec.Runs, entry)
		} else {
			entry.StartedAt = cur.Since
			rec.Runs[len(rec.Runs)-1] = entry
		}
		c = currentClaim(fleet, rec)
		return true, nil
	})
	return c, fresh, err
}

// Release ends fleet's claim and returns it (nil when the fleet was not claimed: nothing to do).
// With pr > 0 it ends only pr's claim: another request's is a *ClaimedError unless force. With
// pr == 0 it needs force (a person breaking whatever claim there is). The journal entry ends with
// outcome released (pr's own) or broken (force over another's).
func (s *Session) Release(ctx context.Context, fleet string, pr int, force bool, timeout time.Duration) (*Claim, error) {
	if pr < 1 && !force {
		return nil, errors.New("name the pull request whose claim ends (--pr N), or break any claim with --force")
	}
	outcome := ClaimReleased
	return s.endClaim(ctx, fleet, "deskfleet unlock", timeout, func(cur *Claim) (string, error) {
		if cur.PR.Number != pr {
			if !force {
				return "", &ClaimedError{Claim: *cur}
			}
			outcome = ClaimBroken
		}
		return outcome, nil
	})
}

// checkClaim is Apply's check: an apply of fleet goes ahead when nobody claims it, or when it is the
// apply of the claiming request (pr). Any other claim is a *ClaimedError.
func (s *Session) checkClaim(ctx context.Context, fleet string, pr int) error {
	cur, err := s.CurrentClaim(ctx, fleet)
	if err != nil {
		return err
	}
	if cur != nil && cur.PR.Number != pr {
		return &ClaimedError{Claim: *cur}
	}
	return nil
}

// claimApplied ends pr's claim of fleet after its apply succeeded (outcome applied); a claim that is
// not pr's is left as it is.
func (s *Session) claimApplied(ctx context.Context, fleet string, pr int) error {
	_, err := s.endClaim(ctx, fleet, "deskfleet apply", 0, func(cur *Claim) (string, error) {
		if cur.PR.Number != pr {
			return "", nil
		}
		return ClaimApplied, nil
	})
	return err
}

// endClaim ends the current claim with the outcome decide returns ("" leaves it), under the claim's
// lock. It returns the claim ended, nil when there was none or it was left.
func (s *Session) endClaim(ctx context.Context, fleet, command string, timeout time.Duration,
	decide func(cur *Claim) (string, error)) (*Claim, error) {
	var ended *Claim
	err := s.writeClaim(ctx, fleet, command, timeout, func(rec *state.Record, cur *Claim) (bool, error) {
		if cur == nil {
			return false, nil
		}
		outcome, err := decide(cur)
		if err != nil || outcome == "" {
			return false, err
		}
		last := &rec.Runs[len(rec.Runs)-1]
		last.Outcome, last.EndedAt = outcome, time.Now().UTC()
		ended = cur
		return true, nil
	})
	return ended, err
}

// errNothingToWrite ends writeClaim's Update without storing the record.
var errNothingToWrite = errors.New("nothing to write")

// writeClaim runs fn on the claim record of fleet and its current claim under the claim key's lock,
// and stores the record when fn returns true (and no error).
func (s *Session) writeClaim(ctx context.Context, fleet, command string, timeout time.Duration,
	fn func(rec *state.Record, cur *Claim) (write bool, err error)) error {
	if strings.HasSuffix(fleet, ClaimSuffix) {
		return fmt.Errorf("%q is the key of a claim, not a fleet", fleet)
	}
	lock, err := s.lock(ctx, ClaimKey(fleet), command, timeout)
	if err != nil {
		return err
	}
	defer s.Store.Unlock(context.WithoutCancel(ctx), lock) //nolint:errcheck // best effort, like Apply's
	err = s.Store.Update(ctx, lock, func(rec *state.Record) error {
		if err := checkClaimRecord(fleet, rec); err != nil {
			return err
		}
		rec.Fleet = ClaimKey(fleet)
		write, err := fn(rec, currentClaim(fleet, rec))
		if err == nil && !write {
			err = errNothingToWrite
		}
		return err
	})
	if errors.Is(err, errNothingToWrite) {
		return nil
	}
	return err
}

// claimRecord reads fleet's claim record.
func (s *Session) claimRecord(ctx context.Context, fleet string) (*state.Record, error) {
	rec, err := s.Store.Read(ctx, ClaimKey(fleet))
	if err != nil {
		return nil, fmt.Errorf("reading the claim of fleet %s: %w", fleet, err)
	}
	return rec, checkClaimRecord(fleet, rec)
}

// checkClaimRecord refuses a record under fleet's claim key that is a fleet's own (it manages
// something): a fleet named like a claim, whose record a claim must not overwrite.
func checkClaimRecord(fleet string, rec *state.Record) error {
	if len(rec.Desktops)+len(rec.Accounts)+len(rec.Intents) > 0 {
		return fmt.Errorf("the state holds a fleet named %q, the key of fleet %s's pull-request claim: rename that fleet", ClaimKey(fleet), fleet)
	}
	return nil
}

// currentClaim is the claim rec records: its newest journal entry when that entry holds it.
func currentClaim(fleet string, rec *state.Record) *Claim {
	if len(rec.Runs) == 0 {
		return nil
	}
	last := rec.Runs[len(rec.Runs)-1]
	n, err := strconv.Atoi(strings.TrimPrefix(last.ID, "pr-"))
	if last.Outcome != ClaimHeld || !strings.HasPrefix(last.ID, "pr-") || err != nil {
		return nil
	}
	return &Claim{Fleet: fleet, PR: PullRequest{Number: n, Head: last.GitCommit, Author: last.User},
		Since: last.StartedAt, By: last.Host}
}

package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/deskfleet/deskfleet/state"
)

// Owners says which fleet of a state store manages each desktop (by vmId) and sub-account (by
// email): within one store an object belongs to one fleet. The planner reads it to refuse adopting
// what another fleet manages (Options.Owners); Adopt refuses it too.
type Owners struct {
	// Desktops maps a vmId to its fleet and the name it has there; Accounts an email to its fleet.
	Desktops map[string]Owner
	Accounts map[string]Owner
}

// Owner is the fleet that manages an object, and the object's name in that fleet's record.
type Owner struct {
	Fleet string
	Name  string
}

// Desktop returns the fleet managing the desktop with this id, "" when none does.
func (o *Owners) Desktop(vmID string) Owner {
	if o == nil {
		return Owner{}
	}
	return o.Desktops[vmID]
}

// Account returns the fleet managing the account with this email, "" when none does.
func (o *Owners) Account(email string) Owner {
	if o == nil {
		return Owner{}
	}
	return o.Accounts[email]
}

// owners builds the owner index of every fleet of the store but except, in one pass: one Read per
// fleet, whatever the number of desktops.
func (s *Session) owners(ctx context.Context, except string) (*Owners, error) {
	fleets, err := s.Store.Fleets(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing the fleets of the state: %w", err)
	}
	o := &Owners{Desktops: map[string]Owner{}, Accounts: map[string]Owner{}}
	sort.Strings(fleets)
	for _, f := range fleets {
		if f == except {
			continue
		}
		rec, err := s.Store.Read(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("reading the state of fleet %s: %w", f, err)
		}
		for id, d := range rec.Desktops {
			if _, ok := o.Desktops[id]; !ok {
				o.Desktops[id] = Owner{Fleet: f, Name: d.Name}
			}
		}
		for e := range rec.Accounts {
			if _, ok := o.Accounts[e]; !ok {
				o.Accounts[e] = Owner{Fleet: f, Name: e}
			}
		}
	}
	return o, nil
}

// OwnedError is Adopt's error when some of the objects to adopt are managed by another fleet of the
// same state: nothing was recorded.
type OwnedError struct {
	Fleet string
	// Owned lists each conflict: "desktop ws-01 (i-3f2a) is managed by fleet lab".
	Owned []OwnedObject
}

// OwnedObject is an object another fleet manages.
type OwnedObject struct {
	Object ObjectKind
	Name   string
	ID     string
	Owner  string
}

func (o OwnedObject) String() string {
	id := ""
	if o.ID != "" && o.ID != o.Name {
		id = " (" + o.ID + ")"
	}
	return fmt.Sprintf("%s %s%s is managed by fleet %s", o.Object, o.Name, id, o.Owner)
}

func (e *OwnedError) Error() string {
	first := e.Owned[0].String()
	if len(e.Owned) == 1 {
		return fmt.Sprintf("cannot adopt into fleet %s: %s (an object belongs to one fleet)", e.Fleet, first)
	}
	more := "1 more object is managed by another fleet"
	if n := len(e.Owned) - 1; n > 1 {
		more = fmt.Sprintf("%d more objects are managed by other fleets", n)
	}
	return fmt.Sprintf("cannot adopt into fleet %s: %s, and %s (an object belongs to one fleet)", e.Fleet, first, more)
}

// Hint says how to move an object from one fleet to another, or to leave it out.
func (e *OwnedError) Hint() string {
	o := e.Owned[0]
	return fmt.Sprintf("leave it out (--name-prefix, --label, --site), or to move it here stop managing it there first: `deskfleet state forget --fleet %s %s`",
		o.Owner, o.Name)
}

// ErrNotManaged is wrapped by Forget's error for a name the fleet's record does not hold.
var ErrNotManaged = errors.New("not managed by the fleet")

// Forgotten is what Forget removed from the record.
type Forgotten struct {
	Fleet    string
	Desktops []state.Desktop
	Accounts []state.Account
	RunID    string
}

// Forget stops fleet managing the named desktops (by name) and sub-accounts (by email): their
// entries leave the state record, under the fleet's lock (a *state.LockedError names another holder;
// a stale one is taken over), and nothing live is changed or deleted. The change is journaled as a
// run of command "deskfleet state forget" with one step per object. A name the record does not hold
// is an error wrapping ErrNotManaged, and nothing is changed.
func (s *Session) Forget(ctx context.Context, fleet string, names []string, lockTimeout time.Duration) (*Forgotten, error) {
	if len(names) == 0 {
		return nil, errors.New("forget: no desktop or account named")
	}
	lock, err := s.lock(ctx, fleet, "deskfleet state forget", lockTimeout)
	if err != nil {
		return nil, err
	}
	defer s.Store.Unlock(context.WithoutCancel(ctx), lock) //nolint:errcheck // the update's outcome is what matters
	now := time.Now().UTC()
	out := &Forgotten{Fleet: fleet, RunID: "forget-" + now.Format("20060102T150405.000000000Z")}
	err = s.Store.Update(ctx, lock, func(rec *state.Record) error {
		out.Desktops, out.Accounts = nil, nil
		var missing []string
		run := state.Run{ID: out.RunID, User: s.Holder.User, Host: s.Holder.Host, Command: "deskfleet state forget",
			StartedAt: now, EndedAt: now, Outcome: "done"}
		seen := map[string]bool{}
		for _, n := range names {
			if seen[n] {
				continue
			}
			seen[n] = true
			ids := rec.DesktopsNamed(n) // sorted
			if _, ok := rec.Accounts[n]; !ok && len(ids) == 0 {
				missing = append(missing, n)
				continue
			}
			for _, id := range ids {
				out.Desktops = append(out.Desktops, rec.Desktops[id])
				rec.DeleteDesktop(id)
				run.Steps = append(run.Steps, state.StepOutcome{Step: len(run.Steps) + 1, Action: "Forget",
					Targets: n + " (" + id + ")", Status: "done"})
			}
			if a, ok := rec.Accounts[n]; ok {
				out.Accounts = append(out.Accounts, a)
				rec.DeleteAccount(n)
				run.Steps = append(run.Steps, state.StepOutcome{Step: len(run.Steps) + 1, Action: "Forget",
					Targets: n, Status: "done"})
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("%s: %w %s", strings.Join(missing, ", "), ErrNotManaged, fleet)
		}
		rec.AppendRun(run)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

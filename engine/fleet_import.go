package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/deskfleet/deskfleet/state"
)

// Import reads every site's live desktops and sub-accounts and describes those opt keeps as a spec
// (see the package function Import). It makes no mutating call and takes no lock.
func (s *Session) Import(ctx context.Context, opt ImportOptions) (*Imported, error) {
	cat, err := ReadCatalog(ctx, s.Client, nil)
	if err != nil {
		return nil, err
	}
	sites := make([]string, 0, len(cat.Sites))
	for _, site := range cat.Sites {
		sites = append(sites, site.SiteID)
	}
	snap, err := Observe(ctx, s.Client, ObserveOptions{SiteIDs: sites, Parallelism: s.Parallelism})
	if err != nil {
		return nil, err
	}
	return Import(cat, snap, opt)
}

// Adopt records what Import described in fleet's state record, protected, under the fleet's lock
// (a *state.LockedError names another holder; a stale one is taken over). When another fleet of the
// store manages some of the desktops or accounts, nothing is recorded: an *OwnedError names them: each desktop with its
// label, its binding (when the spec manages bindings) and its image only when import was sure of it.
// A desktop already recorded keeps the image it has.
func (s *Session) Adopt(ctx context.Context, fleet string, im *Imported, lockTimeout time.Duration) error {
	lock, err := s.lock(ctx, fleet, "deskfleet import --adopt", lockTimeout)
	if err != nil {
		return err
	}
	defer s.Store.Unlock(context.WithoutCancel(ctx), lock) //nolint:errcheck // the update's outcome is what matters
	if err := s.checkOwners(ctx, fleet, im); err != nil {
		return err
	}
	now := time.Now().UTC()
	return s.Store.Update(ctx, lock, func(rec *state.Record) error {
		if rec.Fleet == "" {
			rec.Fleet = fleet
		}
		for _, d := range im.Desktops {
			sd := rec.Desktops[d.ID]
			sd.VmID, sd.Name, sd.Protect, sd.AppliedAt = d.ID, d.Name, true, now
			sd.Label = new(d.Label)
			if im.ImageSure[d.ID] {
				sd.ImageID = im.Images[d.ID].ID
			}
			if im.BindingsSet {
				sd.Account = new(d.AccountEmail)
			}
			rec.PutDesktop(sd)
		}
		for _, a := range im.Accounts {
			sa := rec.Accounts[a.Email]
			sa.Email, sa.AccountID, sa.Name = a.Email, a.AccountID, a.Name
			if a.Remark != "" {
				sa.Remark = new(a.Remark)
			}
			rec.PutAccount(sa)
		}
		return nil
	})
}

// checkOwners returns an *OwnedError when another fleet of the store manages some of im's desktops
// or accounts.
func (s *Session) checkOwners(ctx context.Context, fleet string, im *Imported) error {
	owners, err := s.owners(ctx, fleet)
	if err != nil {
		return err
	}
	e := &OwnedError{Fleet: fleet}
	for _, d := range im.Desktops {
		if o := owners.Desktop(d.ID); o.Fleet != "" {
			e.Owned = append(e.Owned, OwnedObject{Object: ObjectDesktop, Name: d.Name, ID: d.ID, Owner: o.Fleet})
		}
	}
	for _, a := range im.Accounts {
		if o := owners.Account(a.Email); o.Fleet != "" {
			e.Owned = append(e.Owned, OwnedObject{Object: ObjectAccount, Name: a.Email, Owner: o.Fleet})
		}
	}
	if len(e.Owned) > 0 {
		return e
	}
	return nil
}

// SettledByHand is what SettleIntent recorded.
type SettledByHand struct {
	Fleet  string
	Intent state.Intent
}

// SettleIntent records a person's answer about an open intent Settle could not settle (done: the call
// took effect), in whichever fleet of the store holds it, under that fleet's lock (a stale one is
// taken over). An unknown id is an error naming it; a settled one wraps ErrIntentNotOpen.
func (s *Session) SettleIntent(ctx context.Context, id string, done bool) (*SettledByHand, error) {
	fleets, err := s.Store.Fleets(ctx)
	if err != nil {
		return nil, err
	}
	for _, fleet := range fleets {
		rec, err := s.Store.Read(ctx, fleet)
		if err != nil {
			return nil, err
		}
		for _, in := range rec.Intents {
			if in.ID != id {
				continue
			}
			lock, err := s.lock(ctx, fleet, "deskfleet state settle", 0)
			if err != nil {
				return nil, err
			}
			defer s.Store.Unlock(context.WithoutCancel(ctx), lock) //nolint:errcheck // released at exit anyway
			if err := ResolveIntent(ctx, s.Store, lock, id, done); err != nil {
				return nil, err
			}
			return &SettledByHand{Fleet: fleet, Intent: in}, nil
		}
	}
	return nil, fmt.Errorf("no intent %s in the state", id)
}

// History returns fleet's record (its journal of applies in Runs, oldest first); a fleet with no
// record reads as an empty one (Serial 0).
func (s *Session) History(ctx context.Context, fleet string) (*state.Record, error) {
	return s.Store.Read(ctx, fleet)
}

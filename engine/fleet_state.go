package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/deskfleet/deskfleet/spec"
	"github.com/deskfleet/deskfleet/state"
)

// FleetState is one fleet as the state store holds it: its record and the holder of its lock (nil
// when free).
type FleetState struct {
	Name   string
	Record *state.Record
	Lock   *state.Holder
}

// UnknownFleetError is the error for a fleet the state store holds no record (and no lock) of:
// Location names the store, Fleets are the fleets it holds.
type UnknownFleetError struct {
	Fleet, Location string
	Fleets          []string
}

func (e *UnknownFleetError) Error() string {
	if len(e.Fleets) == 0 {
		return fmt.Sprintf("no fleet %s in %s: it holds no fleet yet", e.Fleet, e.Location)
	}
	return fmt.Sprintf("no fleet %s in %s; fleets: %s", e.Fleet, e.Location, strings.Join(e.Fleets, ", "))
}

// Hint says where the fleet may be.
func (e *UnknownFleetError) Hint() string {
	if len(e.Fleets) == 0 {
		return "a fleet is recorded by its first apply; if it was applied elsewhere, point --state (or DESKFLEET_STATE) at that state"
	}
	if s := spec.Suggest(e.Fleet, e.Fleets); s != "" {
		return "did you mean " + s + "?"
	}
	return "`deskfleet state list` lists them"
}

// unknownFleet is the *UnknownFleetError of fleet, listing the store's fleets.
func (s *Session) unknownFleet(ctx context.Context, fleet, location string) error {
	fleets, err := s.Store.Fleets(ctx)
	if err != nil {
		return err
	}
	return &UnknownFleetError{Fleet: fleet, Location: location, Fleets: fleets}
}

// States reads the named fleets' records and locks (every fleet of the store when names is empty).
// A named fleet with neither a record nor a lock is an *UnknownFleetError (location names the store
// in its message). It takes no lock.
func (s *Session) States(ctx context.Context, names []string, location string) ([]FleetState, error) {
	named := len(names) > 0
	if !named {
		var err error
		if names, err = s.Store.Fleets(ctx); err != nil {
			return nil, err
		}
	}
	out := make([]FleetState, len(names))
	for i, name := range names {
		rec, err := s.History(ctx, name)
		if err != nil {
			return nil, err
		}
		out[i] = FleetState{Name: name, Record: rec}
		l, err := s.Store.CurrentLock(ctx, name)
		if err != nil {
			return nil, err
		}
		if l != nil {
			out[i].Lock = &l.Holder
		}
		if named && rec.Serial == 0 && l == nil {
			return nil, s.unknownFleet(ctx, name, location)
		}
	}
	return out, nil
}

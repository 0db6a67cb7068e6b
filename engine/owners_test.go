package engine

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/memory"
)

// seedFleet records desktops (name -> vmId) and accounts in fleet's record.
func seedFleet(t *testing.T, s *Session, fleet string, desktops map[string]string, accounts ...string) {
	t.Helper()
	ctx := context.Background()
	l, err := s.lock(ctx, fleet, "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Store.Unlock(ctx, l) //nolint:errcheck
	err = s.Store.Update(ctx, l, func(rec *state.Record) error {
		rec.Fleet = fleet
		rec.Desktops, rec.Accounts = map[string]state.Desktop{}, map[string]state.Account{}
		for name, id := range desktops {
			rec.Desktops[id] = state.Desktop{VmID: id, Name: name, Protect: true}
		}
		for _, e := range accounts {
			rec.Accounts[e] = state.Account{Email: e, AccountID: "acc-" + e}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestOwnersAndAdopt: the owner index has every other fleet's objects; Adopt refuses, recording
// nothing, what another fleet manages.
func TestOwnersAndAdopt(t *testing.T) {
	ctx := context.Background()
	s := &Session{Store: memory.New(), Holder: state.Holder{User: "test", Host: "h", PID: 1}}
	seedFleet(t, s, "lab", map[string]string{"ws-01": "vm-1"}, "alice@example.com")
	seedFleet(t, s, "lab2", map[string]string{"ws-02": "vm-2"})
	o, err := s.owners(ctx, "lab2")
	if err != nil {
		t.Fatal(err)
	}
	if got := o.Desktop("vm-1"); got != (Owner{Fleet: "lab", Name: "ws-01"}) {
		t.Errorf("vm-1: want lab's ws-01, got %+v", got)
	}
	if got := o.Desktop("vm-2"); got.Fleet != "" {
		t.Errorf("the fleet asked about is left out of its own index, got %+v", got)
	}
	if got := o.Account("alice@example.com"); got.Fleet != "lab" {
		t.Errorf("alice: want lab, got %+v", got)
	}

	cases := []struct {
		name, reason string
		im           *Imported
		wantErr      string
	}{
		{"owned desktop", "a desktop lab manages is refused, naming lab and the way out",
			&Imported{Desktops: []provider.Desktop{{ID: "vm-1", Name: "ws-01"}}}, "desktop ws-01 (vm-1) is managed by fleet lab"},
		{"owned account", "so is an account",
			&Imported{Accounts: []provider.SubAccount{{Email: "alice@example.com"}}}, "account alice@example.com is managed by fleet lab"},
		{"free", "a desktop no other fleet manages is adopted",
			&Imported{Desktops: []provider.Desktop{{ID: "vm-3", Name: "ws-03"}}}, ""},
		{"own", "what the fleet itself manages is adopted again",
			&Imported{Desktops: []provider.Desktop{{ID: "vm-2", Name: "ws-02"}}}, ""},
	}
	for _, c := range cases {
		before, _ := s.Store.Read(ctx, "lab2")
		err := s.Adopt(ctx, "lab2", c.im, 0)
		after, _ := s.Store.Read(ctx, "lab2")
		var oe *OwnedError
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%s: %s: %v", c.name, c.reason, err)
		case c.wantErr != "" && (!errors.As(err, &oe) || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%s: %s: want an *OwnedError with %q, got %v", c.name, c.reason, c.wantErr, err)
		case c.wantErr != "" && after.Serial != before.Serial:
			t.Errorf("%s: %s: the record changed", c.name, c.reason)
		case c.wantErr != "" && !strings.Contains(oe.Hint(), "deskfleet state forget --fleet lab "):
			t.Errorf("%s: the hint must offer state forget, got %q", c.name, oe.Hint())
		}
	}
}

// TestForget: Forget removes desktops by name and accounts by email from the record, journaled; a
// name the fleet does not hold fails and changes nothing.
func TestForget(t *testing.T) {
	ctx := context.Background()
	s := &Session{Store: memory.New(), Holder: state.Holder{User: "ana", Host: "h", PID: 1}}
	seedFleet(t, s, "lab", map[string]string{"ws-01": "vm-1", "ws-02": "vm-2"}, "alice@example.com")

	cases := []struct {
		name, reason string
		forget       []string
		wantErr      error
		wantLeft     int // desktops left
		wantAccounts int
	}{
		{"unknown", "a name the fleet does not manage: nothing changes", []string{"ws-01", "nope"}, ErrNotManaged, 2, 1},
		{"desktop", "a desktop by name", []string{"ws-01"}, nil, 1, 1},
		{"account", "an account by email, with a desktop", []string{"alice@example.com", "ws-02", "ws-02"}, nil, 0, 0},
	}
	runs := 0
	for _, c := range cases {
		got, err := s.Forget(ctx, "lab", c.forget, 0)
		if !errors.Is(err, c.wantErr) || (c.wantErr == nil) != (err == nil) {
			t.Fatalf("%s: %s: want %v, got %v", c.name, c.reason, c.wantErr, err)
		}
		rec, _ := s.Store.Read(ctx, "lab")
		if len(rec.Desktops) != c.wantLeft || len(rec.Accounts) != c.wantAccounts {
			t.Errorf("%s: %s: want %d desktops and %d accounts left, got %d and %d", c.name, c.reason,
				c.wantLeft, c.wantAccounts, len(rec.Desktops), len(rec.Accounts))
		}
		if err == nil {
			runs++
			last := rec.Runs[len(rec.Runs)-1]
			if last.Command != "deskfleet state forget" || last.User != "ana" || last.Outcome != "done" ||
				len(last.Steps) != len(got.Desktops)+len(got.Accounts) {
				t.Errorf("%s: the journal entry is %+v", c.name, last)
			}
		}
		if len(rec.Runs) != runs {
			t.Errorf("%s: want %d runs journaled, got %d", c.name, runs, len(rec.Runs))
		}
	}
}

// TestCheckTargets: a --target glob must match a desktop or account of the spec or the record.
func TestCheckTargets(t *testing.T) {
	d := &Desired{Fleet: "lab", Desktops: []DesiredDesktop{{Name: "render"}, {Name: "cad", RenamedFrom: "cad-old"}},
		Accounts: []DesiredAccount{{Email: "alice@example.com"}}}
	rec := &state.Record{Desktops: map[string]state.Desktop{"vm-9": {VmID: "vm-9", Name: "gone-ws"}},
		Accounts: map[string]state.Account{"bob@example.com": {Email: "bob@example.com"}}}
	cases := []struct {
		name, reason string
		targets      []string
		unmatched    []string
	}{
		{"none", "no target: the whole fleet", nil, nil},
		{"spec desktop", "a desktop of the spec", []string{"rend*"}, nil},
		{"spec account", "an account of the spec, by email", []string{"alice@*"}, nil},
		{"record only", "a desktop only the record has (removed from the spec: its deletion)", []string{"gone-*"}, nil},
		{"record account", "an account only the record has", []string{"bob@example.com"}, nil},
		{"renamedFrom", "the old name of a rename", []string{"cad-old"}, nil},
		{"nomatch", "a glob that matches nothing", []string{"nomatch*"}, []string{"nomatch*"}},
		{"some", "each glob must match: the one that does not is named", []string{"render", "x", "[bad"}, []string{"x", "[bad"}},
	}
	for _, c := range cases {
		err := checkTargets(d, rec, c.targets)
		var te *TargetError
		if c.unmatched == nil {
			if err != nil {
				t.Errorf("%s: %s: %v", c.name, c.reason, err)
			}
			continue
		}
		if !errors.As(err, &te) || strings.Join(te.Unmatched, "|") != strings.Join(c.unmatched, "|") {
			t.Errorf("%s: %s: want unmatched %v, got %v", c.name, c.reason, c.unmatched, err)
			continue
		}
		if !strings.Contains(te.Error(), "of fleet lab") || !strings.Contains(te.Hint(), "render") {
			t.Errorf("%s: the message must name the fleet and the hint its names: %q / %q", c.name, te.Error(), te.Hint())
		}
	}
}

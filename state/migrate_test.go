package state_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/memory"
)

// emptyMaps is a store whose Read gives empty maps and slices for nil ones, as a store decoding into
// made collections would.
type emptyMaps struct{ state.Store }

func (s emptyMaps) Read(ctx context.Context, fleet string) (*state.Record, error) {
	r, err := s.Store.Read(ctx, fleet)
	if err == nil {
		if r.Desktops == nil {
			r.Desktops = map[string]state.Desktop{}
		}
		if r.Accounts == nil {
			r.Accounts = map[string]state.Account{}
		}
		if r.Intents == nil {
			r.Intents = []state.Intent{}
		}
		if r.Runs == nil {
			r.Runs = []state.Run{}
		}
	}
	return r, err
}

// lossy is a store that loses the journal on the way back.
type lossy struct{ state.Store }

func (s lossy) Read(ctx context.Context, fleet string) (*state.Record, error) {
	r, err := s.Store.Read(ctx, fleet)
	if err == nil {
		r.Runs = nil
	}
	return r, err
}

func TestMigrate(t *testing.T) {
	const fleet = "studio"
	me := state.Holder{User: "ana", Host: "build-7", PID: os.Getpid(), Command: "deskfleet state migrate"}
	other := state.Holder{User: "bo", Host: "elsewhere", PID: 1, Command: "deskfleet apply"}
	label := "render"
	start := time.Date(2026, 11, 26, 9, 0, 1, 0, time.FixedZone("CET", 3600))
	full := func(r *state.Record) error {
		r.Desktops = map[string]state.Desktop{"vm-1": {VmID: "vm-1", Name: "design_001", Label: &label, AppliedAt: start}}
		r.Accounts = map[string]state.Account{"bob@example.com": {Email: "bob@example.com", AccountID: "acc-1"}}
		r.Intents = []state.Intent{{ID: "run-1/1", RunID: "run-1", Step: 1, Action: "CreateVm",
			Status: state.IntentSent, Targets: []string{"design_001"}, StartedAt: start}}
		r.Runs = []state.Run{{ID: "run-1", User: "ana", StartedAt: start, Outcome: "partial",
			Steps: []state.StepOutcome{{Step: 1, Action: "CreateVm", Targets: "design_001", Status: "failed"}}}}
		return nil
	}
	other2 := func(r *state.Record) error {
		r.Desktops = map[string]state.Desktop{"vm-9": {VmID: "vm-9", Name: "old"}}
		return nil
	}

	cases := []struct {
		name   string
		reason string
		src    []func(*state.Record) error // updates made to the source's record before the copy
		dst    []func(*state.Record) error // and to the target's
		lock   string                      // "src" or "dst": that store's lock is held by another
		force  bool
		wrap   func(state.Store) state.Store // the target as Migrate sees it
		want   error                         // nil, or the error Migrate returns (errors.Is / errors.As)
		serial int64                         // the copy's serial in the target
	}{
		{name: "new target", reason: "everything comes along, journal and open intents included; the target numbers its own serial",
			src: []func(*state.Record) error{full, full, full}, serial: 1},
		{name: "no source record", reason: "a fleet that was never applied in the source is an error, and nothing is written",
			want: state.ErrNoSourceRecord},
		{name: "target holds the fleet", reason: "a record in the target is not overwritten without force: it may be the newer one",
			src: []func(*state.Record) error{full}, dst: []func(*state.Record) error{other2, other2},
			want: &state.TargetExistsError{}},
		{name: "target holds the fleet, force", reason: "force overwrites it, and the target's serial goes on from its own",
			src: []func(*state.Record) error{full}, dst: []func(*state.Record) error{other2, other2}, force: true, serial: 3},
		{name: "source locked", reason: "an apply running on the source could change the record during the copy",
			src: []func(*state.Record) error{full}, lock: "src", want: &state.LockedError{}},
		{name: "target locked", reason: "an apply running on the target would write over the copy",
			src: []func(*state.Record) error{full}, lock: "dst", want: &state.LockedError{}},
		{name: "empty collections read back", reason: "a store giving {} for nil holds the same record: not a difference",
			src:  []func(*state.Record) error{func(r *state.Record) error { r.Runs = []state.Run{{ID: "run-1"}}; return nil }},
			wrap: func(s state.Store) state.Store { return emptyMaps{s} }, serial: 1},
		{name: "copy differs", reason: "a copy that does not read back as the source is reported, not trusted",
			src: []func(*state.Record) error{full}, wrap: func(s state.Store) state.Store { return lossy{s} },
			want: state.ErrCopyDiffers},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			src, dst := memory.New(), memory.New()
			apply := func(st state.Store, fns []func(*state.Record) error) {
				for _, fn := range fns {
					l, err := st.Lock(ctx, fleet, other, 0)
					if err != nil {
						t.Fatal(err)
					}
					if err := st.Update(ctx, l, fn); err != nil {
						t.Fatal(err)
					}
					if err := st.Unlock(ctx, l); err != nil {
						t.Fatal(err)
					}
				}
			}
			apply(src, tc.src)
			apply(dst, tc.dst)
			before, _ := dst.Read(ctx, fleet)
			switch tc.lock {
			case "src":
				_, _ = src.Lock(ctx, fleet, other, 0)
			case "dst":
				_, _ = dst.Lock(ctx, fleet, other, 0)
			}
			var target state.Store = dst
			if tc.wrap != nil {
				target = tc.wrap(dst)
			}
			srcBefore, _ := src.Read(ctx, fleet)

			got, err := state.Migrate(ctx, src, target, fleet, me, tc.force)

			if !matches(err, tc.want) {
				t.Fatalf("Migrate: error %v, want %T %v (%s)", err, tc.want, tc.want, tc.reason)
			}
			if srcAfter, _ := src.Read(ctx, fleet); srcAfter.Serial != srcBefore.Serial {
				t.Errorf("the source was written: serial %d -> %d (%s)", srcBefore.Serial, srcAfter.Serial, tc.reason)
			}
			for name, st := range map[string]state.Store{"source": src, "target": dst} {
				if l, _ := st.CurrentLock(ctx, fleet); l != nil && l.Holder.User == me.User {
					t.Errorf("the %s's lock is still held by Migrate (%s)", name, tc.reason)
				}
			}
			if tc.want != nil {
				if after, _ := dst.Read(ctx, fleet); after.Serial != before.Serial && !errors.Is(tc.want, state.ErrCopyDiffers) {
					t.Errorf("the target was written: serial %d -> %d (%s)", before.Serial, after.Serial, tc.reason)
				}
				return
			}
			if got.Serial != tc.serial {
				t.Errorf("copy's serial %d, want %d (%s)", got.Serial, tc.serial, tc.reason)
			}
			stored, _ := dst.Read(ctx, fleet)
			want, _ := src.Read(ctx, fleet)
			if len(stored.Desktops) != len(want.Desktops) || len(stored.Accounts) != len(want.Accounts) ||
				len(stored.Intents) != len(want.Intents) || len(stored.Runs) != len(want.Runs) {
				t.Errorf("target holds %d desktops, %d accounts, %d intents, %d runs; source %d, %d, %d, %d (%s)",
					len(stored.Desktops), len(stored.Accounts), len(stored.Intents), len(stored.Runs),
					len(want.Desktops), len(want.Accounts), len(want.Intents), len(want.Runs), tc.reason)
			}
			if d, ok := stored.Desktop("vm-1"); ok && (d.Label == nil || *d.Label != label || !d.AppliedAt.Equal(start)) {
				t.Errorf("desktop vm-1 came over as %+v (%s)", d, tc.reason)
			}
		})
	}
}

// matches reports whether err is want: both nil, errors.Is for a sentinel, errors.As for a pointer type.
func matches(err, want error) bool {
	switch w := want.(type) {
	case nil:
		return err == nil
	case *state.TargetExistsError:
		return errors.As(err, &w)
	case *state.LockedError:
		return errors.As(err, &w)
	default:
		return errors.Is(err, want)
	}
}

func TestTargetExistsError(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{
		{1, "the target already holds a record of it (serial 4, 1 desktop)"},
		{2, "the target already holds a record of it (serial 4, 2 desktops)"},
	} {
		if got := (&state.TargetExistsError{Fleet: "studio", Serial: 4, Desktops: tc.n}).Error(); got != tc.want {
			t.Errorf("%d desktops: %q, want %q", tc.n, got, tc.want)
		}
	}
}

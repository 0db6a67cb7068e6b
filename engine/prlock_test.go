package engine_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/bolt"
	"github.com/deskfleet/deskfleet/state/memory"
)

var (
	prAna = engine.PullRequest{Number: 12, Head: "abc1234def5678", Author: "ana"}
	prBo  = engine.PullRequest{Number: 15, Head: "9999999aaaaaaa", Author: "bo"}
)

// TestClaimSequence runs one fleet's claim through what CI and people do, step by step, on one store:
// each step's outcome (the claim after it, or the error naming the holder) is checked.
func TestClaimSequence(t *testing.T) {
	ctx := context.Background()
	s := &engine.Session{Store: memory.New(), Holder: state.Holder{User: "ci", Host: "runner-1", PID: 1}}
	type step struct {
		name, reason string
		do           func() (*engine.Claim, error)
		wantPR       int    // the fleet's claim after the step (0: none)
		wantHead     string // its head commit, when claimed
		wantErr      string // the error, "" none
	}
	claim := func(pr engine.PullRequest) func() (*engine.Claim, error) {
		return func() (*engine.Claim, error) { c, _, err := s.Claim(ctx, "lab", pr, 0); return c, err }
	}
	release := func(pr int, force bool) func() (*engine.Claim, error) {
		return func() (*engine.Claim, error) { return s.Release(ctx, "lab", pr, force, 0) }
	}
	moved := prAna
	moved.Head = "fedcba9876543"
	steps := []step{
		{"first plan claims", "a fleet nobody claims is taken by the first pull request that plans it",
			claim(prAna), 12, prAna.Head, ""},
		{"another request is refused", "a second pull request of the same fleet is refused, naming the first, its author and head",
			claim(prBo), 12, prAna.Head, "fleet lab is claimed by pull request #12 (ana, abc1234)"},
		{"a push refreshes", "the claiming request's next push refreshes the claim with its new head",
			claim(moved), 12, moved.Head, ""},
		{"another request cannot release it", "closing another pull request does not end this one's claim",
			release(15, false), 12, moved.Head, "claimed by pull request #12"},
		{"no number", "a release naming no pull request needs --force",
			release(0, false), 12, moved.Head, "--pr N"},
		{"its close releases it", "closing the claiming request ends the claim",
			release(12, false), 0, "", ""},
		{"releasing twice", "a released claim is released again without error: closing is idempotent",
			release(12, false), 0, "", ""},
		{"then the other claims", "once released, the other pull request plans and claims",
			claim(prBo), 15, prBo.Head, ""},
		{"a person breaks it", "a person breaks any claim with force",
			release(0, true), 0, "", ""},
		{"no number to claim", "a claim needs the pull request's number",
			claim(engine.PullRequest{Author: "x"}), 0, "", "number"},
	}
	for _, st := range steps {
		_, err := st.do()
		switch {
		case st.wantErr == "" && err != nil:
			t.Fatalf("%s: %s: %v", st.name, st.reason, err)
		case st.wantErr != "" && (err == nil || !strings.Contains(err.Error(), st.wantErr)):
			t.Fatalf("%s: %s: error %v, want one containing %q", st.name, st.reason, err, st.wantErr)
		}
		cur, err := s.CurrentClaim(ctx, "lab")
		if err != nil {
			t.Fatal(err)
		}
		got, head := 0, ""
		if cur != nil {
			got, head = cur.PR.Number, cur.PR.Head
		}
		if got != st.wantPR || head != st.wantHead {
			t.Fatalf("%s: %s: claim after it: #%d %q, want #%d %q", st.name, st.reason, got, head, st.wantPR, st.wantHead)
		}
	}
	// The journal of the claims: ana's (released), bo's (broken), in order; the refused and the
	// refreshing calls added no entry.
	rec, err := s.Store.Read(ctx, engine.ClaimKey("lab"))
	if err != nil {
		t.Fatal(err)
	}
	var journal []string
	for _, r := range rec.Runs {
		journal = append(journal, r.ID+" "+r.User+" "+r.Outcome)
	}
	if want := "pr-12 ana released|pr-15 bo broken"; strings.Join(journal, "|") != want {
		t.Errorf("claim journal %q, want %q", strings.Join(journal, "|"), want)
	}
	if fleets, _ := s.Store.Fleets(ctx); len(fleets) != 1 || fleets[0] != "lab (pull-request claim)" {
		t.Errorf("the store's keys are %q: the claim is stored under its own key, not the fleet's", fleets)
	}
}

// TestClaimOutlivesProcess: a claim is taken by one CI job and read by the next, so it must survive
// closing and reopening the store (unlike a lock, which a PostgreSQL store ties to a database
// session); no pid check ever reports it stale.
func TestClaimOutlivesProcess(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	open := func() *engine.Session {
		st, err := bolt.Open(path, bolt.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		// A pid that no process has on this host: a lock it held would be reported stale.
		return &engine.Session{Store: st, Holder: state.Holder{User: "ci", Host: "h", PID: 1 << 30}}
	}
	first := open()
	if _, fresh, err := first.Claim(ctx, "lab", prAna, 0); err != nil || !fresh {
		t.Fatalf("claim: fresh %v, %v", fresh, err)
	}
	first.Store.Close()
	second := open()
	_, _, err := second.Claim(ctx, "lab", prBo, 0)
	var claimed *engine.ClaimedError
	if !errors.As(err, &claimed) || claimed.Claim.PR.Number != 12 || claimed.Claim.By != "h" {
		t.Fatalf("a claim from an earlier process: %v, want a ClaimedError naming #12 taken on host h", err)
	}
	if !strings.Contains(claimed.Hint(), "deskfleet unlock --fleet lab --pr 12") {
		t.Errorf("the hint does not say how to break the claim: %s", claimed.Hint())
	}
}

// TestClaimKeyIsNotAFleet: a fleet record under a claim's key (a fleet named like a claim) is never
// overwritten by a claim, and a claim's key cannot itself be claimed.
func TestClaimKeyIsNotAFleet(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	s := &engine.Session{Store: st, Holder: state.Holder{User: "ci", Host: "h", PID: 1}}
	lock, err := st.Lock(ctx, engine.ClaimKey("lab"), s.Holder, 0)
	if err != nil {
		t.Fatal(err)
	}
	requireNoError(t, st.Update(ctx, lock, func(r *state.Record) error {
		r.Desktops = map[string]state.Desktop{"vm-1": {VmID: "vm-1", Name: "ws"}}
		return nil
	}))
	requireNoError(t, st.Unlock(ctx, lock))
	if _, _, err := s.Claim(ctx, "lab", prAna, 0); err == nil || !strings.Contains(err.Error(), "rename that fleet") {
		t.Errorf("claiming over a fleet's record: %v, want a refusal", err)
	}
	if rec, _ := st.Read(ctx, engine.ClaimKey("lab")); len(rec.Desktops) != 1 {
		t.Errorf("the fleet's record under the claim key was changed: %+v", rec)
	}
	if _, _, err := s.Claim(ctx, engine.ClaimKey("x"), prAna, 0); err == nil {
		t.Error("a claim of a claim's key was taken")
	}
}

// TestApplyChecksClaim: the engine, not the recipe, keeps a claimed fleet for its pull request. An
// apply of another request, or of none, is refused with nothing changed; the claiming request's apply
// goes ahead and ends the claim; taking a claim does not make a saved plan of the fleet stale (the
// claim is not the fleet's record).
func TestApplyChecksClaim(t *testing.T) {
	e := newFleetEnv(t)
	ctx := context.Background()
	sp := e.writeSpec(t, 2)
	p, err := e.sess.Plan(ctx, sp, engine.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	saved := e.roundTrip(t, p)
	if _, _, err := e.sess.Claim(ctx, "studio", prAna, 0); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, reason string
		pr           int
	}{
		{"no pull request", "an apply by hand of a claimed fleet is refused: the claiming request's reviewed plan goes next", 0},
		{"another pull request", "the merge of another request does not apply a fleet claimed by #12", 15},
	} {
		_, err := e.apply(t, engine.ApplyRequest{Saved: saved, PullRequest: tc.pr})
		var claimed *engine.ClaimedError
		if !errors.As(err, &claimed) || claimed.Claim.PR.Number != 12 {
			t.Errorf("%s: %s: %v, want a ClaimedError naming #12", tc.name, tc.reason, err)
		}
		if n := len(e.liveNames()); n != 0 {
			t.Fatalf("%s: a refused apply created %d desktops", tc.name, n)
		}
	}
	out, err := e.apply(t, engine.ApplyRequest{Saved: saved, PullRequest: 12})
	if err != nil || out.Result == nil {
		t.Fatalf("the claiming request's apply of its saved plan: %v", err)
	}
	if got := e.liveNames(); len(got) != 2 {
		t.Errorf("live after the apply: %v, want the 2 desktops of the spec", got)
	}
	if cur, err := e.sess.CurrentClaim(ctx, "studio"); err != nil || cur != nil {
		t.Errorf("after #12's apply the claim is %+v (%v), want none", cur, err)
	}
	rec, _ := e.sess.Store.Read(ctx, engine.ClaimKey("studio"))
	if n := len(rec.Runs); n != 1 || rec.Runs[0].Outcome != engine.ClaimApplied {
		t.Errorf("claim journal %+v, want one entry ending applied", rec.Runs)
	}
}

func requireNoError(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

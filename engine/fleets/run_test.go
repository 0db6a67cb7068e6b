package fleets

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/provider/gcw"
	"github.com/deskfleet/deskfleet/provider/sim"
	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/memory"
)

// newSession is an engine.Session on the emulator (tasks of 10ms) behind the real client, with an
// in-memory store.
func newSession(t *testing.T) *engine.Session {
	t.Helper()
	s, err := sim.New(sim.Options{Seed: 1, TaskDuration: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c, err := gcw.New(gcw.Config{Endpoint: srv.URL, AccessKeyID: "k", Secret: "s", Rate: -1})
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	return &engine.Session{Client: c, Store: st, Holder: state.Holder{User: "test", Host: "h", PID: 1}}
}

// threeFleets: lab (valid), bad (a spec error found offline) and nosite (a site the API does not have).
func threeFleets(t *testing.T) *Repo {
	root := writeTree(t, map[string]string{
		"lab/fleet.yaml": specYAML("lab"),
		"bad/fleet.yaml": "version: 1\nfleet: bad\nbogus: 1\n",
		"nosite/fleet.yaml": `version: 1
fleet: nosite
defaults: {site: 火星A, profile: win}
profiles:
  win: {product: {gpu: NVIDIA A5000, os: windows}, image: Windows10-公共镜像-图像处理型}
desktops:
  - {name: far, label: x}
`})
	r, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

type want struct {
	fleet string
	exit  Exit
}

func results(rep *Report) []want {
	var out []want
	for _, r := range rep.Fleets {
		out = append(out, want{r.Fleet, r.Exit})
	}
	return out
}

func TestRunnerPlan(t *testing.T) {
	ctx := context.Background()
	sess := newSession(t)
	repo := threeFleets(t)
	var before, after []string
	rn := &Runner{Session: sess, Before: func(f *Fleet) { before = append(before, f.Name()) },
		After: func(r *Result) { after = append(after, r.Fleet) }}
	rep := rn.Plan(ctx, repo, engine.PlanOptions{}, true)
	wantRes := []want{{"bad", ExitError}, {"lab", ExitChanges}, {"nosite", ExitError}}
	if got := results(rep); !slices.Equal(got, wantRes) {
		t.Fatalf("one fleet's failure must not stop the others: %v, want %v", got, wantRes)
	}
	if rep.Exit != ExitError || rep.Command != CommandPlan {
		t.Errorf("the run exits with the worst of its fleets': %v", rep.Exit)
	}
	if rep.Fleets[1].Plan == nil || rep.Fleets[1].Plan.Empty() {
		t.Error("lab's plan is kept in the report")
	}
	if len(rep.Fleets[0].Diagnostics) == 0 || len(rep.Fleets[2].Diagnostics) == 0 {
		t.Error("a spec error, offline or against the API's names, keeps its diagnostics for the report")
	}
	if !slices.Equal(before, []string{"bad", "lab", "nosite"}) || !slices.Equal(after, before) {
		t.Errorf("Before and After are called for each fleet that runs, in order: %v %v", before, after)
	}
	if rep := rn.Plan(ctx, repo, engine.PlanOptions{}, false); rep.Fleets[1].Exit != ExitOK {
		t.Error("without --detailed-exitcode a plan with changes is 0")
	}
}

func TestRunnerApplyThenNoChanges(t *testing.T) {
	ctx := context.Background()
	sess := newSession(t)
	repo := threeFleets(t)
	rn := &Runner{Session: sess}
	rep := rn.Apply(ctx, repo, func(*Fleet) engine.ApplyRequest {
		return engine.ApplyRequest{Confirm: engine.AutoApprove{},
			Exec: engine.ExecOptions{PollInterval: engine.MinLocalPollInterval, TaskTimeout: time.Minute}}
	})
	wantRes := []want{{"bad", ExitError}, {"lab", ExitOK}, {"nosite", ExitError}}
	if got := results(rep); !slices.Equal(got, wantRes) || rep.Exit != ExitError {
		t.Fatalf("apply: %v exit %v, want %v exit 1", got, rep.Exit, wantRes)
	}
	if len(rep.Fleets[2].Diagnostics) == 0 {
		t.Error("a name the API does not have, found by apply's plan, keeps its diagnostics for the report")
	}
	if a := rep.Fleets[1].Applied; a == nil || a.Result == nil || a.Result.Outcome != engine.OutcomeDone {
		t.Fatalf("lab is applied: %+v", a)
	}
	again := rn.Plan(ctx, repo, engine.PlanOptions{}, true)
	if again.Fleets[1].Exit != ExitOK || !again.Fleets[1].Plan.Empty() {
		t.Errorf("plan again: no changes for lab, got exit %v", again.Fleets[1].Exit)
	}
	drift := rn.Drift(ctx, repo, engine.DriftOptions{ExpiringWithin: time.Hour})
	if drift.Fleets[1].Exit != ExitOK || drift.Fleets[1].Drift == nil {
		t.Errorf("drift after apply: none for lab, got exit %v", drift.Fleets[1].Exit)
	}
}

func TestRunnerChangedSince(t *testing.T) {
	sess := newSession(t)
	repo := threeFleets(t)
	top := repo.Root
	ran := 0
	rn := &Runner{Session: sess, Changes: &Changes{Ref: "main", Top: top, Paths: map[string]bool{"lab/fleet.yaml": true}},
		Before: func(*Fleet) { ran++ }}
	rep := rn.Plan(context.Background(), repo, engine.PlanOptions{}, true)
	if rep.ChangedSince != "main" || ran != 1 {
		t.Fatalf("only lab runs: ran %d, changed since %q", ran, rep.ChangedSince)
	}
	for _, r := range rep.Fleets {
		if unchanged := filepath.Base(r.Dir) != "lab"; r.Unchanged != unchanged || (unchanged && r.Exit != ExitOK) {
			t.Errorf("%s: unchanged %v exit %v: a fleet with no changed file is reported unchanged, exit 0", r.Dir, r.Unchanged, r.Exit)
		}
	}
	if rep.Exit != ExitChanges {
		t.Errorf("the broken fleets did not run, so the run's exit is lab's: %v", rep.Exit)
	}
}

func TestRunnerInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep := (&Runner{Session: newSession(t)}).Plan(ctx, threeFleets(t), engine.PlanOptions{}, false)
	if rep.Fleets[1].Err == nil || rep.Exit != ExitError {
		t.Errorf("after an interruption the fleets left are reported not run: %+v", rep.Fleets[1])
	}
}

// TestRunnerRefusesTargets: targets are one fleet's globs; the runner itself refuses them for a
// repository (whatever the front end), running no fleet, for plan, drift and apply alike.
func TestRunnerRefusesTargets(t *testing.T) {
	repo := threeFleets(t)
	ran := 0
	rn := &Runner{Session: newSession(t), Before: func(*Fleet) { ran++ }}
	ctx := context.Background()
	reps := map[string]*Report{
		"plan":  rn.Plan(ctx, repo, engine.PlanOptions{Targets: []string{"ws"}}, false),
		"drift": rn.Drift(ctx, repo, engine.DriftOptions{Targets: []string{"ws"}}),
		"apply": rn.Apply(ctx, repo, func(*Fleet) engine.ApplyRequest {
			return engine.ApplyRequest{Plan: engine.PlanOptions{Targets: []string{"ws"}}, Confirm: engine.AutoApprove{}}
		}),
	}
	for name, rep := range reps {
		var te *TargetsError
		if !errors.As(rep.Err, &te) || rep.Exit != ExitError || len(rep.Fleets) != 0 {
			t.Errorf("%s: err %v exit %v fleets %d, want a *TargetsError, exit 1 and no fleet run", name, rep.Err, rep.Exit, len(rep.Fleets))
		}
	}
	if ran != 0 {
		t.Errorf("%d fleets ran", ran)
	}
}

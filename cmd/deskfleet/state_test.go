package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/bolt"
	"github.com/deskfleet/deskfleet/state/stores"
)

// writeStateFile writes records into the state file at dir/.deskfleet/state.db through the bolt store,
// as an apply would, and returns the store (closed at the end of the test).
func writeStateFile(t *testing.T, dir string, recs ...state.Record) *bolt.Store {
	t.Helper()
	st, err := bolt.Open(filepath.Join(dir, ".deskfleet", "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	for _, rec := range recs {
		l, err := st.Lock(ctx, rec.Fleet, stores.CurrentHolder("deskfleet apply"), 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Update(ctx, l, func(r *state.Record) error { *r = rec; return nil }); err != nil {
			t.Fatal(err)
		}
		if err := st.Unlock(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// lockStateAs takes fleet's lock in the state file for holder, as another process would have.
func lockStateAs(t *testing.T, st *bolt.Store, fleet string, holder state.Holder) {
	t.Helper()
	if _, err := st.Lock(context.Background(), fleet, holder, 0); err != nil {
		t.Fatal(err)
	}
}

// stateDeadPID is the pid of a process that has ended.
func stateDeadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(binPath, "version")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func stateStr(s string) *string { return &s }

var (
	stateT0     = time.Date(2026, 11, 26, 9, 0, 1, 0, time.UTC)
	stateStudio = state.Record{
		Fleet: "studio",
		Desktops: map[string]state.Desktop{
			"vm-9f3c1a2b": {VmID: "vm-9f3c1a2b", Name: "render", ImageID: "img-win10", Protect: true, Label: stateStr("team-a"),
				Account: stateStr("bob@example.com"), Power: "on", AppliedAt: stateT0},
			"vm-19ab77e1": {VmID: "vm-19ab77e1", Name: "cad-01", ImageID: "img-win11", Label: stateStr(""), AppliedAt: stateT0},
		},
		Accounts: map[string]state.Account{
			"bob@example.com": {Email: "bob@example.com", AccountID: "acc-42", Name: "bob", Remark: stateStr("设计部")},
		},
		Intents: []state.Intent{
			{ID: "run-2/3", RunID: "run-2", Step: 3, Op: "power", Action: "OperateVm", RequestID: "req-5e1d",
				Targets: []string{"cad-01"}, TaskID: "task-53b1", Status: state.IntentSent, StartedAt: stateT0.Add(time.Hour)},
			{ID: "run-1/1", RunID: "run-1", Step: 1, Op: "create", Action: "CreateVm", Targets: []string{"render"},
				Status: state.IntentDone, StartedAt: stateT0},
		},
		Runs: []state.Run{
			{ID: "run-1", User: "ana", Host: "build-7", Command: "deskfleet apply --auto-approve", StartedAt: stateT0,
				EndedAt: stateT0.Add(72 * time.Second), SpecDigest: "sha256:0a1b2c3d", GitCommit: "1a2b3c4", Outcome: "done",
				Steps: []state.StepOutcome{{Step: 1, Action: "CreateVm", Targets: "render", Status: "done"}}},
			{ID: "run-2", User: "bo", Host: "ci-3", Command: "deskfleet apply plan.json", StartedAt: stateT0.Add(time.Hour),
				EndedAt: stateT0.Add(time.Hour + 5*time.Second), SpecDigest: "sha256:ffee", Outcome: "partial",
				Steps: []state.StepOutcome{
					{Step: 1, Action: "UpdateVmLabels", Targets: "cad-01", Status: "done"},
					{Step: 2, Action: "BindAccounts", Targets: "render", Status: "failed", Error: "AccountNotExist: no such account"},
					{Step: 3, Action: "OperateVm", Targets: "cad-01", Status: "skipped"},
				}},
		},
	}
	stateFarm = state.Record{Fleet: "farm", Desktops: map[string]state.Desktop{"vm-1": {VmID: "vm-1", Name: "node"}}}
)

// TestCLIState reads a state file written by the store: list, show and history, and their errors.
func TestCLIState(t *testing.T) {
	dir := t.TempDir()
	writeStateFile(t, dir, stateStudio, stateFarm)
	other := t.TempDir()
	writeStateFile(t, other, state.Record{Fleet: "elsewhere"})

	tests := []struct {
		name, reason string
		env          []string
		args         []string
		wantCode     int
		wantOut      []string
		notOut       []string
		wantErr      []string
	}{
		{name: "list", reason: "one line per fleet with desktops, accounts, serial, last apply and lock",
			args: []string{"state", "list"},
			wantOut: []string{"State .deskfleet/state.db: 2 fleets", "FLEET", "farm    1         0         1       -",
				"studio  2         1         1       2026-11-26 10:00:01 UTC partial  free"}},
		{name: "list elsewhere", reason: "DESKFLEET_STATE names another file",
			env: []string{"DESKFLEET_STATE=" + filepath.Join(other, ".deskfleet", "state.db")}, args: []string{"state", "list"},
			wantOut: []string{"1 fleet", "elsewhere"}, notOut: []string{"studio"}},
		{name: "show", reason: "managed desktops with vmId, image, protect, label, account, power; accounts; open intents only",
			args: []string{"state", "show", "studio"},
			wantOut: []string{"Fleet studio · serial 1 · .deskfleet/state.db", "Lock: free",
				"Desktops (2)", "cad-01  vm-19ab77e1  img-win11  no       \"\"", "render  vm-9f3c1a2b  img-win10  yes      team-a  bob@example.com  on",
				"Accounts (1)", "bob@example.com  acc-42      bob   设计部",
				"Open intents (1)", "run-2/3  OperateVm  sent    cad-01   task-53b1  req-5e1d"},
			notOut: []string{"run-1/1"}},
		{name: "show flag after name", reason: "--state is accepted after the fleet's name too",
			args:    []string{"state", "show", "elsewhere", "--state", filepath.Join(other, ".deskfleet", "state.db")},
			wantOut: []string{"Fleet elsewhere · serial 1", "Desktops (0)", "Open intents: none"}},
		{name: "show unknown", reason: "an unknown fleet is an error naming the fleets there are",
			args: []string{"state", "show", "nope"}, wantCode: exitError,
			wantErr: []string{"no fleet nope in .deskfleet/state.db; fleets: farm, studio"}},
		{name: "show no name", reason: "show needs the fleet's name",
			args: []string{"state", "show"}, wantCode: exitError, wantErr: []string{"name the fleet", "hint: `deskfleet state list`"}},
		{name: "show two names", reason: "one fleet at a time",
			args: []string{"state", "show", "studio", "farm"}, wantCode: exitError, wantErr: []string{"at most 1 argument"}},
		{name: "history", reason: "runs newest first with who, where, when, spec digest, commit, outcome and steps",
			args: []string{"state", "history", "studio"},
			wantOut: []string{"Fleet studio: 2 runs, newest first",
				"run-2  PARTIAL  bo@ci-3  2026-11-26 10:00:01 UTC  (5s)", "command  deskfleet apply plan.json", "spec     sha256:ffee\n",
				"✗ 2  BindAccounts    render  failed: AccountNotExist: no such account", "- 3  OperateVm       cad-01  skipped",
				"run-1  DONE  ana@build-7  2026-11-26 09:00:01 UTC  (1m12s)", "spec     sha256:0a1b2c3d  commit 1a2b3c4",
				"✓ 1  CreateVm  render  done"}},
		{name: "history limit", reason: "--limit shows the newest runs only, and says so",
			args:    []string{"state", "history", "--limit", "1", "studio"},
			wantOut: []string{"2 runs, the newest 1 shown", "run-2"}, notOut: []string{"run-1 "}},
		{name: "history all fleets", reason: "without a name, every fleet's journal",
			args: []string{"state", "history"}, wantOut: []string{"Fleet farm: no runs recorded", "Fleet studio: 2 runs"}},
		{name: "history unknown", reason: "an unknown fleet is an error",
			args: []string{"state", "history", "nope"}, wantCode: exitError, wantErr: []string{"no fleet nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runBin(t, dir, tt.env, tt.args...)
			checkStateResult(t, tt.reason, r, tt.wantCode, tt.wantOut, tt.notOut, tt.wantErr)
		})
	}
}

// TestCLIStateUnlock: a stale lock is reported and cleared; a live or foreign one is refused (exit 4,
// naming the holder) unless forced.
func TestCLIStateUnlock(t *testing.T) {
	host, _ := os.Hostname()
	since := time.Date(2026, 11, 26, 9, 0, 1, 0, time.UTC)
	tests := []struct {
		name, reason string
		holder       state.Holder
		args         []string
		listOut      string
		wantCode     int
		wantOut      []string
		wantErr      []string
		stillLocked  bool
	}{
		{name: "stale", reason: "a lock whose process is gone (same host, pid not running) is cleared without --force",
			holder:  state.Holder{User: "ana", Host: host, PID: -1, Command: "deskfleet apply", Since: since},
			args:    []string{"state", "unlock", "studio"},
			listOut: "STALE: that process is gone",
			wantOut: []string{"Removed the stale lock of fleet studio held by ana@" + host, "that process is gone",
				"the next apply settles them first"}},
		{name: "live", reason: "a lock whose process runs is refused, naming the holder, with exit 4",
			holder:  state.Holder{User: "ana", Host: host, PID: os.Getpid(), Command: "deskfleet apply", Since: since},
			args:    []string{"state", "unlock", "studio"},
			listOut: "still running", wantCode: exitLockHeld,
			wantErr: []string{"fleet studio is locked by ana@" + host, "deskfleet apply, since 2026-11-26 09:00:01 UTC",
				"still running; not removed", "hint: make sure that run is stopped, then `deskfleet state unlock studio --force`"},
			stillLocked: true},
		{name: "live forced", reason: "--force (after the name, as the help writes it) removes a live lock",
			holder:  state.Holder{User: "ana", Host: host, PID: os.Getpid(), Command: "deskfleet apply", Since: since},
			args:    []string{"state", "unlock", "studio", "--force"},
			listOut: "still running",
			wantOut: []string{"Removed the lock of fleet studio held by ana@" + host, "(--force)"}},
		{name: "foreign", reason: "a lock held from another host cannot be checked: refused without --force",
			holder:  state.Holder{User: "bo", Host: "build-7-elsewhere", PID: 4182, Command: "deskfleet apply", Since: since},
			args:    []string{"state", "unlock", "studio"},
			listOut: "on another host, last heartbeat", wantCode: exitLockHeld,
			wantErr:     []string{"locked by bo@build-7-elsewhere (pid 4182", "on another host, last heartbeat", "--force"},
			stillLocked: true},
		{name: "foreign forced", reason: "--force before the name removes a foreign lock",
			holder:  state.Holder{User: "bo", Host: "build-7-elsewhere", PID: 4182, Command: "deskfleet apply", Since: since},
			args:    []string{"state", "unlock", "--force", "studio"},
			listOut: "on another host",
			wantOut: []string{"Removed the lock of fleet studio held by bo@build-7-elsewhere (pid 4182"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			st := writeStateFile(t, dir, stateStudio)
			h := tt.holder
			if h.PID == -1 {
				h.PID = stateDeadPID(t)
			}
			lockStateAs(t, st, "studio", h)

			r := runBin(t, dir, nil, "state", "list")
			checkStateResult(t, tt.reason, r, 0, []string{tt.listOut}, nil, nil)
			r = runBin(t, dir, nil, "state", "show", "studio")
			checkStateResult(t, tt.reason, r, 0, []string{"Lock: " + h.String() + ", " + tt.listOut}, nil, nil)

			r = runBin(t, dir, nil, tt.args...)
			checkStateResult(t, tt.reason, r, tt.wantCode, tt.wantOut, nil, tt.wantErr)
			got, err := st.CurrentLock(context.Background(), "studio")
			if err != nil {
				t.Fatal(err)
			}
			if (got != nil) != tt.stillLocked {
				t.Errorf("%s: after unlock the holder is %v, want locked=%v", tt.reason, got, tt.stillLocked)
			}
			if !tt.stillLocked {
				if r := runBin(t, dir, nil, "state", "unlock", "studio"); r.code != 0 || !strings.Contains(r.stdout, "is not locked") {
					t.Errorf("%s: a second unlock: exit %d, %q", tt.reason, r.code, r.stdout)
				}
			}
		})
	}
}

// TestCLIPlanReadsState: plan diffs against the recorded state (read without the lock, so a held
// lock does not stop it), and a missing state file is not created.
func TestCLIPlanReadsState(t *testing.T) {
	dir := t.TempDir()
	spec := "version: 1\nfleet: cli\ndefaults: {site: 宿迁A}\nprofiles:\n" +
		"  win: {product: {gpu: NVIDIA A5000, os: windows}, image: Windows10-公共镜像-图像处理型}\n" +
		"desktops:\n  - {name: edit, profile: win}\n"
	if err := os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runBin(t, dir, nil, "plan", "--endpoint", "sim")
	if r.code != 0 || !strings.Contains(r.stdout, "+ edit") {
		t.Fatalf("plan without state: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, ".deskfleet", "state.db")); !os.IsNotExist(err) {
		t.Fatalf("plan created the state file (%v)", err)
	}

	st := writeStateFile(t, dir, state.Record{Fleet: "cli", Desktops: map[string]state.Desktop{
		"vm-gone-0001": {VmID: "vm-gone-0001", Name: "old-render", AppliedAt: stateT0}}})
	lockStateAs(t, st, "cli", state.Holder{User: "bo", Host: "elsewhere", PID: 1, Command: "deskfleet apply", Since: stateT0})
	r = runBin(t, dir, nil, "plan", "--endpoint", "sim")
	if r.code != 0 || !strings.Contains(r.stdout, "old-render") {
		t.Errorf("plan should report the managed desktop the state records, even while the fleet is locked: exit %d\n%s\n%s",
			r.code, r.stdout, r.stderr)
	}
}

func checkStateResult(t *testing.T, reason string, r result, wantCode int, wantOut, notOut, wantErr []string) {
	t.Helper()
	if r.code != wantCode {
		t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", reason, r.code, wantCode, r.stdout, r.stderr)
	}
	for _, w := range wantOut {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("%s: stdout lacks %q:\n%s", reason, w, r.stdout)
		}
	}
	for _, w := range notOut {
		if strings.Contains(r.stdout, w) {
			t.Errorf("%s: stdout has %q:\n%s", reason, w, r.stdout)
		}
	}
	for _, w := range wantErr {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("%s: stderr lacks %q:\n%s", reason, w, r.stderr)
		}
	}
}

package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/bolt"
)

// TestCLIStateSettle records a person's answer about a RebuildVm whose outcome was lost.
func TestCLIStateSettle(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".deskfleet", "state.db")
	st, err := bolt.Open(path, bolt.Options{})
	must(t, err)
	ctx := context.Background()
	lock, err := st.Lock(ctx, "lab", state.Holder{User: "t", Host: "h", PID: 1, Command: "test", Since: time.Now()}, 0)
	must(t, err)
	must(t, st.Update(ctx, lock, func(r *state.Record) error {
		r.Intents = append(r.Intents, state.Intent{ID: "run1/3", RunID: "run1", Step: 3, Op: "rebuild_desktop",
			Action: "RebuildVm", RequestID: "req-1", Targets: []string{"lab-01"}, Status: state.IntentPending,
			StartedAt: time.Now()})
		return nil
	}))
	must(t, st.Unlock(ctx, lock))
	must(t, st.Close())

	cases := []struct {
		reason   string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"both answers at once is an error", []string{"run1/3", "--done", "--not-done"}, 1, ""},
		{"an unknown intent is an error", []string{"nope/1", "--done"}, 1, ""},
		{"the answer is recorded", []string{"run1/3", "--done"}, 0, "settled: done"},
		{"a settled intent cannot be answered twice", []string{"run1/3", "--not-done"}, 1, ""},
	}
	for _, tc := range cases {
		r := runBin(t, dir, nil, append([]string{"state", "settle"}, tc.args...)...)
		if r.code != tc.wantCode || !strings.Contains(r.stdout, tc.wantOut) {
			t.Errorf("%s: exit %d (want %d), stdout %q, stderr %q", tc.reason, r.code, tc.wantCode, r.stdout, r.stderr)
		}
	}
	st, err = bolt.Open(path, bolt.Options{})
	must(t, err)
	defer st.Close()
	rec, err := st.Read(ctx, "lab")
	must(t, err)
	if len(rec.Intents) != 1 || rec.Intents[0].Open() {
		t.Errorf("the intent is still open: %+v", rec.Intents)
	}
}

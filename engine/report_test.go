package engine_test

import (
	"context"
	"testing"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/provider"
)

// TestSessionReport: the report is made from one read of a live fleet: the status counts follow the
// drift report (a label changed in the console is drifted, a desktop in error is in error, the third
// is healthy), the cost prices the three desktops, the timeline has the group on all week (no
// schedule, power not managed, running), and the journal's apply is there. It makes no mutating call.
func TestSessionReport(t *testing.T) {
	e := newFleetEnv(t)
	sp := e.writeSpec(t, 3)
	if _, err := e.apply(t, engine.ApplyRequest{Spec: sp}); err != nil {
		t.Fatal(err)
	}
	byName := map[string]string{}
	for _, d := range e.sim.Desktops() {
		byName[d.Name] = d.ID
	}
	if err := e.sim.ConsoleSetLabel(byName["art"], "tmp"); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.ConsoleSetStatus(byName["art_001"], provider.RawError); err != nil {
		t.Fatal(err)
	}
	e.sim.ResetCalls()
	e.sess.Calls = func() int {
		n := 0
		for _, c := range e.sim.Calls() {
			n += c
		}
		return n
	}
	r, err := e.sess.Report(context.Background(), sp, engine.ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := e.sim.MutatingCalls(); n != 0 {
		t.Errorf("the report made %d mutating calls", n)
	}
	want := engine.ReportStatus{Desktops: 3, Healthy: 1, Drifted: 1, InError: 1}
	if r.Status != want {
		t.Errorf("status %+v, want %+v (one relabelled, one in error, one healthy)", r.Status, want)
	}
	if r.Cost.Total.Now.Desktops != 3 || r.Cost.Total.Now.Month <= 0 || r.Cost.Total.Projected.Desktops != 3 {
		t.Errorf("cost total %+v: want 3 desktops priced now and projected", r.Cost.Total)
	}
	if len(r.Week) != 1 || r.Week[0].Group != "art" || r.Week[0].Power != engine.PowerBasisOn ||
		len(r.Week[0].Intervals) != 1 || r.Week[0].Intervals[0].End.Sub(r.Week[0].Intervals[0].Start).Hours() != 168 {
		t.Errorf("week %+v: want one row, art on all week", r.Week)
	}
	if len(r.Runs) != 1 || r.Runs[0].Outcome != "done" {
		t.Errorf("runs %+v: want the one apply, done", r.Runs)
	}
	calls := e.sim.Calls()
	if got := calls[provider.ActionQueryVmPrice]; got != 0 {
		t.Errorf("QueryVmPrice x%d for 3 desktops: want none (compute is priced from the catalog)", got)
	}
	total := 0
	for _, c := range calls {
		total += c
	}
	if r.Drift.Reads.Calls != total || r.Cost.Reads != r.Drift.Reads {
		t.Errorf("reads %+v / %+v: want the one read, its %d calls (price queries included) counted once", r.Drift.Reads, r.Cost.Reads, total)
	}
}

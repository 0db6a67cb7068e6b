package engine

import (
	"errors"
	"slices"
	"testing"

	"github.com/deskfleet/deskfleet/provider"
)

// TestNarrowed: a batch step whose dependency failed runs for the desktops that failure does not
// concern, and is skipped when the failure concerns all of them or something they all need.
func TestNarrowed(t *testing.T) {
	create := Step{ID: 1, Op: CreateDesktops{Names: []string{"cad", "cad_001"}}}
	deleteArt := Step{ID: 2, Op: DeleteDesktop{Desktop: Target{Name: "art", VmID: "vm-art"}}}
	newAcct := Step{ID: 3, Op: CreateSubAccounts{New: []NewAccount{{Email: "bob@example.com", Name: "bob"}}}}
	label := Step{ID: 4, After: []int{1}, Op: LabelDesktops{Label: "x",
		Targets: []Target{{Name: "cad"}, {Name: "cad_001"}, {Name: "ops", VmID: "vm-ops"}}}}
	bind := Step{ID: 5, After: []int{3}, Op: BindAccounts{Account: AccountRef{Email: "bob@example.com"},
		Targets: []Target{{Name: "ops", VmID: "vm-ops"}}}}
	rename := Step{ID: 6, After: []int{2}, Op: RenameDesktop{Desktop: Target{Name: "art", VmID: "vm-art"}, From: "a"}}
	failed := &StepResult{Status: StepFailed}
	partial := &StepResult{Status: StepPartial, Failed: []string{"cad_001"}}
	cases := []struct {
		name     string
		s        Step
		deps     []Step
		res      []*StepResult
		wantOK   bool
		wantDrop []string
		wantLeft []string
		reason   string
	}{
		{"label without the failed creation's desktops", label, []Step{create}, []*StepResult{failed}, true,
			[]string{"cad", "cad_001"}, []string{"ops"},
			"a label is each desktop's own: ops needs nothing the failed creation made"},
		{"label without the partial creation's failed desktop", label, []Step{create}, []*StepResult{partial}, true,
			[]string{"cad_001"}, []string{"cad", "ops"},
			"of a partial step only the failed items are left out"},
		{"bind needs the failed account", bind, []Step{newAcct}, []*StepResult{failed}, false, nil, nil,
			"the failure concerns the account every desktop of the bind needs: skipped"},
		{"nothing left", LabelDesktops{Label: "x", Targets: []Target{{Name: "cad"}}}.asStep(7, 1), []Step{create},
			[]*StepResult{failed}, false, nil, nil, "with every desktop left out there is nothing to run"},
		{"not a batch op", rename, []Step{deleteArt}, []*StepResult{failed}, false, nil, nil,
			"a rename acts on one desktop: it is skipped, never narrowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns, drop, ok := narrowed(tc.s, tc.deps, tc.res)
			if ok != tc.wantOK {
				t.Fatalf("%s: ok %v, want %v", tc.reason, ok, tc.wantOK)
			}
			if !ok {
				return
			}
			var left []string
			for _, d := range ns.Op.Desktops() {
				left = append(left, d.Name)
			}
			if !slices.Equal(drop, tc.wantDrop) || !slices.Equal(left, tc.wantLeft) {
				t.Errorf("%s: dropped %v, left %v; want %v, %v", tc.reason, drop, left, tc.wantDrop, tc.wantLeft)
			}
			if ns.ID != tc.s.ID || !slices.Equal(ns.After, tc.s.After) {
				t.Errorf("%s: the narrowed step is %d after %v, want %d after %v", tc.reason, ns.ID, ns.After, tc.s.ID, tc.s.After)
			}
		})
	}
}

// asStep is a test helper: the op as step id after dep.
func (o LabelDesktops) asStep(id, dep int) Step { return Step{ID: id, After: []int{dep}, Op: o} }

// TestLeftOut: a narrowed step that ended done is partial, with the desktops it left out failed.
func TestLeftOut(t *testing.T) {
	cases := []struct {
		name       string
		res        StepResult
		wantStatus StepStatus
		wantFailed []string
		reason     string
	}{
		{"done", StepResult{Status: StepDone}, StepPartial, []string{"cad"},
			"the left-out desktop did not get the change: the step is partial"},
		{"partial", StepResult{Status: StepPartial, Failed: []string{"ops"}}, StepPartial, []string{"ops", "cad"},
			"its own failed items are kept beside the left-out ones"},
		{"failed", StepResult{Status: StepFailed, Err: errors.New("boom")}, StepFailed, []string{"cad"},
			"a failed step stays failed"},
	}
	for _, tc := range cases {
		res := tc.res
		res.leftOut([]string{"cad"}, []int{1})
		if res.Status != tc.wantStatus || !slices.Equal(res.Failed, tc.wantFailed) || !slices.Equal(res.SkippedFor, []int{1}) {
			t.Errorf("%s: %s: status %s failed %v for %v", tc.name, tc.reason, res.Status, res.Failed, res.SkippedFor)
		}
	}
}

// TestLeftUndone: after a failed task, power and deletion are made again for what the task left
// undone, and only when what was read tells.
func TestLeftUndone(t *testing.T) {
	on := PowerDesktops{Power: provider.PowerOn, Targets: []Target{{Name: "a", VmID: "vm-a"}, {Name: "b", VmID: "vm-b"}}}
	del := DeleteDesktop{Desktop: Target{Name: "a", VmID: "vm-a"}}
	d := func(st provider.Status) *provider.Desktop { return &provider.Desktop{Status: st} }
	cases := []struct {
		name   string
		op     taskRepeater
		live   map[string]*provider.Desktop
		want   []string // desktops of the op made again; nil: not made again
		reason string
	}{
		{"power: one left stopped", on, map[string]*provider.Desktop{"vm-a": d(provider.StatusRunning), "vm-b": d(provider.StatusStopped)},
			[]string{"b"}, "a is on: only b is powered on again"},
		{"power: all done", on, map[string]*provider.Desktop{"vm-a": d(provider.StatusRunning), "vm-b": nil},
			nil, "a is on and b is gone: nothing left"},
		{"power: unread", on, map[string]*provider.Desktop{"vm-a": d(provider.StatusStopped)},
			nil, "b could not be read: the run cannot tell, so it does not call again"},
		{"power: busy", on, map[string]*provider.Desktop{"vm-a": d(provider.StatusBusy), "vm-b": d(provider.StatusStopped)},
			nil, "a desktop still moving: not called again"},
		{"delete: still there", del, map[string]*provider.Desktop{"vm-a": d(provider.StatusFailed)},
			[]string{"a"}, "the desktop is still there, settled: deleted again"},
		{"delete: gone", del, map[string]*provider.Desktop{"vm-a": nil}, nil, "gone: nothing to do again"},
		{"delete: being deleted", del, map[string]*provider.Desktop{"vm-a": d(provider.StatusBusy)}, nil,
			"still moving: not called again"},
	}
	for _, tc := range cases {
		op := tc.op.leftUndone(tc.live)
		var got []string
		if op != nil {
			for _, t := range op.Desktops() {
				got = append(got, t.Name)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %s: made again for %v, want %v", tc.name, tc.reason, got, tc.want)
		}
	}
}

package engine_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/state"
)

// TestCheckGuards judges plans as a hand-edited file could carry them: the guard each step needs comes
// from its op and the record, never from the guard fields the plan states about itself.
func TestCheckGuards(t *testing.T) {
	rec := &state.Record{Fleet: "studio", Desktops: map[string]state.Desktop{
		"vm-1": {VmID: "vm-1", Name: "art"},
		"vm-2": {VmID: "vm-2", Name: "art_001", Protect: true},
		"vm-3": {VmID: "vm-3", Name: "art_002"},
	}}
	for i := 4; i <= 10; i++ { // ten managed desktops (and two below): one deletion is under 10%
		id := fmt.Sprintf("vm-%d", i)
		rec.Desktops[id] = state.Desktop{VmID: id, Name: fmt.Sprintf("other_%03d", i)}
	}
	// broken's creation failed and nothing deskfleet did to it succeeded since; mended's too, but it
	// was changed (relabelled, bound) successfully after: it may hold someone's work.
	failedAt := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	rec.Desktops["vm-11"] = state.Desktop{VmID: "vm-11", Name: "broken", AppliedAt: failedAt.Add(-time.Minute)}
	rec.Desktops["vm-12"] = state.Desktop{VmID: "vm-12", Name: "mended", AppliedAt: failedAt.Add(time.Hour)}
	rec.Intents = []state.Intent{{ID: "r/1", Op: string(engine.KindCreateDesktops), VmIDs: []string{"vm-11", "vm-12"},
		Status: state.IntentFailed, EndedAt: failedAt}}
	del := func(id int, name, vm string, g engine.Guard) engine.Step {
		return engine.Step{ID: id, Op: engine.DeleteDesktop{Desktop: engine.Target{Name: name, VmID: vm}}, Guard: g}
	}
	create := func(id int, names ...string) engine.Step {
		return engine.Step{ID: id, Op: engine.CreateDesktops{Names: names, BaseName: names[0]}}
	}
	rebuild := engine.Step{ID: 1, Op: engine.RebuildDesktop{Desktop: engine.Target{Name: "art", VmID: "vm-1"}}}
	label := engine.Step{ID: 1, Op: engine.LabelDesktops{Label: "x", Targets: []engine.Target{{Name: "art", VmID: "vm-1"}}},
		Guard: engine.GuardRebuild}
	power := engine.Step{ID: 1, Op: engine.PowerDesktops{Power: provider.PowerOff, Targets: []engine.Target{{Name: "art", VmID: "vm-1"}}}}
	monthly := engine.Billing{Cycle: provider.BillCycleMonthly, Months: 1}
	renew := engine.Step{ID: 1, Op: engine.RenewOrder{Billing: monthly, Targets: []engine.Target{{Name: "art", VmID: "vm-1"}}}}
	convert := engine.Step{ID: 2, Op: engine.UpdateOrder{Billing: monthly, Targets: []engine.Target{{Name: "art_002", VmID: "vm-3"}}}}
	all := engine.Approvals{Delete: true, Replace: true, Rebuild: true, Force: true}
	cases := []struct {
		name, reason string
		steps        []engine.Step
		guards       []engine.GuardFinding
		approvals    engine.Approvals
		want         []engine.Guard
	}{
		{name: "deletion, guard stripped", reason: "a DeleteDesktop needs --allow-delete whatever its guard field says",
			steps: []engine.Step{del(1, "art", "vm-1", engine.GuardNone)}, want: []engine.Guard{engine.GuardDelete}},
		{name: "deletion, approved", reason: "the approval allows exactly that",
			steps: []engine.Step{del(1, "art", "vm-1", engine.GuardNone)}, approvals: engine.Approvals{Delete: true}},
		{name: "deletion marked as a replacement", reason: "no create of that name: it is a deletion, and the file's stronger claim is honoured too",
			steps: []engine.Step{del(1, "art", "vm-1", engine.GuardReplace)}, approvals: engine.Approvals{Replace: true},
			want: []engine.Guard{engine.GuardDelete}},
		{name: "replacement", reason: "a deletion and a create of the same name is a replacement: --allow-delete is not enough",
			steps: []engine.Step{del(1, "art", "vm-1", engine.GuardNone), create(2, "art")}, approvals: engine.Approvals{Delete: true},
			want: []engine.Guard{engine.GuardReplace}},
		{name: "unmanaged desktop", reason: "a desktop the record does not have is never deleted, with every approval",
			steps: []engine.Step{del(1, "payroll", "vm-99", engine.GuardDelete)}, approvals: all, want: []engine.Guard{engine.GuardNone}},
		{name: "protected desktop", reason: "a protected desktop is never deleted, with every approval",
			steps: []engine.Step{del(1, "art_001", "vm-2", engine.GuardDelete)}, approvals: all, want: []engine.Guard{engine.GuardNone}},
		{name: "protected desktop replaced", reason: "nor replaced",
			steps: []engine.Step{del(1, "art_001", "vm-2", engine.GuardReplace), create(2, "art_001")}, approvals: all,
			want: []engine.Guard{engine.GuardNone}},
		{name: "rebuild, guard stripped", reason: "a RebuildDesktop needs --allow-rebuild",
			steps: []engine.Step{rebuild}, approvals: engine.Approvals{Delete: true, Replace: true}, want: []engine.Guard{engine.GuardRebuild}},
		{name: "mass deletion, plan-wide guard stripped", reason: "4 of 10 managed desktops is over 30%: recomputed from the steps",
			steps: []engine.Step{del(1, "art", "vm-1", engine.GuardNone), del(2, "art_002", "vm-3", engine.GuardNone),
				del(3, "other_004", "vm-4", engine.GuardNone), del(4, "other_005", "vm-5", engine.GuardNone)},
			approvals: engine.Approvals{Delete: true}, want: []engine.Guard{engine.GuardMassDelete}},
		{name: "replacements are not mass deletion", reason: "a replaced desktop is not lost: only deletions count",
			steps: []engine.Step{del(1, "art", "vm-1", engine.GuardNone), del(2, "art_002", "vm-3", engine.GuardNone),
				del(3, "other_004", "vm-4", engine.GuardNone), del(4, "other_005", "vm-5", engine.GuardNone),
				create(5, "art", "art_002", "other_004", "other_005")}, approvals: engine.Approvals{Replace: true}},
		{name: "plan-wide guard stated", reason: "a guard the plan states is honoured",
			guards: []engine.GuardFinding{{Guard: engine.GuardEmptySpec, Message: "empty"}}, approvals: engine.Approvals{Delete: true},
			want: []engine.Guard{engine.GuardEmptySpec}},
		{name: "stronger guard on a harmless step", reason: "a step's own guard field is honoured as at least as strict",
			steps: []engine.Step{label}, want: []engine.Guard{engine.GuardRebuild}},
		{name: "replacing a desktop whose creation failed", reason: "the journal says its creation failed and it never ran: nobody's work is on it, no approval",
			steps: []engine.Step{del(1, "broken", "vm-11", engine.GuardNone), create(2, "broken")}},
		{name: "replacing a desktop changed since its creation failed", reason: "changed after: it may hold work, --allow-replace",
			steps: []engine.Step{del(1, "mended", "vm-12", engine.GuardNone), create(2, "mended")}, want: []engine.Guard{engine.GuardReplace}},
		{name: "deleting a desktop whose creation failed", reason: "without a create of its name it is a deletion: --allow-delete",
			steps: []engine.Step{del(1, "broken", "vm-11", engine.GuardNone)}, want: []engine.Guard{engine.GuardDelete}},
		{name: "harmless step", reason: "powering off needs no approval",
			steps: []engine.Step{power}},
		{name: "renewal, guard stripped", reason: "a RenewalOrder commits money up front: --allow-prepay whatever its guard field says",
			steps: []engine.Step{renew}, approvals: all, want: []engine.Guard{engine.GuardPrepay}},
		{name: "conversion to monthly", reason: "an UpdateOrder prepays its term: --allow-prepay",
			steps: []engine.Step{convert}, approvals: engine.Approvals{OverBudget: true}, want: []engine.Guard{engine.GuardPrepay}},
		{name: "renewal, approved", reason: "--allow-prepay allows it",
			steps: []engine.Step{renew, convert}, approvals: engine.Approvals{Prepay: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := &engine.Plan{Fleet: "studio", Steps: tc.steps, Guards: tc.guards}
			var got []engine.Guard
			for _, b := range engine.CheckGuards(p, rec, tc.approvals, nil) {
				got = append(got, b.Guard)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: blocked %v, want %v", tc.reason, got, tc.want)
			}
		})
	}
}

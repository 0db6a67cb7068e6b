package engine_test

import (
	"testing"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/provider"
)

// TestApplySplitCreation: a group of 150 is created in two CreateVm calls of at most
// DefaultBatchLimits.CreateVm desktops (the second continuing the numbering with its own hostNo),
// each its own step and intent, labelled in two calls; the apply converges, every desktop exists
// once under its spec name.
func TestApplySplitCreation(t *testing.T) {
	e := newExecEnv(t, "create-group-split")
	p := e.plan(t)
	creates := 0
	for _, s := range p.Steps {
		if c, ok := s.Op.(engine.CreateDesktops); ok {
			creates++
			if len(c.Names) > engine.DefaultBatchLimits.CreateVm {
				t.Errorf("step %d creates %d desktops in one call, the limit is %d", s.ID, len(c.Names), engine.DefaultBatchLimits.CreateVm)
			}
		}
	}
	if creates != 2 {
		t.Fatalf("%d CreateVm steps, want 2:\n%s", creates, describeSteps(p))
	}
	res, err := e.apply(t, p, e.opts())
	if err != nil || res.Outcome != engine.OutcomeDone {
		t.Fatalf("apply: %v (%s)", err, statuses(res))
	}
	calls := e.sim.Calls()
	if calls[provider.ActionCreateVm] != 2 || calls[provider.ActionChangeVmName] != 1 || calls[provider.ActionUpdateVmLabels] != 2 {
		t.Errorf("calls %v, want 2 CreateVm, 1 ChangeVmName, 2 UpdateVmLabels", calls)
	}
	if rec := e.record(t); len(rec.Intents) != len(p.Steps) {
		t.Errorf("%d intents for %d steps", len(rec.Intents), len(p.Steps))
	}
	e.checkConverged(t)
}

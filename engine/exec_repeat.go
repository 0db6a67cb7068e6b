package engine

import (
	"context"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/state"
)

// taskRepeater is an op whose failed task is safe to make again for what it left undone: powering
// desktops and deleting a desktop name their desktops by id and set them to one end state, so a
// second call changes nothing the first one did. The others are not: a failed creation leaves
// desktops in error (the next plan replaces them), and orders commit money.
type taskRepeater interface {
	// leftUndone returns the op for what a failed task of it left undone, read in live (the op's
	// desktops after the task, by id: nil when gone, absent when they could not be read), or nil
	// when nothing is left or live cannot tell.
	leftUndone(live map[string]*provider.Desktop) Op
}

// repeatFailedTask says what to call again after the step's task failed (tf nil: it did not): the
// op for what the task left undone, when the op is safe to repeat (taskRepeater) and the step has
// calls left (maxRepeats in all). The failed call's intent is closed failed first; nil: the step
// ends as the task did.
func (x *stepRun) repeatFailedTask(ctx context.Context, pr *prepared, tf *provider.TaskFailedError, live map[string]*provider.Desktop) *prepared {
	if tf == nil || x.attempts >= maxRepeats {
		return nil
	}
	tr, ok := pr.op.(taskRepeater)
	if !ok {
		return nil
	}
	if len(live) == 0 && len(pr.vmIDs) > 0 { // the task's answer named no desktop: read the op's
		live = waitDesktops(ctx, x.r.c, x.r.opt, pr.vmIDs)
	}
	op := tr.leftUndone(live)
	if op == nil {
		return nil
	}
	r := x.r
	if err := r.update(func(rec *state.Record) error {
		closeIntent(rec, x.res.IntentID, state.IntentFailed, tf.Error()+"; made again for what it left undone", r.opt.Now())
		return nil
	}); err != nil {
		r.halt(err)
		return nil
	}
	return r.prepared(op)
}

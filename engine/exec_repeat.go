package engine

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"

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
func (x *stepRun) repeatFailedTask(ctx context.Context, pr *prepared, cr *callResult, tf *provider.TaskFailedError, live map[string]*provider.Desktop) *prepared {
	if tf == nil {
		return nil
	}
	if create, ok := pr.op.(CreateDesktops); ok {
		return x.recreateFailed(ctx, pr, create, cr, tf, live)
	}
	if x.attempts >= maxRepeats {
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

// recreateFailed replaces, once per step, the desktops a failed CreateVm task left in error, in the
// run instead of at the next apply: when every desktop the task made is in error (or gone) they were
// created by this very step and never ran, which the planner replaces without a flag too. The failed
// creation is recorded first (its intent failed, its desktops in the record: a crash from here on
// leaves them to the next plan), then each is deleted (DeleteVm, an intent of its own, waiting for its
// task; Parallelism at a time), and the creation is made again (returned: the step calls it). A
// partial creation (some desktops running), a deletion that fails or a second failure ends the step
// as the task did.
func (x *stepRun) recreateFailed(ctx context.Context, pr *prepared, op CreateDesktops, cr *callResult,
	tf *provider.TaskFailedError, live map[string]*provider.Desktop) *prepared {
	if x.recreated || len(cr.vmIDs) == 0 || ctx.Err() != nil {
		return nil
	}
	var failed []string
	for _, id := range cr.vmIDs {
		d, read := live[id]
		switch {
		case !read:
			return nil
		case d == nil: // gone
		case d.Status == provider.StatusFailed:
			failed = append(failed, id)
		default:
			return nil
		}
	}
	r := x.r
	if err := r.update(func(rec *state.Record) error {
		closeIntent(rec, x.res.IntentID, state.IntentFailed,
			tf.Error()+"; its desktops are deleted and the creation made again", r.opt.Now())
		r.fixCreated(rec, x.s.ID, op, cr.vmIDs, live)
		return nil
	}); err != nil {
		r.halt(err)
		return nil
	}
	if !x.deleteAll(ctx, failed) {
		return nil
	}
	x.recreated = true
	return pr
}

// deleteAll deletes the desktops (by id) a failed creation of the step left, each as a call of the
// step with intents of its own (RUN/STEP.deleteN, then .deleteN.2 when made again), at most
// Parallelism at a time; it reports whether all were deleted.
func (x *stepRun) deleteAll(ctx context.Context, ids []string) bool {
	r := x.r
	names := map[string]string{}
	r.mu.Lock()
	for n, id := range r.vmIDs {
		names[id] = n
	}
	r.mu.Unlock()
	sem := make(chan struct{}, max(1, r.opt.Parallelism))
	ok := make([]bool, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			del := DeleteDesktop{Desktop: Target{Name: cmp.Or(names[id], id), VmID: id}}
			s := Step{ID: x.s.ID, Op: del}
			sub := &stepRun{r: r, s: s, res: newStepResult(s), start: r.opt.Now(), tag: fmt.Sprintf("delete%d", i+1)}
			pr := r.prepared(del)
			for {
				res, next := sub.callAndAwait(ctx, pr, nil)
				if next == nil {
					ok[i] = res != nil && res.Status == StepDone
					return
				}
				pr = next
			}
		})
	}
	wg.Wait()
	return !slices.Contains(ok, false)
}

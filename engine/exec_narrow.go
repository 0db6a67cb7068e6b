package engine

import (
	"fmt"
	"slices"
)

// narrower is an op that acts on each of its desktops alone (power, labels, bindings), so that it can
// run without some of them: the healthy desktops of a batch need not wait for one whose earlier step
// failed. without returns the op without the desktops named in drop, nil when none is left.
type narrower interface {
	without(drop map[string]bool) Op
}

// keepTargets returns ts without the targets named in drop.
func keepTargets(ts []Target, drop map[string]bool) []Target {
	return slices.DeleteFunc(slices.Clone(ts), func(t Target) bool { return drop[t.Name] })
}

// failedKeys are the objects the failed dependencies of a step leave undone: the failed items of a
// partial step, every object of a step that failed, was skipped or ended unknown.
func failedKeys(deps []Step, results []*StepResult) map[objKey]bool {
	keys := map[objKey]bool{}
	for i, d := range deps {
		res := results[i]
		if res.Status == StepPartial {
			for _, f := range res.Failed {
				keys[desktopKey(f)], keys[accountKey(f)] = true, true
			}
			continue
		}
		for _, k := range stepResources(d) {
			keys[k] = true
		}
	}
	return keys
}

// narrowed is step s without the desktops that its failed dependencies (deps, with their results)
// leave undone, when its op can run without them and what is left does not depend on the failure
// (an account or network that failed concerns every desktop of the step): the step runs for the
// other desktops. drop names the desktops left out; ok is false when the step must be skipped.
func narrowed(s Step, deps []Step, results []*StepResult) (ns Step, drop []string, ok bool) {
	n, can := s.Op.(narrower)
	if !can {
		return Step{}, nil, false
	}
	keys := failedKeys(deps, results)
	dropSet := map[string]bool{}
	for _, t := range s.Op.Desktops() {
		if keys[desktopKey(t.Name)] && !dropSet[t.Name] {
			dropSet[t.Name] = true
			drop = append(drop, t.Name)
		}
	}
	if len(drop) == 0 {
		return Step{}, nil, false
	}
	op := n.without(dropSet)
	if op == nil {
		return Step{}, nil, false
	}
	ns = s
	ns.Op = op
	for _, k := range stepResources(ns) {
		if keys[k] {
			return Step{}, nil, false
		}
	}
	return ns, drop, true
}

// leftOut marks the result of a step that ran narrowed (narrowed): the desktops it left out did not
// get its change, so a step that ended done is partial, with them failed.
func (r *StepResult) leftOut(drop []string, failedDeps []int) {
	if r.Status == StepDone {
		r.Status = StepPartial
		r.Err = fmt.Errorf("left out %s: step %s did not succeed", joinNames(drop), joinInts(failedDeps))
	}
	for _, d := range drop {
		if !slices.Contains(r.Failed, d) {
			r.Failed = append(r.Failed, d)
		}
	}
	r.SkippedFor = append(r.SkippedFor, failedDeps...)
}

// joinNames lists names for a message, the first few only.
func joinNames(names []string) string {
	const shown = 5
	if len(names) <= shown {
		return fmt.Sprint(names)
	}
	return fmt.Sprintf("%v and %d more", names[:shown], len(names)-shown)
}

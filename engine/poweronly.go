package engine

import (
	"fmt"
	"slices"
)

// Only narrows a plan to one kind of work (PlanOptions.Only).
type Only string

// OnlyPower keeps the power the spec and its schedules want, for desktops that exist.
const OnlyPower Only = "power"

// powerOnly narrows p to the power it wants (PlanOptions.Only): the power changes the spec and its
// schedules ask for, on desktops that exist, and the OperateVm steps that make them. A stop that
// other work needs (a rebuild, a change of account) is left out with that work, as are creations,
// deletions and every other change: such a plan can start and stop desktops and nothing else. The
// steps keep their ids; a dependency on a step left out is dropped (the work it ordered is not done).
// Changes left out are counted in a warning so that the plan does not read as the whole story.
func powerOnly(p *Plan) {
	keepStep := map[int]bool{}
	var changes []Change
	left := 0
	for _, c := range p.Changes {
		if c.Attribute != AttrPower || c.Reason == reasonNeedsStop {
			if c.Action != ActionNoop {
				left++
			}
			continue
		}
		changes = append(changes, c)
		for _, id := range c.Steps {
			keepStep[id] = true
		}
	}
	var steps []Step
	for _, s := range p.Steps {
		op, ok := s.Op.(PowerDesktops)
		if !ok || !keepStep[s.ID] {
			continue
		}
		op.Targets = slices.DeleteFunc(slices.Clone(op.Targets), func(t Target) bool { return t.VmID == "" })
		if len(op.Targets) == 0 {
			continue
		}
		s.Op = op
		steps = append(steps, s)
	}
	kept := map[int]bool{}
	for _, s := range steps {
		kept[s.ID] = true
	}
	for i := range steps {
		steps[i].After = slices.DeleteFunc(slices.Clone(steps[i].After), func(id int) bool { return !kept[id] })
	}
	p.Changes, p.Steps, p.Only = changes, steps, OnlyPower
	// Nothing but power is applied: the record keeps what it holds (a scheduled desktop's power is
	// the schedule's, not a value to remember).
	p.Guards, p.Want, p.WantAccounts = nil, nil, nil
	if left > 0 {
		p.Warnings = append(p.Warnings, Problem{Object: ObjectDesktop, Name: "--only power",
			Message: fmt.Sprintf("%d other change(s) not planned: this plan only starts and stops desktops", left),
			Hint:    "run a plan without --only to see and apply them"})
	}
}

// ParseOnly reads the word of --only ("" for none).
func ParseOnly(s string) (Only, error) {
	switch Only(s) {
	case "", OnlyPower:
		return Only(s), nil
	}
	return "", fmt.Errorf("--only %q: the one kind of work is power", s)
}

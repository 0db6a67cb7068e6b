package engine

import (
	"fmt"
	"sort"
	"strings"

	"github.com/deskfleet/deskfleet/state"
)

// Approvals are what the person (or pipeline) running an apply allows beyond ordinary changes: each
// allows only what it names.
type Approvals struct {
	// Delete allows deleting desktops removed from the spec; Replace deleting and creating again
	// (site, product, bandwidth or network changed); Rebuild reinstalling a desktop (image changed).
	Delete, Replace, Rebuild bool
	// Force allows deleting more than the allowed share of the managed desktops, and an empty spec
	// over a non-empty state.
	Force bool
	// OverBudget allows a plan that takes the fleet, a group or a label over its budget.
	OverBudget bool
	// Prepay allows the steps that commit money up front: renewals (RenewalOrder) and conversions
	// to monthly (UpdateOrder). A monthly creation is not guarded: creating is what the change asks.
	Prepay bool
}

func (a Approvals) allows(g Guard) bool {
	switch g {
	case GuardNone:
		return true
	case GuardDelete:
		return a.Delete
	case GuardReplace:
		return a.Replace
	case GuardRebuild:
		return a.Rebuild
	case GuardMassDelete, GuardEmptySpec:
		return a.Force
	case GuardOverBudget:
		return a.OverBudget
	case GuardPrepay:
		return a.Prepay
	}
	return false // a guard this version does not know: nothing allows it
}

// Blocked is one change of a plan that may not be applied. Guard is the approval it needs; GuardNone
// marks a change no approval allows (deleting or rebuilding a desktop the fleet does not manage, or a
// protected one: only a plan file altered by hand carries such a step).
type Blocked struct {
	// Step is the step's id, 0 for a plan-wide finding (mass deletion, empty spec).
	Step    int
	Guard   Guard
	Message string
}

func (b Blocked) String() string {
	if b.Guard == GuardNone {
		return b.Message + " (never applied)"
	}
	flag := b.Guard.Flag()
	if flag == "" {
		flag = "an approval this version of deskfleet does not know: " + string(b.Guard)
	}
	return fmt.Sprintf("%s (needs %s)", b.Message, flag)
}

// GuardError is Apply's error when the plan carries changes its approvals do not allow. Nothing was
// changed.
type GuardError struct {
	Blocked []Blocked
}

func (e *GuardError) Error() string {
	verb := "changes need flags"
	if len(e.Blocked) == 1 {
		verb = "change needs a flag"
	}
	if len(e.Flags()) == 0 {
		verb = "changes may never be applied"
		if len(e.Blocked) == 1 {
			verb = "change may never be applied"
		}
	}
	return fmt.Sprintf("%d %s to apply; nothing was changed", len(e.Blocked), verb)
}

// Flags returns the command-line flags that would allow the blocked changes, sorted, each once (none
// when only changes that no approval allows are blocked).
func (e *GuardError) Flags() []string {
	seen := map[string]bool{}
	var flags []string
	for _, b := range e.Blocked {
		if f := b.Guard.Flag(); f != "" && !seen[f] {
			seen[f] = true
			flags = append(flags, f)
		}
	}
	sort.Strings(flags)
	return flags
}

// CheckGuards lists the changes of p that a does not allow, in step order after the plan-wide ones.
// It judges p by its steps and by rec, the fleet's record, not by the guard fields a plan file
// carries (those are honoured too, as at least as strict):
//   - a DeleteDesktop is a replacement when the plan creates a desktop of that name (needs Replace,
//     unless the journal says deskfleet's creation of it failed and it never ran since: nobody's work
//     is on it), else a deletion (needs Delete) of a desktop rec manages; deleting an unmanaged
//     desktop, or a protected one, is never allowed;
//   - a RebuildDesktop needs Rebuild and a managed, unprotected desktop;
//   - an UpdateOrder or a RenewOrder needs Prepay (money committed up front);
//   - deleting more than maxDeletePercent (nil: DefaultMaxDeletePercent; negative: no limit) of the
//     desktops rec manages needs Force, and so does every plan-wide guard the plan carries.
//
// It is pure: a plan made by Diff from the same record gets the verdict Diff's own guards give.
func CheckGuards(p *Plan, rec *state.Record, a Approvals, maxDeletePercent *int) []Blocked {
	created := map[string]bool{}
	for _, s := range p.Steps {
		if op, ok := s.Op.(CreateDesktops); ok {
			for _, n := range op.Names {
				created[n] = true
			}
		}
	}
	var steps []Blocked
	deletes := 0
	for _, s := range p.Steps {
		needs := stepGuards(s, rec, created)
		for _, b := range needs {
			if b.Guard == GuardNone || !a.allows(b.Guard) {
				steps = append(steps, b)
			}
		}
		if op, ok := s.Op.(DeleteDesktop); ok && !created[op.Desktop.Name] {
			deletes++
		}
	}
	var out []Blocked
	for _, g := range planGuards(p, len(rec.Desktops), deletes, maxDeletePercent) {
		if !a.allows(g.Guard) {
			out = append(out, Blocked{Guard: g.Guard, Message: g.Message})
		}
	}
	return append(out, steps...)
}

// stepGuards is what one step needs: its own guard as computed from its op and rec, and the guard
// its plan file names when that differs.
func stepGuards(s Step, rec *state.Record, created map[string]bool) []Blocked {
	var t Target
	var need Guard
	switch op := s.Op.(type) {
	case DeleteDesktop:
		t, need = op.Desktop, GuardDelete
		if created[t.Name] {
			need = GuardReplace
			if d, ok := rec.Desktop(t.VmID); ok && !d.Protect && createdNeverRan(rec, t.VmID) {
				// Its creation failed and it never ran (the journal says so): it holds no one's work,
				// and the planner replaces it without asking (a desktop left in error).
				return nil
			}
		}
	case RebuildDesktop:
		t, need = op.Desktop, GuardRebuild
	case UpdateOrder, RenewOrder:
		// Money committed up front: guarded whatever the plan file says.
		return []Blocked{{Step: s.ID, Guard: GuardPrepay, Message: describeStep(s)}}
	default:
		if s.Guard == GuardNone {
			return nil
		}
		return []Blocked{{Step: s.ID, Guard: s.Guard, Message: describeStep(s)}}
	}
	d, managed := rec.Desktop(t.VmID)
	switch {
	case d.Protect:
		return []Blocked{{Step: s.ID, Message: fmt.Sprintf("%s: the desktop is protected", describeStep(s))}}
	case !managed && need != GuardReplace:
		// A replacement may meet a desktop the spec names and the plan adopts; anything else it
		// deletes or rebuilds must be the fleet's own.
		return []Blocked{{Step: s.ID, Message: fmt.Sprintf("%s: fleet %s does not manage desktop %s",
			describeStep(s), rec.Fleet, t.VmID)}}
	}
	out := []Blocked{{Step: s.ID, Guard: need, Message: describeStep(s)}}
	if s.Guard != GuardNone && s.Guard != need {
		out = append(out, Blocked{Step: s.ID, Guard: s.Guard, Message: describeStep(s)})
	}
	return out
}

// planGuards is the plan's own plan-wide guards plus a mass deletion it does not state.
func planGuards(p *Plan, managed, deletes int, maxDeletePercent *int) []GuardFinding {
	out := append([]GuardFinding(nil), p.Guards...)
	for _, g := range p.Guards {
		if g.Guard == GuardMassDelete {
			return out
		}
	}
	if g, ok := massDelete(managed, deletes, maxDeletePercent); ok {
		out = append(out, g)
	}
	return out
}

// massDelete is the mass-deletion guard when deleting deletes of the managed desktops is more than
// maxDeletePercent of them (nil: DefaultMaxDeletePercent; negative: no limit).
func massDelete(managed, deletes int, maxDeletePercent *int) (GuardFinding, bool) {
	limit := DefaultMaxDeletePercent
	if maxDeletePercent != nil {
		limit = *maxDeletePercent
	}
	if limit < 0 || managed == 0 || deletes*100 <= limit*managed {
		return GuardFinding{}, false
	}
	return GuardFinding{Guard: GuardMassDelete,
		Message: fmt.Sprintf("deletes %d of %d managed desktops (%d%%), more than --max-delete-percent %d",
			deletes, managed, deletes*100/managed, limit)}, true
}

// describeStep is "step 3 DeleteVm art_001", as blocked changes are listed.
func describeStep(s Step) string {
	names := make([]string, 0, len(s.Op.Desktops()))
	for _, t := range s.Op.Desktops() {
		names = append(names, t.Name)
	}
	return fmt.Sprintf("step %d %s %s", s.ID, s.Op.Action(), strings.Join(names, ", "))
}

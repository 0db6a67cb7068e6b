package render

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/deskfleet/deskfleet/engine"
)

// tallyOrder is the order in which counts are shown, with the verb of the summary line.
var tallyOrder = []struct {
	action engine.Action
	verb   string
}{
	{engine.ActionCreate, "create"},
	{engine.ActionUpdate, "change"},
	{engine.ActionReplace, "replace"},
	{engine.ActionRebuild, "rebuild"},
	{engine.ActionDelete, "delete"},
	{engine.ActionAdopt, "adopt"},
	{engine.ActionForget, "forget"},
}

// severity ranks actions so that an object with several changes is counted once, under its most
// consequential one (a desktop relabelled and rebuilt counts as a rebuild).
func severity(a engine.Action) int {
	switch a {
	case engine.ActionDelete:
		return 7
	case engine.ActionReplace:
		return 6
	case engine.ActionRebuild:
		return 5
	case engine.ActionCreate:
		return 4
	case engine.ActionAdopt:
		return 3
	case engine.ActionUpdate:
		return 2
	case engine.ActionForget:
		return 1
	}
	return 0
}

// tally counts objects per action.
type tally map[engine.Action]int

// phrase is "3 to create, 4 to change, 1 to delete" ("" when nothing is counted).
func (t tally) phrase() string {
	var parts []string
	for _, o := range tallyOrder {
		if n := t[o.action]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d to %s", n, o.verb))
		}
	}
	return strings.Join(parts, ", ")
}

// glyphs is "+3 ~3 !1 -1 =1" ("" when nothing is counted).
func (t tally) glyphs() string {
	var parts []string
	for _, o := range tallyOrder {
		if n := t[o.action]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s%d", o.action, n))
		}
	}
	return strings.Join(parts, " ")
}

// counts tallies the objects the plan changes: each object (kind and name) once, under its most
// severe action; no-op changes are not counted. kind "" counts every kind.
func counts(p *engine.Plan, kind engine.ObjectKind) tally {
	type key struct {
		kind engine.ObjectKind
		name string
	}
	strongest := map[key]engine.Action{}
	var order []key
	for _, c := range p.Changes {
		if c.Action == engine.ActionNoop || (kind != "" && c.Object != kind) {
			continue
		}
		k := key{c.Object, c.Name}
		a, seen := strongest[k]
		if !seen {
			order = append(order, k)
		}
		if !seen || severity(c.Action) > severity(a) {
			strongest[k] = c.Action
		}
	}
	t := tally{}
	for _, k := range order {
		t[strongest[k]]++
	}
	return t
}

// guardedChanges counts the changes that need a flag and returns the distinct flags, sorted.
func guardedChanges(p *engine.Plan) (n int, flags []string) {
	for _, c := range p.Changes {
		if c.Guard == engine.GuardNone || c.Action == engine.ActionNoop {
			continue
		}
		n++
		if f := c.Guard.Flag(); f != "" && !slices.Contains(flags, f) {
			flags = append(flags, f)
		}
	}
	slices.Sort(flags)
	return n, flags
}

// planFlags returns the distinct flags the plan-wide guards need, sorted.
func planFlags(p *engine.Plan) []string {
	var flags []string
	for _, g := range p.Guards {
		if f := g.Guard.Flag(); f != "" && !slices.Contains(flags, f) {
			flags = append(flags, f)
		}
	}
	slices.Sort(flags)
	return flags
}

// summaryLine is the plan's last line: what it does, what needs flags, how many errors.
//
//	Plan: 3 to create, 4 to change, 1 to delete; 1 change needs a flag to apply (--allow-delete).
//	No changes. The live fleet matches the spec.
//	No changes can be made, but the live fleet does not match the spec; 1 object needs attention (see above).
func summaryLine(p *engine.Plan) string {
	var b strings.Builder
	phrase := counts(p, "").phrase()
	switch {
	case phrase != "":
		b.WriteString("Plan: " + phrase)
	case len(p.Errors) > 0:
		b.WriteString("No changes can be planned")
	case len(p.Unhealthy) > 0:
		b.WriteString("No changes can be made, but the live fleet does not match the spec")
	case p.Empty() && len(p.Warnings) > 0:
		b.WriteString("No changes. The managed fleet matches the spec (see " +
			plural(len(p.Warnings), "warning", "warnings") + " above)")
	case p.Empty():
		b.WriteString("No changes. The live fleet matches the spec")
	default:
		// Steps without a displayed change (a plan made by an older planner, or a repair).
		b.WriteString("Plan: " + plural(len(p.Steps), "step", "steps") + " to run")
	}
	if n, flags := guardedChanges(p); n > 0 {
		verb := "changes need flags"
		if n == 1 {
			verb = "change needs a flag"
		}
		if len(flags) == 1 {
			verb = strings.Replace(verb, "flags", "a flag", 1)
		}
		fmt.Fprintf(&b, "; %d %s to apply (%s)", n, verb, strings.Join(flags, ", "))
	}
	if flags := planFlags(p); len(flags) > 0 {
		fmt.Fprintf(&b, "; the whole plan needs %s", strings.Join(flags, ", "))
	}
	if len(p.Errors) > 0 {
		fmt.Fprintf(&b, "; %s (those objects are not planned)", plural(len(p.Errors), "error", "errors"))
	}
	if len(p.Unhealthy) > 0 {
		fmt.Fprintf(&b, "; %s attention (see above)", plural(len(p.Unhealthy), "object needs", "objects need"))
	}
	b.WriteByte('.')
	return b.String()
}

// apiCalls is the number of API calls the steps make when applied: one per step, and one
// GetDefaultNet per site whose default network a step creates or completes (CreateVm needs its ids).
// Task polling is not counted: it depends on how long the tasks run.
func apiCalls(p *engine.Plan) int {
	n := len(p.Steps)
	var sites []string
	for _, s := range p.Steps {
		f := s.Op.Facts()
		if !f.DefaultNet {
			continue
		}
		if site := f.Site.ID; !slices.Contains(sites, site) {
			sites = append(sites, site)
			n++
		}
	}
	return n
}

// tasks is the number of steps whose call returns a task to wait for.
func tasks(p *engine.Plan) int {
	n := 0
	for _, s := range p.Steps {
		if s.Op != nil && s.Async() {
			n++
		}
	}
	return n
}

// isDestructive reports whether a change loses data or needs a flag: deletions, replacements,
// rebuilds and any guarded change.
func isDestructive(c engine.Change) bool {
	switch c.Action {
	case engine.ActionDelete, engine.ActionReplace, engine.ActionRebuild:
		return true
	case engine.ActionNoop:
		return false
	}
	return c.Guard != engine.GuardNone
}

// throttleLine says how the API throttled a command's requests and the rate the client settled at
// ("" when it did not throttle): the plan's and the apply's summaries show it.
func throttleLine(th *engine.Throttle) string {
	if th == nil {
		return ""
	}
	s := "The API throttled " + plural(th.Throttled, "request", "requests")
	if th.SettledRate > 0 {
		return s + "; the request rate settled at " + strconv.FormatFloat(th.SettledRate, 'f', 1, 64) + " requests/s."
	}
	return s + "; the request rate does not adapt (--rate is negative)."
}

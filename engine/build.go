package engine

import (
	"sort"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/spec"
)

// build batches the tasks into steps, phase by phase: tasks of one phase with one key become one step
// (one API call), which waits for the steps its tasks depend on (phaseDeps, and the extra dependencies
// on networks, accounts and creations). Steps are numbered in phase order, then in spec order.
func (df *differ) build() {
	type group struct {
		key   string
		tasks []task
	}
	var phases [numPhases][]*group
	index := make([]map[string]*group, numPhases)
	put := func(t task) {
		if index[t.phase] == nil {
			index[t.phase] = map[string]*group{}
		}
		g, ok := index[t.phase][t.key]
		if !ok {
			g = &group{key: t.key}
			index[t.phase][t.key] = g
			phases[t.phase] = append(phases[t.phase], g)
		}
		g.tasks = append(g.tasks, t)
	}
	for _, t := range df.tasks {
		put(t)
	}

	last := map[string]*[numPhases]int{} // desktop name -> phase -> step id
	named := map[objKey]int{}            // a site's network step, an account's creation -> step id
	for ph := phase(0); ph < numPhases; ph++ {
		for _, g := range phases[ph] {
			op := df.makeOp(ph, g.tasks, put)
			id := len(df.plan.Steps) + 1
			after := map[int]bool{}
			for _, t := range g.tasks {
				if l := last[t.desk]; l != nil && t.desk != "" {
					for _, dp := range phaseDeps[ph] {
						if s := l[dp]; s > 0 {
							after[s] = true
						}
					}
				}
				for _, e := range t.extra {
					if s := named[e]; s > 0 {
						after[s] = true
					}
				}
			}
			step := Step{ID: id, Op: op, After: sortedIDs(after), Guard: g.tasks[0].guard, Reason: g.tasks[0].reason}
			df.plan.Steps = append(df.plan.Steps, step)
			for _, t := range g.tasks {
				if t.desk != "" {
					if last[t.desk] == nil {
						last[t.desk] = new([numPhases]int)
					}
					last[t.desk][ph] = id
				}
				if t.change >= 0 {
					c := &df.plan.Changes[t.change]
					if len(c.Steps) == 0 || c.Steps[len(c.Steps)-1] != id {
						c.Steps = appendUnique(c.Steps, id)
					}
				}
				switch ph {
				case phNet:
					named[networkKey(t.site.ID)] = id
				case phAccountCreate:
					named[accountKey(t.newAcct.Email)] = id
				}
			}
		}
	}
}

// makeOp merges the tasks of one step into its op. For a create it also queues the renames that fix
// the names CreateVm will give (put adds tasks of a later phase).
func (df *differ) makeOp(ph phase, ts []task, put func(task)) Op {
	t0 := ts[0]
	targets := func() []Target {
		out := make([]Target, 0, len(ts))
		seen := map[string]bool{}
		for _, t := range ts {
			if !seen[t.target.Name] {
				seen[t.target.Name] = true
				out = append(out, t.target)
			}
		}
		return out
	}
	switch ph {
	case phNet:
		if t0.label == NetCreate.String() {
			return CreateDefaultNet{Site: t0.site}
		}
		return SupplyDefaultNet{Site: t0.site}
	case phAccountCreate:
		op := CreateSubAccounts{}
		for _, t := range ts {
			op.New = append(op.New, t.newAcct)
		}
		return op
	case phAccountName:
		return ChangeSubAccountName{Account: t0.account, From: t0.from, To: t0.label}
	case phAccountRemark:
		op := ChangeSubAccountRemark{Remark: t0.remark}
		for _, t := range ts {
			op.Targets = append(op.Targets, t.account)
		}
		return op
	case phDelete:
		return DeleteDesktop{Desktop: t0.target}
	case phCreate:
		op := *t0.create
		op.Names = nil
		for _, t := range ts {
			op.Names = append(op.Names, t.target.Name)
		}
		op.BaseName, op.HostNo = creationNaming(t0.group, op.Names)
		for i, api := range op.APINames() {
			if api != op.Names[i] {
				put(task{phase: phRenameFix, key: op.Names[i], desk: op.Names[i], target: Target{Name: op.Names[i]},
					change: ts[i].change, from: api, reason: "CreateVm names it " + api})
			}
		}
		return op
	case phRenameFix, phRename:
		return RenameDesktop{Desktop: t0.target, From: t0.from}
	case phUpdateOrder:
		return UpdateOrder{Billing: t0.billing, Targets: targets()}
	case phRenew:
		return RenewOrder{Billing: t0.billing, Targets: targets()}
	case phPowerOff:
		return PowerDesktops{Power: provider.PowerOff, Targets: targets()}
	case phPowerOn:
		return PowerDesktops{Power: provider.PowerOn, Targets: targets()}
	case phRebuild:
		return RebuildDesktop{Desktop: t0.target, From: Image{ID: t0.from, Name: t0.label}, To: t0.image}
	case phUnbind:
		return UnbindAccounts{Targets: targets()}
	case phChange:
		return ChangeAccount{Desktop: t0.target, From: t0.from, Account: t0.account}
	case phBind:
		return BindAccounts{Account: t0.account, Targets: targets()}
	case phLabel:
		return LabelDesktops{Label: t0.label, Targets: targets()}
	}
	panic("engine: no op for phase") // unreachable: every phase is handled above
}

// creationNaming chooses CreateVm's name and hostNo so that the names it gives (name, name_<hostNo>,
// name_<hostNo+1>, ...) are the wanted ones whenever they allow it: the group's first desktop followed
// by consecutive ones. Otherwise the first wanted name is the base and the others are renamed after.
func creationNaming(group string, names []string) (string, int) {
	if len(names) < 2 {
		return names[0], 0
	}
	if names[0] == group {
		first, ok := groupIndex(group, names[1])
		if ok && first > 0 {
			consecutive := true
			for i := 2; i < len(names); i++ {
				if n, ok := groupIndex(group, names[i]); !ok || n != first+i-1 {
					consecutive = false
					break
				}
			}
			if consecutive {
				if first == 1 {
					return group, 0 // the server's default hostNo
				}
				return group, first
			}
		}
	}
	return names[0], 0
}

// APINames returns the names CreateVm gives the desktops: BaseName, then BaseName_<n> from HostNo
// (default 1) on (the emulator's and docs/api-readings.md's reading of the reference).
func (o CreateDesktops) APINames() []string {
	out := make([]string, len(o.Names))
	host := o.HostNo
	if host == 0 {
		host = 1
	}
	for i := range out {
		if i == 0 {
			out[i] = o.BaseName
			continue
		}
		out[i] = spec.DesktopName(o.BaseName, host+i-1)
	}
	return out
}

func sortedIDs(set map[int]bool) []int {
	if len(set) == 0 {
		return nil
	}
	out := make([]int, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	sort.Ints(out)
	return out
}

func appendUnique(list []int, id int) []int {
	for _, x := range list {
		if x == id {
			return list
		}
	}
	return append(list, id)
}

package engine

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/spec"
)

// BatchLimits are the most items the planner puts in one call of each batched action; a larger
// group is split into several calls, each its own step (and intent). The API reference states no
// maximum for any of these lists, so the defaults are conservative guesses, not the API's figures:
//   - CreateVm's num: 100. One task then makes at most 100 desktops, which bounds what one failed
//     task leaves in status error and what one lost answer leaves to be read back by name; CreateVm
//     names a batch BaseName, BaseName_001, ... from HostNo, and a later batch continues the
//     numbering with its own HostNo (its first desktop, named BaseName by the API, is renamed).
//   - the vmIds of OperateVm, UpdateVmLabels, BindAccounts, UnbindAccounts, UpdateOrder and
//     RenewalOrder, and CreateSubAccounts' accounts: 100, a request's query string well under the
//     common 8 KB limit of HTTP front ends (100 ids of about 40 characters).
//
// A value below 1 means no limit. Users set them with `--batch-limit ACTION=N` (ParseBatchLimits).
type BatchLimits struct {
	CreateVm          int `json:"createVm"`
	OperateVm         int `json:"operateVm"`
	UpdateVmLabels    int `json:"updateVmLabels"`
	BindAccounts      int `json:"bindAccounts"`
	UnbindAccounts    int `json:"unbindAccounts"`
	UpdateOrder       int `json:"updateOrder"`
	RenewalOrder      int `json:"renewalOrder"`
	CreateSubAccounts int `json:"createSubAccounts"`
}

// DefaultBatchLimits are the limits the planner applies (see BatchLimits for why these values).
var DefaultBatchLimits = BatchLimits{CreateVm: 100, OperateVm: 100, UpdateVmLabels: 100, BindAccounts: 100,
	UnbindAccounts: 100, UpdateOrder: 100, RenewalOrder: 100, CreateSubAccounts: 100}

// batchActions are the actions BatchLimits bounds, as the API names them, each with its limit's field
// and the list it bounds.
var batchActions = []struct {
	action provider.Action
	field  func(*BatchLimits) *int
	list   string
}{
	{provider.ActionCreateVm, func(l *BatchLimits) *int { return &l.CreateVm }, "num"},
	{provider.ActionOperateVm, func(l *BatchLimits) *int { return &l.OperateVm }, "vmIds"},
	{provider.ActionUpdateVmLabels, func(l *BatchLimits) *int { return &l.UpdateVmLabels }, "vmIds"},
	{provider.ActionBindAccounts, func(l *BatchLimits) *int { return &l.BindAccounts }, "vmIds"},
	{provider.ActionUnbindAccounts, func(l *BatchLimits) *int { return &l.UnbindAccounts }, "vmIds"},
	{provider.ActionUpdateOrder, func(l *BatchLimits) *int { return &l.UpdateOrder }, "vmIds"},
	{provider.ActionRenewalOrder, func(l *BatchLimits) *int { return &l.RenewalOrder }, "vmIds"},
	{provider.ActionCreateSubAccounts, func(l *BatchLimits) *int { return &l.CreateSubAccounts }, "accounts"},
}

// BatchLimitUsage is the command line's one-line help of --batch-limit.
const BatchLimitUsage = "at most N items in one call of `ACTION=N` (CreateVm: num; OperateVm, UpdateVmLabels, BindAccounts, " +
	"UnbindAccounts, UpdateOrder, RenewalOrder: vmIds; CreateSubAccounts: accounts; 100 each by default; repeatable)"

// ParseBatchLimits reads `--batch-limit` values, each ACTION=N: the most items (CreateVm's num, the
// vmIds of OperateVm, ..., CreateSubAccounts' accounts) one call of the action carries, N at least 1;
// ACTION as the API names it (case does not matter). The actions not named keep DefaultBatchLimits.
// No value: nil, the defaults (a plan records only limits that were given).
func ParseBatchLimits(values []string) (*BatchLimits, error) {
	if len(values) == 0 {
		return nil, nil
	}
	l := DefaultBatchLimits
	for _, v := range values {
		name, num, ok := strings.Cut(v, "=")
		n, err := strconv.Atoi(strings.TrimSpace(num))
		if !ok || err != nil || n < 1 {
			return nil, fmt.Errorf("--batch-limit %q: want ACTION=N with N a whole number of at least 1, e.g. CreateVm=100", v)
		}
		found := false
		for _, b := range batchActions {
			if strings.EqualFold(strings.TrimSpace(name), string(b.action)) {
				*b.field(&l), found = n, true
			}
		}
		if !found {
			return nil, fmt.Errorf("--batch-limit %q: %q is not a batched action; want one of %s", v, name, batchActionNames())
		}
	}
	return &l, nil
}

func batchActionNames() string {
	names := make([]string, len(batchActions))
	for i, b := range batchActions {
		names[i] = string(b.action)
	}
	return strings.Join(names, ", ")
}

// limit is the most tasks one step of phase ph takes (0: no limit).
func (l BatchLimits) limit(ph phase) int {
	switch ph {
	case phCreate:
		return l.CreateVm
	case phPowerOff, phPowerOn:
		return l.OperateVm
	case phLabel:
		return l.UpdateVmLabels
	case phBind:
		return l.BindAccounts
	case phUnbind:
		return l.UnbindAccounts
	case phUpdateOrder:
		return l.UpdateOrder
	case phRenew:
		return l.RenewalOrder
	case phAccountCreate:
		return l.CreateSubAccounts
	}
	return 0
}

// batches splits the tasks of one group into runs of at most limit distinct targets (desktops, or
// accounts for a creation of accounts), in order; limit < 1: one batch.
func batches(ts []task, limit int) [][]task {
	if limit < 1 || len(ts) <= limit {
		return [][]task{ts}
	}
	var out [][]task
	var cur []task
	seen := map[string]bool{}
	for _, t := range ts {
		k := t.target.Name
		if t.newAcct.Email != "" {
			k = t.newAcct.Email
		}
		if !seen[k] && len(seen) == limit {
			out, cur, seen = append(out, cur), nil, map[string]bool{}
		}
		seen[k] = true
		cur = append(cur, t)
	}
	return append(out, cur)
}

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
		var split []*group
		for _, g := range phases[ph] {
			for k, b := range batches(g.tasks, df.batchLimits().limit(ph)) {
				if ph == phCreate && k > 0 {
					b = continuedOrder(b[0].group, b)
				}
				split = append(split, &group{key: g.key, tasks: b})
			}
		}
		for _, g := range split {
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

// continuedOrder orders the tasks of a later batch of a split creation (group_100 ... group_149)
// for CreateVm's naming when they continue the group's numbering: the last one first, since CreateVm
// names its first desktop after the group (it is renamed after), and the others in order from hostNo
// on (creationNaming). Other tasks keep their order.
func continuedOrder(group string, ts []task) []task {
	if len(ts) < 2 || ts[0].target.Name == group {
		return ts
	}
	first, ok := groupIndex(group, ts[0].target.Name)
	if !ok || first < 1 {
		return ts
	}
	for i, t := range ts {
		if n, ok := groupIndex(group, t.target.Name); !ok || n != first+i {
			return ts
		}
	}
	out := make([]task, 0, len(ts))
	out = append(out, ts[len(ts)-1])
	return append(out, ts[:len(ts)-1]...)
}

// creationNaming chooses CreateVm's name and hostNo so that the names it gives (name, name_<hostNo>,
// name_<hostNo+1>, ...) are the wanted ones whenever they allow it: the group's first desktop followed
// by consecutive ones. A later batch of a group (continuedOrder: its last name, then consecutive
// ones) is named after the group from its first number on, its first desktop renamed after.
// Otherwise the first wanted name is the base and the others are renamed after.
func creationNaming(group string, names []string) (string, int) {
	if len(names) < 2 {
		return names[0], 0
	}
	if last, ok := groupIndex(group, names[0]); ok && last > 1 && names[0] != group {
		first, ok := groupIndex(group, names[1])
		consecutive := ok && first > 0 && last == first+len(names)-1
		for i := 2; consecutive && i < len(names); i++ {
			n, ok := groupIndex(group, names[i])
			consecutive = ok && n == first+i-1
		}
		if consecutive {
			return group, first
		}
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

// batchLimits are the plan's batch limits: Options.BatchLimits, else DefaultBatchLimits.
func (df *differ) batchLimits() BatchLimits {
	if l := df.opt.BatchLimits; l != nil {
		return *l
	}
	return DefaultBatchLimits
}

package engine

import (
	"context"
	"slices"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/state"
)

// The ops on existing desktops' power, labels and bound accounts: each one call for several desktops
// (ChangeAccount aside), each safe to repeat.

// PowerDesktops powers desktops on or off (OperateVm, a task).
type PowerDesktops struct {
	Power   provider.PowerAction `json:"power"`
	Targets []Target             `json:"desktops"`
}

func (PowerDesktops) Kind() OpKind            { return KindPowerDesktops }
func (PowerDesktops) Action() provider.Action { return provider.ActionOperateVm }
func (o PowerDesktops) Desktops() []Target    { return o.Targets }
func (PowerDesktops) Accounts() []string      { return nil }
func (PowerDesktops) isOp()                   {}
func (o PowerDesktops) Facts() OpFacts {
	return OpFacts{Async: true, Arg: CallArg{Kind: ArgWord, Text: string(o.Power)}}
}

func (o PowerDesktops) resolve(_ context.Context, r *run, _ Step) (Op, error) {
	ts, err := r.resolveTargets(o.Targets)
	o.Targets = ts
	return o, err
}

func (o PowerDesktops) call(ctx context.Context, env callEnv, rid string) (*callResult, error) {
	ids := idsOf(o.Targets)
	tr, err := env.c.OperateVm(ctx, provider.OperateVmRequest{RequestID: rid, Action: o.Power, VmIDs: ids})
	res, err := taskResult(tr, err)
	if res != nil && len(res.vmIDs) == 0 {
		res.vmIDs = ids
	}
	return res, err
}

// record: the power state is recorded as enforced where the spec wants it (a stop for a rebuild
// of a desktop wanted on is not).
func (o PowerDesktops) record(rec *state.Record, fx effect) {
	fx.desktops(rec, o.Targets, func(d *state.Desktop, w state.Desktop) {
		if w.Power == string(o.Power) {
			d.Power = w.Power
		}
	})
}

// settlePending: safe to repeat, once the desktops it may have set moving have settled.
func (PowerDesktops) settlePending(ctx context.Context, s *settler, in state.Intent, _ paramsJSON) (settlement, error) {
	return settleRepeatable(ctx, s, in), nil
}

// LabelDesktops sets one label on desktops (UpdateVmLabels).
type LabelDesktops struct {
	Label   string   `json:"label"`
	Targets []Target `json:"desktops"`
}

func (LabelDesktops) Kind() OpKind            { return KindLabelDesktops }
func (LabelDesktops) Action() provider.Action { return provider.ActionUpdateVmLabels }
func (o LabelDesktops) Desktops() []Target    { return o.Targets }
func (LabelDesktops) Accounts() []string      { return nil }
func (LabelDesktops) isOp()                   {}
func (o LabelDesktops) Facts() OpFacts {
	return OpFacts{Arg: CallArg{Kind: ArgText, Text: o.Label}}
}

func (o LabelDesktops) resolve(_ context.Context, r *run, _ Step) (Op, error) {
	ts, err := r.resolveTargets(o.Targets)
	o.Targets = ts
	return o, err
}

func (o LabelDesktops) call(ctx context.Context, env callEnv, rid string) (*callResult, error) {
	_, err := env.c.UpdateVmLabels(ctx, provider.UpdateVmLabelsRequest{RequestID: rid, VmIDs: idsOf(o.Targets), Label: o.Label})
	return syncResult(err)
}

func (o LabelDesktops) record(rec *state.Record, fx effect) {
	fx.desktops(rec, o.Targets, func(d *state.Desktop, _ state.Desktop) { d.Label = ptr(o.Label) })
}

// settlePending: safe to repeat.
func (LabelDesktops) settlePending(ctx context.Context, s *settler, in state.Intent, _ paramsJSON) (settlement, error) {
	return settleRepeatable(ctx, s, in), nil
}

// BindAccounts binds desktops that have no account to one sub-account (BindAccounts).
type BindAccounts struct {
	Account AccountRef `json:"account"`
	Targets []Target   `json:"desktops"`
}

func (BindAccounts) Kind() OpKind            { return KindBindAccounts }
func (BindAccounts) Action() provider.Action { return provider.ActionBindAccounts }
func (o BindAccounts) Desktops() []Target    { return o.Targets }
func (o BindAccounts) Accounts() []string    { return []string{o.Account.Email} }
func (BindAccounts) isOp()                   {}
func (o BindAccounts) Facts() OpFacts {
	return OpFacts{Arg: CallArg{Kind: ArgEmail, Text: o.Account.Email}}
}

// resolve also waits for the account to be ready (one made by this run is "creating" a while).
func (o BindAccounts) resolve(ctx context.Context, r *run, _ Step) (Op, error) {
	ts, err := r.resolveTargets(o.Targets)
	if err != nil {
		return nil, err
	}
	o.Targets = ts
	ref, err := r.readyAccount(ctx, o.Account)
	o.Account = ref
	return o, err
}

func (o BindAccounts) call(ctx context.Context, env callEnv, rid string) (*callResult, error) {
	_, err := env.c.BindAccounts(ctx, provider.BindAccountsRequest{RequestID: rid, VmIDs: idsOf(o.Targets), AccountID: o.Account.ID})
	return syncResult(err)
}

func (o BindAccounts) record(rec *state.Record, fx effect) {
	fx.desktops(rec, o.Targets, func(d *state.Desktop, _ state.Desktop) { d.Account = ptr(o.Account.Email) })
}

// settlePending: safe to repeat.
func (BindAccounts) settlePending(ctx context.Context, s *settler, in state.Intent, _ paramsJSON) (settlement, error) {
	return settleRepeatable(ctx, s, in), nil
}

// ChangeAccount re-binds one stopped desktop to another sub-account (ChangeAccount).
type ChangeAccount struct {
	Desktop Target     `json:"desktop"`
	From    string     `json:"from"` // email of the account bound now
	Account AccountRef `json:"account"`
}

func (ChangeAccount) Kind() OpKind            { return KindChangeAccount }
func (ChangeAccount) Action() provider.Action { return provider.ActionChangeAccount }
func (o ChangeAccount) Desktops() []Target    { return []Target{o.Desktop} }
func (o ChangeAccount) Accounts() []string    { return []string{o.Account.Email} }
func (ChangeAccount) isOp()                   {}
func (o ChangeAccount) Facts() OpFacts {
	return OpFacts{Arg: CallArg{Kind: ArgEmail, Text: o.Account.Email}}
}

// resolve also waits for the account to be ready, as BindAccounts does.
func (o ChangeAccount) resolve(ctx context.Context, r *run, _ Step) (Op, error) {
	t, err := r.resolveTarget(o.Desktop)
	if err != nil {
		return nil, err
	}
	o.Desktop = t
	ref, err := r.readyAccount(ctx, o.Account)
	o.Account = ref
	return o, err
}

func (o ChangeAccount) call(ctx context.Context, env callEnv, rid string) (*callResult, error) {
	_, err := env.c.ChangeAccount(ctx, provider.ChangeAccountRequest{RequestID: rid, VmID: o.Desktop.VmID, AccountID: o.Account.ID})
	return syncResult(err)
}

func (o ChangeAccount) record(rec *state.Record, fx effect) {
	fx.desktops(rec, o.Desktops(), func(d *state.Desktop, _ state.Desktop) { d.Account = ptr(o.Account.Email) })
}

// settlePending: safe to repeat.
func (ChangeAccount) settlePending(ctx context.Context, s *settler, in state.Intent, _ paramsJSON) (settlement, error) {
	return settleRepeatable(ctx, s, in), nil
}

// UnbindAccounts unbinds the accounts of stopped desktops (UnbindAccounts).
type UnbindAccounts struct {
	Targets []Target `json:"desktops"`
}

func (UnbindAccounts) Kind() OpKind            { return KindUnbindAccounts }
func (UnbindAccounts) Action() provider.Action { return provider.ActionUnbindAccounts }
func (o UnbindAccounts) Desktops() []Target    { return o.Targets }
func (UnbindAccounts) Accounts() []string      { return nil }
func (UnbindAccounts) isOp()                   {}
func (UnbindAccounts) Facts() OpFacts          { return OpFacts{} }

func (o UnbindAccounts) resolve(_ context.Context, r *run, _ Step) (Op, error) {
	ts, err := r.resolveTargets(o.Targets)
	o.Targets = ts
	return o, err
}

func (o UnbindAccounts) call(ctx context.Context, env callEnv, rid string) (*callResult, error) {
	_, err := env.c.UnbindAccounts(ctx, provider.UnbindAccountsRequest{RequestID: rid, VmIDs: idsOf(o.Targets)})
	return syncResult(err)
}

func (o UnbindAccounts) record(rec *state.Record, fx effect) {
	fx.desktops(rec, o.Targets, func(d *state.Desktop, _ state.Desktop) { d.Account = ptr("") })
}

// settlePending: safe to repeat.
func (UnbindAccounts) settlePending(ctx context.Context, s *settler, in state.Intent, _ paramsJSON) (settlement, error) {
	return settleRepeatable(ctx, s, in), nil
}

func idsOf(ts []Target) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.VmID
	}
	return slices.Clip(out)
}

// without: each desktop's power, label and binding is its own (narrower).
func (o PowerDesktops) without(drop map[string]bool) Op {
	if o.Targets = keepTargets(o.Targets, drop); len(o.Targets) == 0 {
		return nil
	}
	return o
}

func (o LabelDesktops) without(drop map[string]bool) Op {
	if o.Targets = keepTargets(o.Targets, drop); len(o.Targets) == 0 {
		return nil
	}
	return o
}

func (o BindAccounts) without(drop map[string]bool) Op {
	if o.Targets = keepTargets(o.Targets, drop); len(o.Targets) == 0 {
		return nil
	}
	return o
}

func (o UnbindAccounts) without(drop map[string]bool) Op {
	if o.Targets = keepTargets(o.Targets, drop); len(o.Targets) == 0 {
		return nil
	}
	return o
}

// leftUndone: the desktops a failed OperateVm task did not bring to the wanted power state, each
// running or stopped (taskRepeater); nil when a desktop is unread, busy or in another state.
func (o PowerDesktops) leftUndone(live map[string]*provider.Desktop) Op {
	want := provider.StatusRunning
	if o.Power == provider.PowerOff {
		want = provider.StatusStopped
	}
	var left []Target
	for _, t := range o.Targets {
		d, read := live[t.VmID]
		switch {
		case !read:
			return nil
		case d == nil || d.Status == want:
		case d.Status == provider.StatusRunning || d.Status == provider.StatusStopped:
			left = append(left, t)
		default:
			return nil
		}
	}
	if len(left) == 0 {
		return nil
	}
	o.Targets = left
	return o
}

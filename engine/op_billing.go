package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/state"
)

// The billing ops: per-minute to monthly, and renewals. Both answer per desktop.

// UpdateOrder converts per-minute desktops to monthly billing (UpdateOrder): one way, prepaid.
type UpdateOrder struct {
	Billing Billing  `json:"billing"`
	Targets []Target `json:"desktops"`
}

func (UpdateOrder) Kind() OpKind            { return KindUpdateOrder }
func (UpdateOrder) Action() provider.Action { return provider.ActionUpdateOrder }
func (o UpdateOrder) Desktops() []Target    { return o.Targets }
func (UpdateOrder) Accounts() []string      { return nil }
func (UpdateOrder) isOp()                   {}
func (o UpdateOrder) Facts() OpFacts {
	return OpFacts{Arg: CallArg{Kind: ArgBilling, Billing: o.Billing}}
}

func (o UpdateOrder) resolve(_ context.Context, r *run, _ Step) (Op, error) {
	ts, err := r.resolveTargets(o.Targets)
	o.Targets = ts
	return o, err
}

func (o UpdateOrder) call(ctx context.Context, env callEnv, rid string) (*callResult, error) {
	resp, err := env.c.UpdateOrder(ctx, provider.UpdateOrderRequest{RequestID: rid, VmIDs: idsOf(o.Targets),
		Duration: o.Billing.Months, IsToMonth: o.Billing.ToMonthEnd, IsAutoRenewal: o.Billing.AutoRenew})
	return orderResult(o.Targets, resp, err)
}

// record: the auto-renewal requested (QueryVm does not report it).
func (o UpdateOrder) record(rec *state.Record, fx effect) {
	fx.desktops(rec, o.Targets, func(d *state.Desktop, _ state.Desktop) { d.AutoRenew = o.Billing.AutoRenew })
}

// settlePending: the desktops' billing tells; those still per-minute were not converted.
func (o UpdateOrder) settlePending(ctx context.Context, s *settler, _ state.Intent, _ paramsJSON) (settlement, error) {
	var notMonthly []string
	for _, t := range o.Targets {
		d, err := s.c.QueryVm(ctx, provider.QueryVmRequest{VmID: t.VmID})
		if err != nil && !provider.IsNotFound(err) {
			return settlement{}, err
		}
		if err != nil || d.BillMethod != provider.BillMethodMonthly {
			notMonthly = append(notMonthly, t.Name)
		}
	}
	status := state.IntentDone
	if len(notMonthly) > 0 {
		status = state.IntentFailed
	}
	st := settled(status, fmt.Sprintf("%d of %d desktops are monthly", len(o.Targets)-len(notMonthly), len(o.Targets)))
	st.record, st.failed = true, notMonthly
	return st, nil
}

// RenewOrder renews monthly desktops whose term ends within the plan's renewWithin (RenewalOrder).
type RenewOrder struct {
	Billing Billing  `json:"billing"`
	Targets []Target `json:"desktops"`
}

func (RenewOrder) Kind() OpKind            { return KindRenewOrder }
func (RenewOrder) Action() provider.Action { return provider.ActionRenewalOrder }
func (o RenewOrder) Desktops() []Target    { return o.Targets }
func (RenewOrder) Accounts() []string      { return nil }
func (RenewOrder) isOp()                   {}
func (o RenewOrder) Facts() OpFacts {
	return OpFacts{Arg: CallArg{Kind: ArgBilling, Billing: o.Billing}}
}

func (o RenewOrder) resolve(_ context.Context, r *run, _ Step) (Op, error) {
	ts, err := r.resolveTargets(o.Targets)
	o.Targets = ts
	return o, err
}

func (o RenewOrder) call(ctx context.Context, env callEnv, rid string) (*callResult, error) {
	resp, err := env.c.RenewalOrder(ctx, provider.RenewalOrderRequest{RequestID: rid, VmIDs: idsOf(o.Targets),
		Duration: o.Billing.Months, IsToMonth: o.Billing.ToMonthEnd, PriceToMonth: o.Billing.FullMonthPrice,
		IsAutoRenewal: o.Billing.AutoRenew})
	return orderResult(o.Targets, resp, err)
}

// record: the auto-renewal the renewal set (QueryVm does not report it).
func (o RenewOrder) record(rec *state.Record, fx effect) {
	fx.desktops(rec, o.Targets, func(d *state.Desktop, _ state.Desktop) { d.AutoRenew = o.Billing.AutoRenew })
}

// settlePending: a renewal cannot be told from an earlier one by reading: a person must check.
func (o RenewOrder) settlePending(_ context.Context, _ *settler, in state.Intent, _ paramsJSON) (settlement, error) {
	return settlement{ask: fmt.Sprintf("RenewalOrder of %s, requestId %s, sent %s (intent %s): a renewal cannot be told from an earlier one by reading. "+
		"Check in the Capital Online console (orders, and each desktop's expiry) whether they were renewed by %d month(s) at that time; %s.",
		intentDesktops(in), in.RequestID, sentAt(in), in.ID, o.Billing.Months, howToAnswer(in))}, nil
}

// orderResult reads UpdateOrder's and RenewalOrder's per-desktop outcomes: failed items by name.
func orderResult(ts []Target, resp *provider.OrderResponse, err error) (*callResult, error) {
	if err != nil {
		return nil, err
	}
	cr := &callResult{okVmIDs: resp.SuccessVmIDs, failMsg: resp.FailedMsg}
	for _, id := range resp.FailedVmIDs {
		name := id
		for _, t := range ts {
			if t.VmID == id {
				name = t.Name
			}
		}
		cr.failed = append(cr.failed, name)
	}
	return cr, nil
}

// intentDesktops lists an intent's desktops with their ids, for a person.
func intentDesktops(in state.Intent) string {
	var parts []string
	for i, t := range in.Targets {
		id := ""
		if i < len(in.VmIDs) {
			id = in.VmIDs[i]
		}
		parts = append(parts, fmt.Sprintf("%s (vmId %s)", t, id))
	}
	return strings.Join(parts, ", ")
}

package engine

import (
	"context"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/state"
)

// The network ops: a site's default VPC, created or completed before desktops are created in it.

// CreateDefaultNet creates a site's default VPC (CreateDefaultNet, a task).
type CreateDefaultNet struct {
	Site Site `json:"site"`
}

func (CreateDefaultNet) Kind() OpKind            { return KindCreateDefaultNet }
func (CreateDefaultNet) Action() provider.Action { return provider.ActionCreateDefaultNet }
func (CreateDefaultNet) Desktops() []Target      { return nil }
func (CreateDefaultNet) Accounts() []string      { return nil }
func (CreateDefaultNet) isOp()                   {}
func (o CreateDefaultNet) Facts() OpFacts {
	return OpFacts{Async: true, Site: o.Site, DefaultNet: true}
}
func (o CreateDefaultNet) resolve(context.Context, *run, Step) (Op, error) { return o, nil }

func (o CreateDefaultNet) call(ctx context.Context, env callEnv, rid string) (*callResult, error) {
	tr, err := env.c.CreateDefaultNet(ctx, provider.CreateDefaultNetRequest{RequestID: rid, SiteID: o.Site.ID})
	if ae, ok := provider.AsAPIError(err); ok && ae.Code == provider.CodeCreateNetFailed {
		// 13500 also answers "exists" and "being created" (e.g. by a run that crashed): the step's
		// aim is met once the network is there.
		if waitDefaultNet(ctx, env, o.Site.ID) {
			return &callResult{}, nil
		}
	}
	return taskResult(tr, err)
}

// record: the record keeps no networks.
func (CreateDefaultNet) record(*state.Record, effect) {}

// settlePending: the network exists, or it is not there yet. A network still being made is not
// listed, so "not there" may mean "on its way"; the call is safe to repeat all the same: a site has one
// default network, and CreateDefaultNet answers 13500 while one exists or is being made, which call
// takes as the network on its way and waits for.
func (o CreateDefaultNet) settlePending(ctx context.Context, s *settler, _ state.Intent, _ paramsJSON) (settlement, error) {
	net, err := s.c.GetDefaultNet(ctx, provider.GetDefaultNetRequest{SiteID: o.Site.ID})
	if err != nil {
		return settlement{}, err
	}
	if net != nil {
		return settled(state.IntentDone, "the default network exists"), nil
	}
	st := settled(state.IntentFailed, "no default network yet; the call is safe to repeat (a second one answers 13500 while one is being made)")
	st.repeat = true
	return st, nil
}

// SupplyDefaultNet completes a site's default VPC with a subnet (SupplyDefaultNet, a task).
type SupplyDefaultNet struct {
	Site Site `json:"site"`
}

func (SupplyDefaultNet) Kind() OpKind            { return KindSupplyDefaultNet }
func (SupplyDefaultNet) Action() provider.Action { return provider.ActionSupplyDefaultNet }
func (SupplyDefaultNet) Desktops() []Target      { return nil }
func (SupplyDefaultNet) Accounts() []string      { return nil }
func (SupplyDefaultNet) isOp()                   {}
func (o SupplyDefaultNet) Facts() OpFacts {
	return OpFacts{Async: true, Site: o.Site, DefaultNet: true}
}
func (o SupplyDefaultNet) resolve(context.Context, *run, Step) (Op, error) { return o, nil }

func (o SupplyDefaultNet) call(ctx context.Context, env callEnv, rid string) (*callResult, error) {
	tr, err := env.c.SupplyDefaultNet(ctx, provider.SupplyDefaultNetRequest{RequestID: rid, SiteID: o.Site.ID})
	return taskResult(tr, err)
}

// record: the record keeps no networks.
func (SupplyDefaultNet) record(*state.Record, effect) {}

// settlePending: safe to repeat; the next plan does it again if the network still lacks a subnet.
func (SupplyDefaultNet) settlePending(ctx context.Context, s *settler, in state.Intent, _ paramsJSON) (settlement, error) {
	return settleRepeatable(ctx, s, in), nil
}

package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/spec"
)

// callEnv is what an op's call may use besides its parameters: the client, and the pace of the
// re-reads some calls make.
type callEnv struct {
	c   provider.Client
	opt ExecOptions
}

func (r *run) env() callEnv { return callEnv{c: r.c, opt: r.opt} }

// prepare resolves the step's op (Op.resolve: the ids of desktops and accounts created earlier in the
// run, the network chosen after a network step) and gathers what its intent records.
func (r *run) prepare(ctx context.Context, s Step) (*prepared, error) {
	op, err := s.Op.resolve(ctx, r, s)
	if err != nil {
		return nil, err
	}
	return r.prepared(op), nil
}

// prepared is the resolved op ready to call, with what its intent records.
func (r *run) prepared(op Op) *prepared {
	pr := &prepared{op: op, targets: intentTargets(op)}
	for _, t := range op.Desktops() {
		if t.VmID != "" {
			pr.vmIDs = append(pr.vmIDs, t.VmID)
		}
		if w, ok := r.wantByName[t.Name]; ok {
			pr.want = append(pr.want, w)
		}
	}
	for _, e := range op.Accounts() {
		if a, ok := r.wantAcct[e]; ok {
			pr.wantAccounts = append(pr.wantAccounts, a)
		}
	}
	return pr
}

// intentTargets are what an intent names: the op's desktops, else its accounts, else its site.
func intentTargets(op Op) []string {
	if ds := op.Desktops(); len(ds) > 0 {
		out := make([]string, len(ds))
		for i, t := range ds {
			out[i] = t.Name
		}
		return out
	}
	if as := op.Accounts(); len(as) > 0 {
		return as
	}
	return []string{op.Facts().Site.Name}
}

// resolveTargets fills in the ids of desktops created earlier in the run.
func (r *run) resolveTargets(ts []Target) ([]Target, error) {
	out := make([]Target, len(ts))
	for i, t := range ts {
		if t.VmID == "" {
			r.mu.Lock()
			t.VmID = r.vmIDs[t.Name]
			r.mu.Unlock()
			if t.VmID == "" {
				return nil, fmt.Errorf("desktop %s has no id: the step that creates it did not record one", t.Name)
			}
		}
		out[i] = t
	}
	return out, nil
}

func (r *run) resolveTarget(t Target) (Target, error) {
	ts, err := r.resolveTargets([]Target{t})
	if err != nil {
		return Target{}, err
	}
	return ts[0], nil
}

func taskResult(tr *provider.TaskResponse, err error) (*callResult, error) {
	if err != nil {
		return nil, err
	}
	if tr.TaskID == "" {
		return nil, errors.New("the API answered without a taskId")
	}
	return &callResult{taskID: tr.TaskID, vmIDs: tr.VmIDs}, nil
}

func syncResult(err error) (*callResult, error) {
	if err != nil {
		return nil, err
	}
	return &callResult{}, nil
}

// findCreatedByName finds, among the desktops created by the steps s depends on, the one whose name
// (read back after its creation) is from.
func (r *run) findCreatedByName(s Step, from string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range s.After {
		for _, id := range r.created[a] {
			if r.liveName[id] == from {
				return id
			}
		}
	}
	return ""
}

// chooseNetwork reads the default network after a network step and chooses the subnet (the one
// wanted, else the one with the most free addresses) and gateway (the one wanted, else the first,
// else none), as Resolve does.
func (r *run) chooseNetwork(ctx context.Context, o CreateDesktops) (NetworkChoice, error) {
	net, err := r.c.GetDefaultNet(ctx, provider.GetDefaultNetRequest{SiteID: o.Site.ID})
	if err != nil {
		return NetworkChoice{}, fmt.Errorf("reading the default network of %s: %w", o.Site.Name, err)
	}
	if net == nil || len(net.Subnets) == 0 {
		return NetworkChoice{}, fmt.Errorf("the default network of %s has no subnet yet", o.Site.Name)
	}
	c := NetworkChoice{Default: true, VpcID: net.VpcID, VpcName: net.VpcName,
		WantSubnet: o.Network.WantSubnet, WantGateway: o.Network.WantGateway}
	res := &resolver{reported: map[spec.Diagnostic]bool{}}
	if !res.pickSubnet(&c, *net, c.WantSubnet, spec.Pos{}) || !res.pickGateway(&c, *net, c.WantGateway, spec.Pos{}) {
		return NetworkChoice{}, fmt.Errorf("the default network of %s: %s", o.Site.Name, res.diags[0].Message)
	}
	return c, nil
}

// waitDefaultNet waits (bounded by SettleTimeout) until the site's default network has a subnet.
func waitDefaultNet(ctx context.Context, env callEnv, siteID string) bool {
	p := newPacer(env.opt, env.opt.SettleTimeout)
	for {
		net, err := env.c.GetDefaultNet(ctx, provider.GetDefaultNetRequest{SiteID: siteID})
		if err == nil && net != nil && len(net.Subnets) > 0 {
			return true
		}
		if p.expired() || p.wait(ctx) != nil {
			return false
		}
	}
}

// lookupAccounts reads the ids of accounts just created (one QuerySubAccounts), by email; none when
// the read fails (the bindings look them up again).
func lookupAccounts(ctx context.Context, c provider.Client, emails []string) map[string]string {
	req := provider.QuerySubAccountsRequest{}
	if len(emails) == 1 {
		req.Email = emails[0]
	}
	list, err := c.QuerySubAccounts(ctx, req)
	if err != nil {
		return nil
	}
	ids := map[string]string{}
	for _, a := range list {
		for _, e := range emails {
			if strings.EqualFold(e, a.Email) {
				ids[e] = a.AccountID
			}
		}
	}
	return ids
}

// readyAccount returns the account's id, waiting (bounded) while it is "creating" (an account made
// by this run, or by one that crashed): binding it earlier fails (13013/13011). One read when ready.
func (r *run) readyAccount(ctx context.Context, ref AccountRef) (AccountRef, error) {
	r.mu.Lock()
	id := r.acctIDs[ref.Email]
	r.mu.Unlock()
	if id == "" {
		id = ref.ID
	}
	p := newPacer(r.opt, r.opt.SettleTimeout)
	for {
		list, err := r.c.QuerySubAccounts(ctx, provider.QuerySubAccountsRequest{Email: ref.Email})
		if err != nil {
			return ref, fmt.Errorf("reading sub-account %s: %w", ref.Email, err)
		}
		var found *provider.SubAccount
		for i := range list {
			if strings.EqualFold(list[i].Email, ref.Email) {
				found = &list[i]
			}
		}
		switch {
		case found == nil && id == "":
			return ref, fmt.Errorf("sub-account %s does not exist", ref.Email)
		case found != nil && found.Status == provider.AccountError:
			return ref, fmt.Errorf("sub-account %s is in status error", ref.Email)
		case found != nil && found.Status != provider.AccountCreating:
			ref.ID = found.AccountID
			return ref, nil
		}
		if p.expired() {
			return ref, fmt.Errorf("sub-account %s still creating after %s", ref.Email, r.opt.SettleTimeout)
		}
		if err := p.wait(ctx); err != nil {
			return ref, err
		}
	}
}

// settleDesktops re-reads the desktops a task worked on until none is busy (bounded by
// SettleTimeout), so the next step finds them in a stable status. It returns the last reading by id
// (nil for a desktop that is gone). Only for steps whose task changes desktops.
func (r *run) settleDesktops(ctx context.Context, s Step, ids []string) map[string]*provider.Desktop {
	if !changesDesktops(s.Op) {
		return nil
	}
	return waitDesktops(ctx, r.c, r.opt, ids)
}

// changesDesktops reports whether the op's task changes its desktops (their status moves while it
// runs): the tasks that work on desktops.
func changesDesktops(op Op) bool { return op.Facts().Async && len(op.Desktops()) > 0 }

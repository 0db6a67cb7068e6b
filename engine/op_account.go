package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/state"
)

// The sub-account ops: create, rename, remark.

// NewAccount is one sub-account to create.
type NewAccount struct {
	Email  string `json:"email"`
	Name   string `json:"name"`
	Remark string `json:"remark,omitempty"`
}

// CreateSubAccounts creates sub-accounts: CreateSubAccount for one, CreateSubAccounts for several.
type CreateSubAccounts struct {
	New []NewAccount `json:"accounts"`
}

func (CreateSubAccounts) Kind() OpKind { return KindCreateSubAccounts }
func (o CreateSubAccounts) Action() provider.Action {
	if len(o.New) == 1 {
		return provider.ActionCreateSubAccount
	}
	return provider.ActionCreateSubAccounts
}
func (CreateSubAccounts) Desktops() []Target { return nil }
func (o CreateSubAccounts) Accounts() []string {
	out := make([]string, len(o.New))
	for i, a := range o.New {
		out[i] = a.Email
	}
	return out
}
func (CreateSubAccounts) isOp()                                             {}
func (CreateSubAccounts) Facts() OpFacts                                    { return OpFacts{} }
func (o CreateSubAccounts) resolve(context.Context, *run, Step) (Op, error) { return o, nil }

// call creates the accounts, then reads their ids (for the record and the bindings after).
func (o CreateSubAccounts) call(ctx context.Context, env callEnv, rid string) (*callResult, error) {
	cr := &callResult{}
	if len(o.New) == 1 {
		a := o.New[0]
		if _, err := env.c.CreateSubAccount(ctx, provider.CreateSubAccountRequest{RequestID: rid, Email: a.Email, Name: a.Name, Remark: a.Remark}); err != nil {
			return nil, err
		}
	} else {
		req := provider.CreateSubAccountsRequest{RequestID: rid}
		for _, a := range o.New {
			req.Accounts = append(req.Accounts, provider.NewSubAccount{Email: a.Email, Name: a.Name, Remark: a.Remark})
		}
		resp, err := env.c.CreateSubAccounts(ctx, req)
		if err != nil {
			return nil, err
		}
		for _, f := range resp.Failed {
			cr.failed = append(cr.failed, f.Email)
			cr.failMsg = f.Message
		}
	}
	cr.accountIDs = lookupAccounts(ctx, env.c, o.Accounts())
	return cr, nil
}

// record adds the accounts made, with the remark wanted (else the one sent).
func (o CreateSubAccounts) record(rec *state.Record, fx effect) {
	for _, a := range o.New {
		if fx.failed[a.Email] {
			continue
		}
		acc := state.Account{Email: a.Email, AccountID: fx.accountIDs[a.Email], Name: a.Name}
		if w, ok := fx.wantAccount(a.Email); ok {
			acc.Remark = w.Remark
		} else if a.Remark != "" {
			acc.Remark = ptr(a.Remark)
		}
		rec.PutAccount(acc)
	}
}

// settlePending looks the accounts up by email: those found were created.
func (o CreateSubAccounts) settlePending(ctx context.Context, s *settler, _ state.Intent, _ paramsJSON) (settlement, error) {
	list, err := s.c.QuerySubAccounts(ctx, provider.QuerySubAccountsRequest{})
	if err != nil {
		return settlement{}, err
	}
	ids := map[string]string{}
	var missing []string
	for _, a := range o.New {
		for _, l := range list {
			if strings.EqualFold(l.Email, a.Email) {
				ids[a.Email] = l.AccountID
			}
		}
		if _, ok := ids[a.Email]; !ok {
			missing = append(missing, a.Email)
		}
	}
	if len(ids) == 0 {
		return settled(state.IntentFailed, "no account with these emails: not created"), nil
	}
	st := settled(state.IntentDone, fmt.Sprintf("%d of %d accounts found by email", len(ids), len(o.New)))
	st.record, st.failed, st.accountIDs = true, missing, ids
	return st, nil
}

// ChangeSubAccountName renames one sub-account.
type ChangeSubAccountName struct {
	Account AccountRef `json:"account"`
	From    string     `json:"from"`
	To      string     `json:"to"`
}

func (ChangeSubAccountName) Kind() OpKind            { return KindChangeSubAccountName }
func (ChangeSubAccountName) Action() provider.Action { return provider.ActionChangeSubAccountName }
func (ChangeSubAccountName) Desktops() []Target      { return nil }
func (o ChangeSubAccountName) Accounts() []string    { return []string{o.Account.Email} }
func (ChangeSubAccountName) isOp()                   {}
func (o ChangeSubAccountName) Facts() OpFacts {
	return OpFacts{Arg: CallArg{Kind: ArgText, Text: o.To}}
}
func (o ChangeSubAccountName) resolve(context.Context, *run, Step) (Op, error) { return o, nil }

func (o ChangeSubAccountName) call(ctx context.Context, env callEnv, rid string) (*callResult, error) {
	_, err := env.c.ChangeSubAccountName(ctx, provider.ChangeSubAccountNameRequest{RequestID: rid, Email: o.Account.Email, Name: o.To})
	return syncResult(err)
}

func (o ChangeSubAccountName) record(rec *state.Record, _ effect) {
	if a, ok := rec.Accounts[o.Account.Email]; ok {
		a.Name = o.To
		rec.PutAccount(a)
	}
}

// settlePending: safe to repeat.
func (ChangeSubAccountName) settlePending(ctx context.Context, s *settler, in state.Intent, _ paramsJSON) (settlement, error) {
	return settleRepeatable(ctx, s, in), nil
}

// ChangeSubAccountRemark sets one remark on several sub-accounts.
type ChangeSubAccountRemark struct {
	Targets []AccountRef `json:"accounts"`
	Remark  string       `json:"remark"`
}

func (ChangeSubAccountRemark) Kind() OpKind            { return KindChangeSubAccountRemark }
func (ChangeSubAccountRemark) Action() provider.Action { return provider.ActionChangeSubAccountRemark }
func (ChangeSubAccountRemark) Desktops() []Target      { return nil }
func (o ChangeSubAccountRemark) Accounts() []string {
	out := make([]string, len(o.Targets))
	for i, a := range o.Targets {
		out[i] = a.Email
	}
	return out
}
func (ChangeSubAccountRemark) isOp() {}
func (o ChangeSubAccountRemark) Facts() OpFacts {
	return OpFacts{Arg: CallArg{Kind: ArgText, Text: o.Remark}}
}
func (o ChangeSubAccountRemark) resolve(context.Context, *run, Step) (Op, error) { return o, nil }

func (o ChangeSubAccountRemark) call(ctx context.Context, env callEnv, rid string) (*callResult, error) {
	_, err := env.c.ChangeSubAccountRemark(ctx, provider.ChangeSubAccountRemarkRequest{RequestID: rid, Emails: o.Accounts(), Remark: o.Remark})
	return syncResult(err)
}

func (o ChangeSubAccountRemark) record(rec *state.Record, _ effect) {
	for _, t := range o.Targets {
		if a, ok := rec.Accounts[t.Email]; ok {
			a.Remark = ptr(o.Remark)
			rec.PutAccount(a)
		}
	}
}

// settlePending: safe to repeat.
func (ChangeSubAccountRemark) settlePending(ctx context.Context, s *settler, in state.Intent, _ paramsJSON) (settlement, error) {
	return settleRepeatable(ctx, s, in), nil
}

package gcw

import (
	"context"

	"github.com/deskfleet/deskfleet/provider"
)

type orderWire struct {
	SuccessVmIDs   []fString `json:"successVmIds"`
	FailedVmIDs    []fString `json:"failedVmIds"`
	FailedMsg      fString   `json:"failedMsg"`
	RequestID      fString   `json:"requestId"`
	RequestContent fString   `json:"requestContent"`
}

func (c *Client) order(ctx context.Context, action provider.Action, rid string, p map[string]any) (*provider.OrderResponse, error) {
	var w orderWire
	if err := c.call(ctx, action, p, rid, &w); err != nil {
		return nil, err
	}
	return &provider.OrderResponse{RequestID: orDefault(string(w.RequestID), rid), SuccessVmIDs: stringsOf(w.SuccessVmIDs),
		FailedVmIDs: stringsOf(w.FailedVmIDs), FailedMsg: string(w.FailedMsg), RequestContent: string(w.RequestContent)}, nil
}

// UpdateOrder implements provider.Client.
func (c *Client) UpdateOrder(ctx context.Context, req provider.UpdateOrderRequest) (*provider.OrderResponse, error) {
	rid := c.requestID(req.RequestID)
	p := map[string]any{"requestId": rid, "vmIds": ids(req.VmIDs), "isToMonth": flag(req.IsToMonth),
		"isAutoRenewal": flag(req.IsAutoRenewal)}
	setInt(p, "duration", req.Duration)
	return c.order(ctx, provider.ActionUpdateOrder, rid, p)
}

// RenewalOrder implements provider.Client.
func (c *Client) RenewalOrder(ctx context.Context, req provider.RenewalOrderRequest) (*provider.OrderResponse, error) {
	rid := c.requestID(req.RequestID)
	p := map[string]any{"requestId": rid, "vmIds": ids(req.VmIDs), "isToMonth": flag(req.IsToMonth),
		"priceToMonth": flag(req.PriceToMonth), "isAutoRenewal": flag(req.IsAutoRenewal)}
	setInt(p, "duration", req.Duration)
	return c.order(ctx, provider.ActionRenewalOrder, rid, p)
}

type accountWire struct {
	AccountID fString `json:"accountId"`
	Name      fString `json:"name"`
	Email     fString `json:"email"`
	Remark    fString `json:"remark"`
	BindNum   fInt    `json:"bindNum"`
	Status    fString `json:"status"`
}

// QuerySubAccounts implements provider.Client.
func (c *Client) QuerySubAccounts(ctx context.Context, req provider.QuerySubAccountsRequest) ([]provider.SubAccount, error) {
	p := map[string]any{}
	setIf(p, "email", req.Email)
	setIf(p, "name", req.Name)
	setIf(p, "remark", req.Remark)
	var ws []accountWire
	if err := c.call(ctx, provider.ActionQuerySubAccounts, p, "", &ws); err != nil {
		return nil, err
	}
	out := make([]provider.SubAccount, len(ws))
	for i, w := range ws {
		out[i] = provider.SubAccount{AccountID: string(w.AccountID), Name: string(w.Name), Email: string(w.Email),
			Remark: string(w.Remark), BindNum: int(w.BindNum), Status: provider.AccountStatus(w.Status)}
	}
	return out, nil
}

// sync performs a synchronous mutation whose Data is empty or ignored.
func (c *Client) sync(ctx context.Context, action provider.Action, rid string, p map[string]any) (*provider.SyncResponse, error) {
	if err := c.call(ctx, action, p, rid, nil); err != nil {
		return nil, err
	}
	return &provider.SyncResponse{RequestID: rid}, nil
}

// CreateSubAccount implements provider.Client.
func (c *Client) CreateSubAccount(ctx context.Context, req provider.CreateSubAccountRequest) (*provider.SyncResponse, error) {
	rid := c.requestID(req.RequestID)
	p := map[string]any{"requestId": rid, "email": req.Email, "name": req.Name}
	setIf(p, "remark", req.Remark)
	return c.sync(ctx, provider.ActionCreateSubAccount, rid, p)
}

type failedAccountWire struct {
	Name   fString `json:"name"`
	Email  fString `json:"email"`
	Remark fString `json:"remark"`
	// The reference spells it "messsage"; "message" is accepted too.
	Messsage fString `json:"messsage"`
	Message  fString `json:"message"`
}

type createAccountsWire struct {
	FailedNum  fInt                `json:"failedNum"`
	SuccessNum fInt                `json:"successNum"`
	FailedMsgs []failedAccountWire `json:"failedMsgs"`
}

// CreateSubAccounts implements provider.Client.
func (c *Client) CreateSubAccounts(ctx context.Context, req provider.CreateSubAccountsRequest) (*provider.CreateSubAccountsResponse, error) {
	rid := c.requestID(req.RequestID)
	accts := make([]map[string]string, len(req.Accounts))
	for i, a := range req.Accounts {
		m := map[string]string{"email": a.Email, "name": a.Name}
		if a.Remark != "" {
			m["remark"] = a.Remark
		}
		accts[i] = m
	}
	var w createAccountsWire
	if err := c.call(ctx, provider.ActionCreateSubAccounts, map[string]any{"requestId": rid, "createAccountParams": accts}, rid, &w); err != nil {
		return nil, err
	}
	out := &provider.CreateSubAccountsResponse{RequestID: rid, SuccessNum: int(w.SuccessNum), FailedNum: int(w.FailedNum)}
	for _, f := range w.FailedMsgs {
		out.Failed = append(out.Failed, provider.FailedSubAccount{Name: string(f.Name), Email: string(f.Email),
			Remark: string(f.Remark), Message: orDefault(string(f.Messsage), string(f.Message))})
	}
	return out, nil
}

// ChangeSubAccountName implements provider.Client.
func (c *Client) ChangeSubAccountName(ctx context.Context, req provider.ChangeSubAccountNameRequest) (*provider.SyncResponse, error) {
	rid := c.requestID(req.RequestID)
	return c.sync(ctx, provider.ActionChangeSubAccountName, rid,
		map[string]any{"requestId": rid, "email": req.Email, "name": req.Name})
}

// ChangeSubAccountRemark implements provider.Client.
func (c *Client) ChangeSubAccountRemark(ctx context.Context, req provider.ChangeSubAccountRemarkRequest) (*provider.SyncResponse, error) {
	rid := c.requestID(req.RequestID)
	return c.sync(ctx, provider.ActionChangeSubAccountRemark, rid,
		map[string]any{"requestId": rid, "emails": ids(req.Emails), "remark": req.Remark})
}

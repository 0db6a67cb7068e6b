package gcw

import (
	"context"
	"strconv"

	"github.com/deskfleet/deskfleet/provider"
)

type vmsWire struct {
	VmIDs []fString `json:"vmIds"`
}

// QueryVms implements provider.Client.
func (c *Client) QueryVms(ctx context.Context, req provider.QueryVmsRequest) (*provider.QueryVmsResponse, error) {
	p := map[string]any{}
	setIf(p, "siteId", req.SiteID)
	setIf(p, "productId", req.ProductID)
	if req.BillMethod != nil {
		p["billMethod"] = strconv.Itoa(int(*req.BillMethod))
	}
	setIf(p, "email", req.Email)
	setIf(p, "vpcId", req.VpcID)
	setIf(p, "vpcName", req.VpcName)
	var w vmsWire
	if err := c.call(ctx, provider.ActionQueryVms, p, "", &w); err != nil {
		return nil, err
	}
	out := stringsOf(w.VmIDs)
	if out == nil {
		out = []string{}
	}
	return &provider.QueryVmsResponse{VmIDs: out}, nil
}

type vmWire struct {
	VmName       fString `json:"vmName"`
	SiteID       fString `json:"siteId"`
	BillMethod   fInt    `json:"billMethod"`
	ProductID    fString `json:"productId"`
	VpcID        fString `json:"vpcId"`
	VpcName      fString `json:"vpcName"`
	EIP          fString `json:"eip"`
	PrivateIP    fString `json:"privateIp"`
	PublicIP     fString `json:"publicIp"`
	BW           fInt    `json:"bw"`
	AccountName  fString `json:"accountName"`
	AccountEmail fString `json:"accountEmail"`
	ExpireTime   fString `json:"expireTime"`
	Label        fString `json:"label"`
	Status       fString `json:"status"`
}

// QueryVm implements provider.Client. The returned desktop's ID is the id asked for.
func (c *Client) QueryVm(ctx context.Context, req provider.QueryVmRequest) (*provider.QueryVmResponse, error) {
	var w vmWire
	// The one read made per desktop (a GET): its query is built here, not from a map of parameters.
	info, _ := provider.LookupAction(provider.ActionQueryVm)
	if _, err := c.send(ctx, info, []queryParam{{"vmId", req.VmID}}, nil, "", &w); err != nil {
		return nil, err
	}
	return &provider.Desktop{ID: req.VmID, Name: string(w.VmName), SiteID: string(w.SiteID), ProductID: string(w.ProductID),
		BillMethod: provider.BillMethod(w.BillMethod), VpcID: string(w.VpcID), VpcName: string(w.VpcName),
		EIP: string(w.EIP), PrivateIP: string(w.PrivateIP), PublicIP: string(w.PublicIP), BandwidthMbps: int(w.BW),
		AccountName: string(w.AccountName), AccountEmail: string(w.AccountEmail), Label: string(w.Label),
		ExpireTime: parseTime(w.ExpireTime), Status: provider.NormalizeStatus(string(w.Status)), RawStatus: string(w.Status)}, nil
}

// CreateVm implements provider.Client. The virtual gateway is sent as vgatewayNetId/vgatewayConfId
// (lower-case g, the spelling the server accepted) and only when set.
func (c *Client) CreateVm(ctx context.Context, req provider.CreateVmRequest) (*provider.TaskResponse, error) {
	rid := c.requestID(req.RequestID)
	p := map[string]any{"requestId": rid, "siteId": req.SiteID, "productId": req.ProductID, "name": req.Name,
		"imageId": req.ImageID, "qos": itoa(req.QosMbps), "vpcId": req.VpcID, "subnetNetId": req.SubnetNetID}
	setInt(p, "num", req.Num)
	setInt(p, "hostNo", req.HostNo)
	setIf(p, "moneyType", req.MoneyType)
	setIf(p, "subAccountId", req.SubAccountID)
	setIf(p, "billCycle", string(req.BillCycle))
	if req.BillCycle == provider.BillCycleMonthly {
		// The monthly terms are meaningless (and documented as not to be sent) for per-minute billing.
		setInt(p, "duration", req.Duration)
		p["isToMonth"] = flag(req.IsToMonth)
		p["isAutoRenewal"] = flag(req.IsAutoRenewal)
		p["priceToMonth"] = flag(req.PriceToMonth)
	}
	setIf(p, "vgatewayNetId", req.VGatewayNetID)
	setIf(p, "vgatewayConfId", req.VGatewayConfID)
	return c.task(ctx, provider.ActionCreateVm, rid, p, "")
}

// OperateVm implements provider.Client.
func (c *Client) OperateVm(ctx context.Context, req provider.OperateVmRequest) (*provider.TaskResponse, error) {
	rid := c.requestID(req.RequestID)
	return c.task(ctx, provider.ActionOperateVm, rid,
		map[string]any{"requestId": rid, "action": string(req.Action), "vmIds": ids(req.VmIDs)}, "")
}

// RebuildVm implements provider.Client. It is a mutation sent as GET: never retried once sent.
func (c *Client) RebuildVm(ctx context.Context, req provider.RebuildVmRequest) (*provider.TaskResponse, error) {
	rid := c.requestID(req.RequestID)
	return c.task(ctx, provider.ActionRebuildVm, rid,
		map[string]any{"requestId": rid, "vmId": req.VmID, "imageId": req.ImageID}, req.VmID)
}

// DeleteVm implements provider.Client.
func (c *Client) DeleteVm(ctx context.Context, req provider.DeleteVmRequest) (*provider.TaskResponse, error) {
	rid := c.requestID(req.RequestID)
	return c.task(ctx, provider.ActionDeleteVm, rid, map[string]any{"requestId": rid, "vmId": req.VmID}, req.VmID)
}

// ChangeVmName implements provider.Client.
func (c *Client) ChangeVmName(ctx context.Context, req provider.ChangeVmNameRequest) (*provider.SyncResponse, error) {
	rid := c.requestID(req.RequestID)
	return c.sync(ctx, provider.ActionChangeVmName, rid, map[string]any{"requestId": rid, "vmId": req.VmID, "name": req.Name})
}

// UpdateVmLabels implements provider.Client.
func (c *Client) UpdateVmLabels(ctx context.Context, req provider.UpdateVmLabelsRequest) (*provider.SyncResponse, error) {
	rid := c.requestID(req.RequestID)
	return c.sync(ctx, provider.ActionUpdateVmLabels, rid,
		map[string]any{"requestId": rid, "vmIds": ids(req.VmIDs), "label": req.Label})
}

// ChangeAccount implements provider.Client.
func (c *Client) ChangeAccount(ctx context.Context, req provider.ChangeAccountRequest) (*provider.SyncResponse, error) {
	rid := c.requestID(req.RequestID)
	return c.sync(ctx, provider.ActionChangeAccount, rid,
		map[string]any{"requestId": rid, "vmId": req.VmID, "accountId": req.AccountID})
}

// UnbindAccounts implements provider.Client.
func (c *Client) UnbindAccounts(ctx context.Context, req provider.UnbindAccountsRequest) (*provider.SyncResponse, error) {
	rid := c.requestID(req.RequestID)
	return c.sync(ctx, provider.ActionUnbindAccounts, rid, map[string]any{"requestId": rid, "vmIds": ids(req.VmIDs)})
}

// BindAccounts implements provider.Client.
func (c *Client) BindAccounts(ctx context.Context, req provider.BindAccountsRequest) (*provider.SyncResponse, error) {
	rid := c.requestID(req.RequestID)
	return c.sync(ctx, provider.ActionBindAccounts, rid,
		map[string]any{"requestId": rid, "vmIds": ids(req.VmIDs), "accountId": req.AccountID})
}

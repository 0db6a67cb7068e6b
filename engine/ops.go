package engine

import (
	"encoding/json"
	"fmt"

	"github.com/deskfleet/deskfleet/provider"
)

// Op is one API call of a plan: a typed value (never a closure), so a plan can be printed, saved,
// golden-tested and resumed. The set is closed: the types in this file are every Op there is.
type Op interface {
	// Kind names the op's type; it is the "op" key of the plan's JSON.
	Kind() OpKind
	// Action is the API action the op calls.
	Action() provider.Action
	// Desktops are the desktops the op touches (VmID "" for desktops created by this plan).
	Desktops() []Target
	// Accounts are the emails of the sub-accounts the op touches.
	Accounts() []string
	isOp()
}

// OpKind names an Op type.
type OpKind string

// The op kinds, one per Op type.
const (
	KindCreateDefaultNet       OpKind = "create_default_net"
	KindSupplyDefaultNet       OpKind = "supply_default_net"
	KindCreateSubAccounts      OpKind = "create_sub_accounts"
	KindChangeSubAccountName   OpKind = "change_sub_account_name"
	KindChangeSubAccountRemark OpKind = "change_sub_account_remark"
	KindCreateDesktops         OpKind = "create_desktops"
	KindDeleteDesktop          OpKind = "delete_desktop"
	KindRebuildDesktop         OpKind = "rebuild_desktop"
	KindRenameDesktop          OpKind = "rename_desktop"
	KindPowerDesktops          OpKind = "power_desktops"
	KindLabelDesktops          OpKind = "label_desktops"
	KindBindAccounts           OpKind = "bind_accounts"
	KindChangeAccount          OpKind = "change_account"
	KindUnbindAccounts         OpKind = "unbind_accounts"
	KindUpdateOrder            OpKind = "update_order"
	KindRenewOrder             OpKind = "renew_order"
)

// Target is a desktop an op touches: its spec name and, once it exists, its id. A desktop created by
// an earlier step of the same plan has VmID "" in the plan: the executor takes it from that step.
type Target struct {
	Name string `json:"name"`
	VmID string `json:"vmId,omitempty"`
}

// AccountRef is a sub-account an op touches: its email and, once it exists, its id ("" for an account
// created by an earlier step of the same plan).
type AccountRef struct {
	Email string `json:"email"`
	ID    string `json:"id,omitempty"`
}

// CreateDefaultNet creates a site's default VPC (CreateDefaultNet, a task).
type CreateDefaultNet struct {
	Site Site `json:"site"`
}

// SupplyDefaultNet completes a site's default VPC with a subnet (SupplyDefaultNet, a task).
type SupplyDefaultNet struct {
	Site Site `json:"site"`
}

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

// ChangeSubAccountName renames one sub-account.
type ChangeSubAccountName struct {
	Account AccountRef `json:"account"`
	From    string     `json:"from"`
	To      string     `json:"to"`
}

// ChangeSubAccountRemark sets one remark on several sub-accounts.
type ChangeSubAccountRemark struct {
	Targets []AccountRef `json:"accounts"`
	Remark  string       `json:"remark"`
}

// CreateDesktops creates desktops that share every creation parameter in one CreateVm call (a task)
// with num = len(Names). CreateVm names them BaseName, BaseName_001, ... from HostNo; the executor reads
// the created names back and renames those that differ from Names.
type CreateDesktops struct {
	Names     []string      `json:"names"`
	BaseName  string        `json:"baseName"`
	HostNo    int           `json:"hostNo,omitempty"`
	Site      Site          `json:"site"`
	ProductID string        `json:"productId"`
	Product   string        `json:"product"` // display: "NVIDIA A5000 windows"
	GoodsID   int           `json:"goodsId"`
	Image     Image         `json:"image"`
	Bandwidth int           `json:"bandwidth"`
	Billing   Billing       `json:"billing"`
	Network   NetworkChoice `json:"network"`
}

// DeleteDesktop deletes one desktop (DeleteVm, a task).
type DeleteDesktop struct {
	Desktop Target `json:"desktop"`
}

// RebuildDesktop reinstalls one stopped desktop from an image (RebuildVm, a task): it wipes the system disk.
type RebuildDesktop struct {
	Desktop Target `json:"desktop"`
	From    Image  `json:"from"` // the image last applied
	To      Image  `json:"to"`
}

// RenameDesktop renames one desktop (ChangeVmName).
type RenameDesktop struct {
	Desktop Target `json:"desktop"` // Name is the new name
	From    string `json:"from"`
}

// PowerDesktops powers desktops on or off (OperateVm, a task).
type PowerDesktops struct {
	Power   provider.PowerAction `json:"power"`
	Targets []Target             `json:"desktops"`
}

// LabelDesktops sets one label on desktops (UpdateVmLabels).
type LabelDesktops struct {
	Label   string   `json:"label"`
	Targets []Target `json:"desktops"`
}

// BindAccounts binds desktops that have no account to one sub-account (BindAccounts).
type BindAccounts struct {
	Account AccountRef `json:"account"`
	Targets []Target   `json:"desktops"`
}

// ChangeAccount re-binds one stopped desktop to another sub-account (ChangeAccount).
type ChangeAccount struct {
	Desktop Target     `json:"desktop"`
	From    string     `json:"from"` // email of the account bound now
	Account AccountRef `json:"account"`
}

// UnbindAccounts unbinds the accounts of stopped desktops (UnbindAccounts).
type UnbindAccounts struct {
	Targets []Target `json:"desktops"`
}

// UpdateOrder converts per-minute desktops to monthly billing (UpdateOrder): one way, prepaid.
type UpdateOrder struct {
	Billing Billing  `json:"billing"`
	Targets []Target `json:"desktops"`
}

// RenewOrder renews monthly desktops whose term ends within the plan's renewWithin (RenewalOrder).
type RenewOrder struct {
	Billing Billing  `json:"billing"`
	Targets []Target `json:"desktops"`
}

func (CreateDefaultNet) Kind() OpKind       { return KindCreateDefaultNet }
func (SupplyDefaultNet) Kind() OpKind       { return KindSupplyDefaultNet }
func (CreateSubAccounts) Kind() OpKind      { return KindCreateSubAccounts }
func (ChangeSubAccountName) Kind() OpKind   { return KindChangeSubAccountName }
func (ChangeSubAccountRemark) Kind() OpKind { return KindChangeSubAccountRemark }
func (CreateDesktops) Kind() OpKind         { return KindCreateDesktops }
func (DeleteDesktop) Kind() OpKind          { return KindDeleteDesktop }
func (RebuildDesktop) Kind() OpKind         { return KindRebuildDesktop }
func (RenameDesktop) Kind() OpKind          { return KindRenameDesktop }
func (PowerDesktops) Kind() OpKind          { return KindPowerDesktops }
func (LabelDesktops) Kind() OpKind          { return KindLabelDesktops }
func (BindAccounts) Kind() OpKind           { return KindBindAccounts }
func (ChangeAccount) Kind() OpKind          { return KindChangeAccount }
func (UnbindAccounts) Kind() OpKind         { return KindUnbindAccounts }
func (UpdateOrder) Kind() OpKind            { return KindUpdateOrder }
func (RenewOrder) Kind() OpKind             { return KindRenewOrder }

func (CreateDefaultNet) Action() provider.Action { return provider.ActionCreateDefaultNet }
func (SupplyDefaultNet) Action() provider.Action { return provider.ActionSupplyDefaultNet }
func (o CreateSubAccounts) Action() provider.Action {
	if len(o.New) == 1 {
		return provider.ActionCreateSubAccount
	}
	return provider.ActionCreateSubAccounts
}
func (ChangeSubAccountName) Action() provider.Action   { return provider.ActionChangeSubAccountName }
func (ChangeSubAccountRemark) Action() provider.Action { return provider.ActionChangeSubAccountRemark }
func (CreateDesktops) Action() provider.Action         { return provider.ActionCreateVm }
func (DeleteDesktop) Action() provider.Action          { return provider.ActionDeleteVm }
func (RebuildDesktop) Action() provider.Action         { return provider.ActionRebuildVm }
func (RenameDesktop) Action() provider.Action          { return provider.ActionChangeVmName }
func (PowerDesktops) Action() provider.Action          { return provider.ActionOperateVm }
func (LabelDesktops) Action() provider.Action          { return provider.ActionUpdateVmLabels }
func (BindAccounts) Action() provider.Action           { return provider.ActionBindAccounts }
func (ChangeAccount) Action() provider.Action          { return provider.ActionChangeAccount }
func (UnbindAccounts) Action() provider.Action         { return provider.ActionUnbindAccounts }
func (UpdateOrder) Action() provider.Action            { return provider.ActionUpdateOrder }
func (RenewOrder) Action() provider.Action             { return provider.ActionRenewalOrder }

func (CreateDefaultNet) Desktops() []Target     { return nil }
func (SupplyDefaultNet) Desktops() []Target     { return nil }
func (CreateSubAccounts) Desktops() []Target    { return nil }
func (ChangeSubAccountName) Desktops() []Target { return nil }
func (ChangeSubAccountRemark) Desktops() []Target {
	return nil
}
func (o CreateDesktops) Desktops() []Target {
	out := make([]Target, len(o.Names))
	for i, n := range o.Names {
		out[i] = Target{Name: n}
	}
	return out
}
func (o DeleteDesktop) Desktops() []Target  { return []Target{o.Desktop} }
func (o RebuildDesktop) Desktops() []Target { return []Target{o.Desktop} }
func (o RenameDesktop) Desktops() []Target  { return []Target{o.Desktop} }
func (o PowerDesktops) Desktops() []Target  { return o.Targets }
func (o LabelDesktops) Desktops() []Target  { return o.Targets }
func (o BindAccounts) Desktops() []Target   { return o.Targets }
func (o ChangeAccount) Desktops() []Target  { return []Target{o.Desktop} }
func (o UnbindAccounts) Desktops() []Target { return o.Targets }
func (o UpdateOrder) Desktops() []Target    { return o.Targets }
func (o RenewOrder) Desktops() []Target     { return o.Targets }

func (CreateDefaultNet) Accounts() []string { return nil }
func (SupplyDefaultNet) Accounts() []string { return nil }
func (o CreateSubAccounts) Accounts() []string {
	out := make([]string, len(o.New))
	for i, a := range o.New {
		out[i] = a.Email
	}
	return out
}
func (o ChangeSubAccountName) Accounts() []string { return []string{o.Account.Email} }
func (o ChangeSubAccountRemark) Accounts() []string {
	out := make([]string, len(o.Targets))
	for i, a := range o.Targets {
		out[i] = a.Email
	}
	return out
}
func (CreateDesktops) Accounts() []string  { return nil }
func (DeleteDesktop) Accounts() []string   { return nil }
func (RebuildDesktop) Accounts() []string  { return nil }
func (RenameDesktop) Accounts() []string   { return nil }
func (PowerDesktops) Accounts() []string   { return nil }
func (LabelDesktops) Accounts() []string   { return nil }
func (o BindAccounts) Accounts() []string  { return []string{o.Account.Email} }
func (o ChangeAccount) Accounts() []string { return []string{o.Account.Email} }
func (UnbindAccounts) Accounts() []string  { return nil }
func (UpdateOrder) Accounts() []string     { return nil }
func (RenewOrder) Accounts() []string      { return nil }

func (CreateDefaultNet) isOp()       {}
func (SupplyDefaultNet) isOp()       {}
func (CreateSubAccounts) isOp()      {}
func (ChangeSubAccountName) isOp()   {}
func (ChangeSubAccountRemark) isOp() {}
func (CreateDesktops) isOp()         {}
func (DeleteDesktop) isOp()          {}
func (RebuildDesktop) isOp()         {}
func (RenameDesktop) isOp()          {}
func (PowerDesktops) isOp()          {}
func (LabelDesktops) isOp()          {}
func (BindAccounts) isOp()           {}
func (ChangeAccount) isOp()          {}
func (UnbindAccounts) isOp()         {}
func (UpdateOrder) isOp()            {}
func (RenewOrder) isOp()             {}

// newOp returns a zero Op of the kind, for decoding.
func newOp(k OpKind) (Op, error) {
	switch k {
	case KindCreateDefaultNet:
		return &CreateDefaultNet{}, nil
	case KindSupplyDefaultNet:
		return &SupplyDefaultNet{}, nil
	case KindCreateSubAccounts:
		return &CreateSubAccounts{}, nil
	case KindChangeSubAccountName:
		return &ChangeSubAccountName{}, nil
	case KindChangeSubAccountRemark:
		return &ChangeSubAccountRemark{}, nil
	case KindCreateDesktops:
		return &CreateDesktops{}, nil
	case KindDeleteDesktop:
		return &DeleteDesktop{}, nil
	case KindRebuildDesktop:
		return &RebuildDesktop{}, nil
	case KindRenameDesktop:
		return &RenameDesktop{}, nil
	case KindPowerDesktops:
		return &PowerDesktops{}, nil
	case KindLabelDesktops:
		return &LabelDesktops{}, nil
	case KindBindAccounts:
		return &BindAccounts{}, nil
	case KindChangeAccount:
		return &ChangeAccount{}, nil
	case KindUnbindAccounts:
		return &UnbindAccounts{}, nil
	case KindUpdateOrder:
		return &UpdateOrder{}, nil
	case KindRenewOrder:
		return &RenewOrder{}, nil
	}
	return nil, fmt.Errorf("unknown op %q", k)
}

// deref turns the pointer newOp returned, once decoded, into the value type every Op is used as.
func deref(op Op) Op {
	switch o := op.(type) {
	case *CreateDefaultNet:
		return *o
	case *SupplyDefaultNet:
		return *o
	case *CreateSubAccounts:
		return *o
	case *ChangeSubAccountName:
		return *o
	case *ChangeSubAccountRemark:
		return *o
	case *CreateDesktops:
		return *o
	case *DeleteDesktop:
		return *o
	case *RebuildDesktop:
		return *o
	case *RenameDesktop:
		return *o
	case *PowerDesktops:
		return *o
	case *LabelDesktops:
		return *o
	case *BindAccounts:
		return *o
	case *ChangeAccount:
		return *o
	case *UnbindAccounts:
		return *o
	case *UpdateOrder:
		return *o
	case *RenewOrder:
		return *o
	}
	return op
}

// decodeOp decodes the params of an op of kind k.
func decodeOp(k OpKind, raw json.RawMessage) (Op, error) {
	op, err := newOp(k)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, op); err != nil {
		return nil, fmt.Errorf("op %s: %w", k, err)
	}
	return deref(op), nil
}

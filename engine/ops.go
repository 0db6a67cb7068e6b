package engine

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/state"
)

// Op is one API call of a plan: a typed value (never a closure), so a plan can be printed, saved,
// golden-tested and resumed. The set is closed: the op_*.go files define every Op there is, each
// op with all of its behaviour in one section: what it is, how it is shown (Facts), how the executor
// resolves and makes its call, what it records in the state once it succeeded (for Apply and Settle
// alike), and how Settle finds out how a call of it whose answer was lost ended.
type Op interface {
	// Kind names the op's type; it is the "op" key of the plan's JSON.
	Kind() OpKind
	// Action is the API action the op calls.
	Action() provider.Action
	// Desktops are the desktops the op touches (VmID "" for desktops created by this plan).
	Desktops() []Target
	// Accounts are the emails of the sub-accounts the op touches.
	Accounts() []string
	// Facts are what the op's display needs beyond the above.
	Facts() OpFacts
	opBehaviour
	isOp()
}

// opBehaviour is what the executor and Settle do with an op. Every Op has each method: the set of
// ops is closed and each one decides for itself (see the op_*.go files).
type opBehaviour interface {
	// resolve returns the op with the ids it lacks in the plan filled in (desktops and accounts made
	// earlier in the run, the network chosen after a network step), reading what it must.
	resolve(ctx context.Context, r *run, s Step) (Op, error)
	// call makes the op's API call; the op is resolved.
	call(ctx context.Context, env callEnv, requestID string) (*callResult, error)
	// record sets, once the call succeeded (for the items not in fx.failed), the state record's fields
	// the op enforces. Apply, Settle and ResolveIntent all record through it. The op is resolved.
	record(rec *state.Record, fx effect)
	// settlePending finds out how a call whose answer was lost (its intent pending) ended, by reading
	// what can be read, or says what a person must check. The op is resolved.
	settlePending(ctx context.Context, s *settler, in state.Intent, pj paramsJSON) (settlement, error)
}

// OpFacts are what a step's display needs to know of its op beyond its targets.
type OpFacts struct {
	// Async is true when the call returns a task to wait for.
	Async bool
	// Site is the site whose default network the op creates or completes, or where it creates
	// desktops; zero for the other ops.
	Site Site
	// DefaultNet is true for the ops that create or complete a site's default network (CreateVm then
	// reads the network again: one more API call).
	DefaultNet bool
	// Arg is the call's key parameter, shown after the action (`CreateVm num=3`, `OperateVm off`).
	Arg CallArg
}

// CallArg is a call's key parameter, for display.
type CallArg struct {
	Kind CallArgKind
	// Text is the word, free text or email of ArgWord, ArgText, ArgFrom and ArgEmail.
	Text string
	// Count is ArgCount's number.
	Count int
	// Billing is ArgBilling's plan.
	Billing Billing
}

// CallArgKind says how a CallArg is shown.
type CallArgKind int

// The kinds of CallArg.
const (
	ArgNone    CallArgKind = iota // nothing shown
	ArgCount                      // num=<Count>
	ArgWord                       // Text as it is (a power action, an image's name)
	ArgText                       // Text, quoted (a label, a name, a remark)
	ArgFrom                       // from <Text, quoted> (a rename)
	ArgEmail                      // Text is an email
	ArgBilling                    // Billing
)

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

// newOp returns the decoder of the params of an op of kind k.
func newOp(k OpKind) (func(json.RawMessage) (Op, error), error) {
	switch k {
	case KindCreateDefaultNet:
		return decodeAs[CreateDefaultNet], nil
	case KindSupplyDefaultNet:
		return decodeAs[SupplyDefaultNet], nil
	case KindCreateSubAccounts:
		return decodeAs[CreateSubAccounts], nil
	case KindChangeSubAccountName:
		return decodeAs[ChangeSubAccountName], nil
	case KindChangeSubAccountRemark:
		return decodeAs[ChangeSubAccountRemark], nil
	case KindCreateDesktops:
		return decodeAs[CreateDesktops], nil
	case KindDeleteDesktop:
		return decodeAs[DeleteDesktop], nil
	case KindRebuildDesktop:
		return decodeAs[RebuildDesktop], nil
	case KindRenameDesktop:
		return decodeAs[RenameDesktop], nil
	case KindPowerDesktops:
		return decodeAs[PowerDesktops], nil
	case KindLabelDesktops:
		return decodeAs[LabelDesktops], nil
	case KindBindAccounts:
		return decodeAs[BindAccounts], nil
	case KindChangeAccount:
		return decodeAs[ChangeAccount], nil
	case KindUnbindAccounts:
		return decodeAs[UnbindAccounts], nil
	case KindUpdateOrder:
		return decodeAs[UpdateOrder], nil
	case KindRenewOrder:
		return decodeAs[RenewOrder], nil
	}
	return nil, fmt.Errorf("unknown op %q", k)
}

// decodeAs decodes the params of an op of type T into the value type every Op is used as.
func decodeAs[T Op](raw json.RawMessage) (Op, error) {
	var op T
	err := json.Unmarshal(raw, &op)
	return op, err
}

// decodeOp decodes the params of an op of kind k.
func decodeOp(k OpKind, raw json.RawMessage) (Op, error) {
	decode, err := newOp(k)
	if err != nil {
		return nil, err
	}
	op, err := decode(raw)
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", k, err)
	}
	return op, nil
}

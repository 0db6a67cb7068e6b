package provider

import "context"

// Client is the GCW cloud-desktop API, one typed method per action. Its implementation is
// provider/gcw (HTTP); provider/sim is a server (an http.Handler), reached through a gcw.Client
// pointed at it, so that every test and `--endpoint sim` run crosses the real wire.
//
// Contract shared by every method:
//   - An error the server reported is a *APIError (see the Is* helpers and the Code constants).
//   - A mutating call whose outcome is unknown (sent, then the connection dropped or timed out) returns
//     *UnknownOutcomeError carrying its requestId; it is never retried by the client. Find out by
//     observing (QueryVms/QueryVm/QuerySubAccounts) or, for asynchronous actions, polling.
//   - Mutating requests carry RequestID; when it is empty the client generates a UUID and returns it in
//     the response (and in errors), so callers that must record intent set it themselves beforehand.
//   - Asynchronous actions return a task id: poll it with QueryTask or WaitTask.
//   - Reads are safe to retry and are retried by the client on transient failures.
type Client interface {
	// QueryTask reads an asynchronous task. Sync, read, idempotent.
	// Errors: 10003 bad parameters, 10006 no such task.
	QueryTask(ctx context.Context, req QueryTaskRequest) (*Task, error)

	// QuerySites lists availability zones. Sync, read, idempotent. No documented errors.
	QuerySites(ctx context.Context, req QuerySitesRequest) ([]Site, error)

	// QueryProducts lists desktop specifications. Sync, read, idempotent. Errors: 12000 query failed.
	QueryProducts(ctx context.Context, req QueryProductsRequest) ([]Product, error)

	// QueryImages lists images per product. Sync, read, idempotent.
	// Errors: 10006 no such product or site.
	QueryImages(ctx context.Context, req QueryImagesRequest) ([]ProductImages, error)

	// QueryVmPrice prices desktops. Sync, no side effect (a POST), idempotent.
	// Errors: 12505 pricing failed, 10003 bad parameters (bill cycle), 10006 no such site.
	QueryVmPrice(ctx context.Context, req QueryVmPriceRequest) (*QueryVmPriceResponse, error)

	// UpdateOrder converts per-minute desktops to monthly billing. Sync, mutating, NOT idempotent
	// (charges); per-desktop outcomes in SuccessVmIDs/FailedVmIDs.
	// Errors: 12503 already monthly (billing direction), 12501 monthly quota, 12506 conversion failed,
	// 10003 bad parameters (duration), 10006 no such desktop.
	UpdateOrder(ctx context.Context, req UpdateOrderRequest) (*OrderResponse, error)

	// RenewalOrder renews monthly desktops. Sync, mutating, NOT idempotent (each call extends the term);
	// per-desktop outcomes in SuccessVmIDs/FailedVmIDs.
	// Errors: 12504 not monthly (billing direction), 12500 renewal failed, 10003 bad parameters,
	// 10006 no such desktop.
	RenewalOrder(ctx context.Context, req RenewalOrderRequest) (*OrderResponse, error)

	// QuerySubAccounts lists sub-accounts. Sync, read, idempotent. No documented errors.
	QuerySubAccounts(ctx context.Context, req QuerySubAccountsRequest) ([]SubAccount, error)

	// CreateSubAccount creates a sub-account (status "creating", then "create"). Sync, mutating,
	// NOT idempotent (a repeat fails or duplicates). Errors: 10003 bad parameters, 10005 account data,
	// 11000 creation failed.
	CreateSubAccount(ctx context.Context, req CreateSubAccountRequest) (*SyncResponse, error)

	// CreateSubAccounts creates many sub-accounts; per-entry failures in the response. Sync, mutating,
	// NOT idempotent. Errors: 10003 bad parameters, 10005 account data, 11003 batch creation failed.
	CreateSubAccounts(ctx context.Context, req CreateSubAccountsRequest) (*CreateSubAccountsResponse, error)

	// ChangeSubAccountName renames a sub-account. Sync, mutating, idempotent (sets a value).
	// Errors: 10003 bad parameters, 10211 rename failed, 10006 no such account.
	ChangeSubAccountName(ctx context.Context, req ChangeSubAccountNameRequest) (*SyncResponse, error)

	// ChangeSubAccountRemark sets the remark of many sub-accounts. Sync, mutating, idempotent.
	// Errors: 10003 bad parameters (remark over 30 characters), 11013 failed, 10006 no such account.
	ChangeSubAccountRemark(ctx context.Context, req ChangeSubAccountRemarkRequest) (*SyncResponse, error)

	// CreateDefaultNet creates a site's default VPC and virtual gateways. ASYNC (task), mutating, NOT
	// idempotent. Errors: 10003, 10005, 13500 creation failed, 10007 permission, 10006 no such site.
	CreateDefaultNet(ctx context.Context, req CreateDefaultNetRequest) (*TaskResponse, error)

	// SupplyDefaultNet completes the default VPC's subnet and virtual gateways. ASYNC (task), mutating,
	// idempotent in effect (completes what is missing). Errors: 10003, 10005, 13506 failed,
	// 10007 permission, 10006 no such site.
	SupplyDefaultNet(ctx context.Context, req SupplyDefaultNetRequest) (*TaskResponse, error)

	// GetDefaultNet reads a site's default network. Sync, read, idempotent.
	// Errors: 13502 query failed, 10003 bad parameters, 10006 no such site.
	GetDefaultNet(ctx context.Context, req GetDefaultNetRequest) (*Network, error)

	// GetCustomNet lists the custom networks of a site. Sync, read, idempotent.
	// Errors: 13502 query failed, 10003 bad parameters, 10006 no such site.
	GetCustomNet(ctx context.Context, req GetCustomNetRequest) ([]Network, error)

	// GetLineBillingScheme lists bandwidth lines and billing schemes. Sync, read, idempotent.
	// Errors: 10003, 13504 query failed, 10006 no such site.
	GetLineBillingScheme(ctx context.Context, req GetLineBillingSchemeRequest) ([]Line, error)

	// GetEipPrice prices EIPs and bandwidth. Sync, read, idempotent.
	// Errors: 10003, 13503 query failed, 10006 no such site.
	GetEipPrice(ctx context.Context, req GetEipPriceRequest) (*EipPrice, error)

	// QueryVms lists desktop ids. Sync, read, idempotent. Errors: 10003 bad billMethod.
	QueryVms(ctx context.Context, req QueryVmsRequest) (*QueryVmsResponse, error)

	// QueryVm reads one desktop. Sync, read, idempotent. Errors: 10003 empty id, 10006 no such desktop.
	QueryVm(ctx context.Context, req QueryVmRequest) (*QueryVmResponse, error)

	// QueryExpireVms lists desktops expiring within seven days or expired (by name). Sync, read,
	// idempotent. No documented errors.
	QueryExpireVms(ctx context.Context, req QueryExpireVmsRequest) ([]ExpiringDesktop, error)

	// CreateVm creates desktops. ASYNC (task; VmIDs returned at once), mutating, NOT idempotent
	// (a repeat creates more desktops). Errors: 10007 permission, 10005 account data, 10003 bad
	// parameters, 13001 creation failed, 12501/12502 monthly/per-minute quota, 13505 network check
	// failed, 13000 no capacity, 10006 no such product.
	CreateVm(ctx context.Context, req CreateVmRequest) (*TaskResponse, error)

	// OperateVm powers desktops on or off, or reboots them. ASYNC (task), mutating, idempotent in effect
	// for on/off (not reboot). Errors: 10003, 10005, 13002 operation failed (e.g. busy or wrong state),
	// 10006 unsupported operation.
	OperateVm(ctx context.Context, req OperateVmRequest) (*TaskResponse, error)

	// RebuildVm reinstalls a stopped desktop (a mutation sent as GET). ASYNC (task), mutating, NOT
	// idempotent (wipes the disk). Errors: 10007, 10005, 13004 not stopped, 10003, 13002 operation
	// failed, 10006 no such desktop, 10008 internal data error.
	RebuildVm(ctx context.Context, req RebuildVmRequest) (*TaskResponse, error)

	// DeleteVm deletes a desktop. ASYNC (task), mutating, idempotent in effect (a repeat fails with
	// 10006). Errors: 10003, 10007, 10005, 13002 operation failed, 10006 no such desktop.
	DeleteVm(ctx context.Context, req DeleteVmRequest) (*TaskResponse, error)

	// ChangeVmName renames a desktop. Sync, mutating, idempotent.
	// Errors: 10003 bad parameters, 10006 no such desktop.
	ChangeVmName(ctx context.Context, req ChangeVmNameRequest) (*SyncResponse, error)

	// UpdateVmLabels sets one label on many desktops. Sync, mutating, idempotent.
	// Errors: 10003 bad parameters, 13015 update failed.
	UpdateVmLabels(ctx context.Context, req UpdateVmLabelsRequest) (*SyncResponse, error)

	// ChangeAccount binds a desktop to an account: running or stopped if none is bound, only stopped to
	// replace one. Sync, mutating, idempotent. Errors: 10003, 13011 wrong state.
	ChangeAccount(ctx context.Context, req ChangeAccountRequest) (*SyncResponse, error)

	// UnbindAccounts unbinds the accounts of stopped desktops. Sync, mutating, idempotent.
	// Errors: 10003, 13012 not stopped.
	UnbindAccounts(ctx context.Context, req UnbindAccountsRequest) (*SyncResponse, error)

	// BindAccounts binds many desktops to one account (the account must be "create").
	// Sync, mutating, idempotent. Errors: 10003, 13013 bind failed.
	BindAccounts(ctx context.Context, req BindAccountsRequest) (*SyncResponse, error)
}

// Action names one of the API's 30 actions, as sent in the Action parameter. The set is closed: the
// constants below are every value there is (see Actions).
type Action string

// String returns the action's wire name.
func (a Action) String() string { return string(a) }

// The 30 actions.
const (
	ActionQueryTask              Action = "QueryTask"
	ActionQuerySites             Action = "QuerySites"
	ActionQueryProducts          Action = "QueryProducts"
	ActionQueryImages            Action = "QueryImages"
	ActionQueryVmPrice           Action = "QueryVmPrice"
	ActionUpdateOrder            Action = "UpdateOrder"
	ActionRenewalOrder           Action = "RenewalOrder"
	ActionQuerySubAccounts       Action = "QuerySubAccounts"
	ActionCreateSubAccount       Action = "CreateSubAccount"
	ActionCreateSubAccounts      Action = "CreateSubAccounts"
	ActionChangeSubAccountName   Action = "ChangeSubAccountName"
	ActionChangeSubAccountRemark Action = "ChangeSubAccountRemark"
	ActionCreateDefaultNet       Action = "CreateDefaultNet"
	ActionSupplyDefaultNet       Action = "SupplyDefaultNet"
	ActionGetDefaultNet          Action = "GetDefaultNet"
	ActionGetCustomNet           Action = "GetCustomNet"
	ActionGetLineBillingScheme   Action = "GetLineBillingScheme"
	ActionGetEipPrice            Action = "GetEipPrice"
	ActionQueryVms               Action = "QueryVms"
	ActionQueryVm                Action = "QueryVm"
	ActionQueryExpireVms         Action = "QueryExpireVms"
	ActionCreateVm               Action = "CreateVm"
	ActionOperateVm              Action = "OperateVm"
	ActionRebuildVm              Action = "RebuildVm"
	ActionDeleteVm               Action = "DeleteVm"
	ActionChangeVmName           Action = "ChangeVmName"
	ActionUpdateVmLabels         Action = "UpdateVmLabels"
	ActionChangeAccount          Action = "ChangeAccount"
	ActionUnbindAccounts         Action = "UnbindAccounts"
	ActionBindAccounts           Action = "BindAccounts"
)

// ActionInfo describes how an action travels and whether it changes anything.
type ActionInfo struct {
	Name     Action
	Method   string // "GET" or "POST"
	Mutating bool   // changes state: never retried once possibly received
	Async    bool   // returns a taskId
}

// Actions lists all 30 actions with their HTTP method and nature (docs/api-readings.md, "Transport").
// QueryVmPrice is a POST without side effects; RebuildVm is a mutation sent as GET.
var Actions = []ActionInfo{
	{ActionQueryTask, "GET", false, false},
	{ActionQuerySites, "GET", false, false},
	{ActionQueryProducts, "GET", false, false},
	{ActionQueryImages, "GET", false, false},
	{ActionQueryVmPrice, "POST", false, false},
	{ActionUpdateOrder, "POST", true, false},
	{ActionRenewalOrder, "POST", true, false},
	{ActionQuerySubAccounts, "GET", false, false},
	{ActionCreateSubAccount, "POST", true, false},
	{ActionCreateSubAccounts, "POST", true, false},
	{ActionChangeSubAccountName, "POST", true, false},
	{ActionChangeSubAccountRemark, "POST", true, false},
	{ActionCreateDefaultNet, "POST", true, true},
	{ActionSupplyDefaultNet, "POST", true, true},
	{ActionGetDefaultNet, "GET", false, false},
	{ActionGetCustomNet, "GET", false, false},
	{ActionGetLineBillingScheme, "GET", false, false},
	{ActionGetEipPrice, "GET", false, false},
	{ActionQueryVms, "GET", false, false},
	{ActionQueryVm, "GET", false, false},
	{ActionQueryExpireVms, "GET", false, false},
	{ActionCreateVm, "POST", true, true},
	{ActionOperateVm, "POST", true, true},
	{ActionRebuildVm, "GET", true, true},
	{ActionDeleteVm, "POST", true, true},
	{ActionChangeVmName, "POST", true, false},
	{ActionUpdateVmLabels, "POST", true, false},
	{ActionChangeAccount, "POST", true, false},
	{ActionUnbindAccounts, "POST", true, false},
	{ActionBindAccounts, "POST", true, false},
}

// LookupAction returns the description of an action by name.
func LookupAction(name Action) (ActionInfo, bool) {
	for _, a := range Actions {
		if a.Name == name {
			return a, true
		}
	}
	return ActionInfo{}, false
}

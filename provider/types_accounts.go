package provider

// QuerySubAccountsRequest filters sub-accounts; every field is optional.
type QuerySubAccountsRequest struct {
	Email  string
	Name   string
	Remark string
}

// SubAccount is a desktop user (QuerySubAccounts). There is no API to delete one.
type SubAccount struct {
	AccountID string
	Name      string
	Email     string
	Remark    string
	BindNum   int           // desktops bound to it
	Status    AccountStatus // bind only once AccountReady ("create")
}

// MaxRemarkLen is the longest sub-account remark the API accepts, in characters.
const MaxRemarkLen = 30

// CreateSubAccountRequest creates one sub-account.
type CreateSubAccountRequest struct {
	RequestID string
	Email     string
	Name      string
	Remark    string // at most MaxRemarkLen characters
}

// NewSubAccount is one entry of CreateSubAccounts.
type NewSubAccount struct {
	Email  string
	Name   string
	Remark string
}

// CreateSubAccountsRequest creates many sub-accounts in one call.
type CreateSubAccountsRequest struct {
	RequestID string
	Accounts  []NewSubAccount
}

// FailedSubAccount is an entry CreateSubAccounts refused, with the reason (wire key "messsage").
type FailedSubAccount struct {
	Name    string
	Email   string
	Remark  string
	Message string
}

// CreateSubAccountsResponse reports per-entry outcomes: partial success is normal.
type CreateSubAccountsResponse struct {
	RequestID  string
	SuccessNum int
	FailedNum  int
	Failed     []FailedSubAccount
}

// ChangeSubAccountNameRequest renames the sub-account with this email.
type ChangeSubAccountNameRequest struct {
	RequestID string
	Email     string
	Name      string
}

// ChangeSubAccountRemarkRequest sets one remark on many sub-accounts.
type ChangeSubAccountRemarkRequest struct {
	RequestID string
	Emails    []string
	Remark    string // at most MaxRemarkLen characters
}

// SyncResponse is the result of a synchronous mutation whose Data is empty: the requestId sent.
type SyncResponse struct {
	RequestID string
}

// TaskResponse is the result of every asynchronous call (CreateDefaultNet, SupplyDefaultNet, CreateVm,
// OperateVm, RebuildVm, DeleteVm): poll TaskID with QueryTask (or WaitTask), passing RequestID.
// VmIDs are the desktops the task works on: for CreateVm the ids of the desktops being created (known
// at once, before the task ends), for OperateVm the response's vmIds, for RebuildVm and DeleteVm the
// one desktop; empty for the network actions.
type TaskResponse struct {
	RequestID      string
	TaskID         string
	VmIDs          []string
	RequestContent string
}

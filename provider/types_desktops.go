package provider

// QueryVmsRequest filters desktops; every field is optional.
type QueryVmsRequest struct {
	SiteID     string
	ProductID  string
	BillMethod *BillMethod // nil: any
	Email      string      // bound account's email
	VpcID      string
	VpcName    string
}

// QueryVmsResponse lists desktop ids; read each with QueryVm.
type QueryVmsResponse struct {
	VmIDs []string
}

// QueryVmRequest reads one desktop.
type QueryVmRequest struct {
	VmID string
}

// Desktop is one desktop as QueryVm reports it. QueryVm does not return the image, the bound
// account's id or auto-renewal: callers must remember what they applied.
type Desktop struct {
	ID            string // the id asked for (QueryVm does not echo it)
	Name          string
	SiteID        string
	ProductID     string
	BillMethod    BillMethod
	VpcID         string
	VpcName       string
	EIP           string // e.g. "移动:120.226.84.70"
	PrivateIP     string // e.g. "vlan1704:10.1.0.14"
	PublicIP      string // virtual gateway address
	BandwidthMbps int    // bw
	AccountName   string
	AccountEmail  string // empty: no account bound
	Label         string
	ExpireTime    TimeValue // end of the monthly term
	Status        Status
	RawStatus     string
}

// QueryVmResponse is QueryVm's result.
type QueryVmResponse = Desktop

// CreateVmRequest creates Num desktops with one call. With Num > 1 the server names the first Name and
// the next ones with a numeric suffix starting at HostNo (the exact form is ambiguous: read names back).
type CreateVmRequest struct {
	RequestID    string
	SiteID       string
	ProductID    string
	ImageID      string
	Name         string
	Num          int    // 0: server default (1)
	HostNo       int    // 0: server default (1)
	MoneyType    string // trial-fund currency, "CN" or "US"; empty: server default
	SubAccountID string // trial-fund id
	BillCycle    BillCycle
	// Monthly terms; ignored by the server for per-minute billing.
	Duration      int // months; 0: server default (1)
	IsToMonth     bool
	IsAutoRenewal bool
	PriceToMonth  bool
	QosMbps       int
	VpcID         string
	SubnetNetID   string
	// VGatewayNetID and VGatewayConfID are sent (as vgatewayNetId/vgatewayConfId) only when set:
	// a network without a virtual gateway takes none.
	VGatewayNetID  string
	VGatewayConfID string
}

// OperateVmRequest powers desktops on, off or reboots them.
type OperateVmRequest struct {
	RequestID string
	Action    PowerAction
	VmIDs     []string
}

// RebuildVmRequest reinstalls a stopped desktop from ImageID.
type RebuildVmRequest struct {
	RequestID string
	VmID      string
	ImageID   string
}

// DeleteVmRequest deletes one desktop.
type DeleteVmRequest struct {
	RequestID string
	VmID      string
}

// ChangeVmNameRequest renames one desktop.
type ChangeVmNameRequest struct {
	RequestID string
	VmID      string
	Name      string
}

// UpdateVmLabelsRequest sets one label (remark) on many desktops.
type UpdateVmLabelsRequest struct {
	RequestID string
	VmIDs     []string
	Label     string
}

// ChangeAccountRequest binds one desktop to an account, replacing any bound one.
type ChangeAccountRequest struct {
	RequestID string
	VmID      string
	AccountID string
}

// UnbindAccountsRequest unbinds the accounts of stopped desktops.
type UnbindAccountsRequest struct {
	RequestID string
	VmIDs     []string
}

// BindAccountsRequest binds many desktops to one account.
type BindAccountsRequest struct {
	RequestID string
	VmIDs     []string
	AccountID string
}

// UpdateOrderRequest converts per-minute desktops to monthly billing.
type UpdateOrderRequest struct {
	RequestID     string
	VmIDs         []string
	Duration      int // months; 0: server default (1)
	IsToMonth     bool
	IsAutoRenewal bool
}

// RenewalOrderRequest renews monthly desktops. The server's default for isAutoRenewal is 1; this
// client always sends the field, so IsAutoRenewal false means "do not renew automatically".
type RenewalOrderRequest struct {
	RequestID     string
	VmIDs         []string
	Duration      int // months; 0: server default (1)
	IsToMonth     bool
	PriceToMonth  bool
	IsAutoRenewal bool
}

// OrderResponse reports per-desktop outcomes of UpdateOrder and RenewalOrder: partial success is normal.
type OrderResponse struct {
	RequestID      string
	SuccessVmIDs   []string
	FailedVmIDs    []string
	FailedMsg      string
	RequestContent string
}

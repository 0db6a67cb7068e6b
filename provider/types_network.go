package provider

// CreateDefaultNetRequest creates the default VPC, subnet and virtual gateways of a site.
type CreateDefaultNetRequest struct {
	RequestID string
	SiteID    string
}

// SupplyDefaultNetRequest completes the default VPC's missing subnet and virtual gateways.
type SupplyDefaultNetRequest struct {
	RequestID string
	SiteID    string
}

// GetDefaultNetRequest reads the default network of a site.
type GetDefaultNetRequest struct {
	RequestID string
	SiteID    string
}

// GetCustomNetRequest lists the account's custom networks at a site.
type GetCustomNetRequest struct {
	RequestID string
	SiteID    string
}

// Network is a VPC with its subnets and virtual gateways (GetDefaultNet, GetCustomNet).
// GetCustomNet leaves ID, VpcRecordID, CityID, times and DeleteFlag empty.
type Network struct {
	ID          int
	VpcRecordID string
	CityID      string
	VpcID       string
	VpcName     string
	VpcSegment  string // CIDR, e.g. 10.0.0.0/8
	CustomerID  string
	UserID      string
	CreateTime  TimeValue
	UpdateTime  TimeValue
	DeleteFlag  bool
	Subnets     []NetSegment
	VGateways   []NetSegment // empty where the gateway was withdrawn: CreateVm then takes none
}

// NetSegment is a subnet, public net or virtual gateway of a VPC.
type NetSegment struct {
	ID        string
	Name      string
	Type      NetType // ip_type
	Status    string  // ok, erro, creating, deleting, updating, deleted, shutdown, stopping, starting
	StatusStr string  // localised status name
	IPAddress string
	Mask      int
	Gateway   string
	DNS       []string // decoded from the JSON array the API sends inside a string
	VlanID    string
	NotUsed   int
	UsedNum   int
	ConfID    string // bandwidth line id (virtual gateways): CreateVm's vgatewayConfId
	ConfName  string
}

// GetLineBillingSchemeRequest lists a site's bandwidth lines and their billing schemes.
type GetLineBillingSchemeRequest struct {
	RequestID string
	SiteID    string
}

// Line is a bandwidth line (carrier) with its billing schemes.
type Line struct {
	ConfID         string // sent as a number, kept as the string the other actions use
	ConfName       string
	BillingSchemes []BillingScheme
}

// BillingScheme is one way a line may be billed.
type BillingScheme struct {
	SchemeID      string
	SchemeName    string
	GoodsID       string
	BillingMethod BillMethod // "0" per-minute, "1" monthly
	BillingType   string
	BillingCycle  string // billing_cycle_id, e.g. "minute"
	Items         []BillingItem
}

// BillingItem is an item billed under a scheme.
type BillingItem struct {
	ID   string
	Key  string
	Name string
}

// GetEipPriceRequest asks the price of elastic IPs and bandwidth.
type GetEipPriceRequest struct {
	RequestID       string
	SiteID          string
	Size            int    // number of EIPs
	BandwidthConfID string // a Line's ConfID
	QosMbps         int
}

// EipPrice is GetEipPrice's answer.
type EipPrice struct {
	Bandwidth Price
	EIP       Price
	Total     Price
}

// Price is one priced item, e.g. 1.5 "￥" "/天".
type Price struct {
	Price    float64
	PriceStr string
	Sign     string
	Cycle    string
	EndTime  string
}

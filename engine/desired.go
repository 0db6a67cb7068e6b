package engine

import (
	"time"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/schedule"
	"github.com/deskfleet/deskfleet/spec"
)

// Desired is the fleet as the spec wants it, with every name resolved to the API's ids and every
// default applied. Resolve makes it; Diff compares it with the live state.
type Desired struct {
	// Fleet is the fleet's name; SpecDigest the SHA-256 (hex) of the spec's sources, in file order.
	Fleet      string
	SpecDigest string
	// Desktops are the desktops in spec order (groups expanded).
	Desktops []DesiredDesktop
	// Accounts are the sub-accounts in spec order.
	Accounts []DesiredAccount
	// BindingsSet is true when the spec has a `bindings` key: bindings are then authoritative, and a
	// desktop without an entry in Bindings is to be unbound.
	BindingsSet bool
	// Bindings maps a desktop name to the email of its account.
	Bindings map[string]string
	// Catalog is what the names were resolved against; the plan uses it to show names, not ids, for
	// what the live state and the record only know by id (a product, the image last applied). May be nil.
	Catalog *Catalog
}

// Site is a resolved site.
type Site struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Image is a resolved image.
type Image struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// DesiredDesktop is one desktop of the spec, resolved.
type DesiredDesktop struct {
	Name  string
	Group string
	Site  Site
	// Product is the one product the selector (or id) matched at the site.
	Product provider.Product
	Image   Image
	Network NetworkChoice
	// Bandwidth is the public bandwidth in Mbps.
	Bandwidth int
	Billing   Billing
	// Label is nil when not managed.
	Label *string
	// Power is nil when not managed; else provider.PowerOn or provider.PowerOff. With a Schedule,
	// Diff sets it from the schedule at Options.At.
	Power *provider.PowerAction
	// Schedule, when not nil, decides the wanted power at each moment (on inside its hours).
	Schedule *schedule.Schedule
	// Held, when not nil, holds the power against Schedule and Power until its time (an override).
	Held *spec.HeldPower
	// Protect forbids deleting, replacing or rebuilding the desktop.
	Protect bool
	// RenamedFrom is the name of a managed desktop to rename to Name, "" when none.
	RenamedFrom string
	// Pos is where the desktop's group is in the spec, for errors about it.
	Pos spec.Pos
}

// Billing is a resolved billing plan.
type Billing struct {
	// Plan is the plan's name in the spec ("" for the built-in per-minute plan).
	Plan  string             `json:"plan,omitempty"`
	Cycle provider.BillCycle `json:"cycle"`
	// The month-only fields; zero for per-minute.
	Months         int  `json:"months,omitempty"`
	ToMonthEnd     bool `json:"toMonthEnd,omitempty"`
	FullMonthPrice bool `json:"fullMonthPrice,omitempty"`
	AutoRenew      bool `json:"autoRenew,omitempty"`
	// RenewWithin: renew when the term ends sooner than this; 0: never renew.
	RenewWithin time.Duration `json:"renewWithin,omitempty"`
	// LetExpireOn: no renewal of a term that ends on this day or later (zero: none).
	LetExpireOn time.Time `json:"letExpireOn,omitzero"`
}

// Monthly reports whether the plan is prepaid monthly.
func (b Billing) Monthly() bool { return b.Cycle == provider.BillCycleMonthly }

// NetFix is what a site's default network needs before desktops can be created on it.
type NetFix int

const (
	// NetReady: the network exists with what CreateVm needs.
	NetReady NetFix = iota
	// NetCreate: the site has no default network: CreateDefaultNet.
	NetCreate
	// NetSupply: the default network lacks a subnet: SupplyDefaultNet.
	NetSupply
)

// String returns "ready", "create" or "supply".
func (f NetFix) String() string {
	switch f {
	case NetCreate:
		return "create"
	case NetSupply:
		return "supply"
	}
	return "ready"
}

// NetworkChoice is a resolved network. When Fix is not NetReady, the ids of the default network are not
// known yet: the executor reads them (GetDefaultNet) after the network step and before CreateVm.
type NetworkChoice struct {
	// Default is true for the site's default VPC.
	Default bool   `json:"default"`
	Fix     NetFix `json:"fix,omitempty"`
	VpcID   string `json:"vpcId,omitempty"`
	VpcName string `json:"vpcName,omitempty"`
	// SubnetID/SubnetName: the subnet chosen (named, else the one with the most free addresses).
	SubnetID   string `json:"subnetId,omitempty"`
	SubnetName string `json:"subnetName,omitempty"`
	// Subnet and Gateway as the spec names them ("" when omitted), for choosing after a Fix.
	WantSubnet  string `json:"wantSubnet,omitempty"`
	WantGateway string `json:"wantGateway,omitempty"`
	// Gateway: the virtual gateway's net id and conf id (bandwidth line); empty when the network has none.
	GatewayNetID  string `json:"gatewayNetId,omitempty"`
	GatewayConfID string `json:"gatewayConfId,omitempty"`
	GatewayName   string `json:"gatewayName,omitempty"`
}

// DesiredAccount is one sub-account of the spec.
type DesiredAccount struct {
	Email string
	Name  string
	// Remark is nil when not managed.
	Remark *string
	Pos    spec.Pos
}

package spec

import (
	"time"

	"github.com/deskfleet/deskfleet/schedule"
)

// Document is one YAML document of a fleet spec. A spec may span several files and documents; they
// merge into one Fleet (see Load). Its fields are the top-level keys of the format (docs/spec.md).
type Document struct {
	// Format version of the spec. Only 1 exists.
	Version int "yaml:\"version\" json:\"version\" jsonschema:\"enum=1,example=1\" fix:\"add `version: 1`\" unknown:\"unsupported version %s\" use:\"this deskfleet reads version 1\""
	// The fleet's name: the key of its state record and lock. Every document of one spec names the same fleet.
	Fleet string "yaml:\"fleet\" json:\"fleet\" jsonschema:\"minLength=1,example=studio\" fix:\"name the fleet with `fleet: NAME`; every document of a spec names the same fleet\""
	// Path of the base spec this one extends: a spec file, or a folder of them, relative to this file's folder
	// (it may be outside the fleet's folder) or absolute. The base is read first; this spec's values then override the
	// base's: maps and the fields of defaults, billing plans, profiles, accounts and desktop groups merge key
	// by key, an account or desktop group of the same email or name overrides the base's field by field, and
	// a value (a scalar, or a network or product mapping) replaces the base's whole. One base per spec: its
	// files set extends once; a base may extend a base of its own.
	Extends string `yaml:"extends,omitempty" json:"extends,omitempty" jsonschema:"minLength=1,example=../base/fleet.yaml" fix:"a spec has one base: set extends in one of its files, and chain bases (a base may extend another)"`
	// Entries of the base that this spec deletes before its own values apply: to drop an entry, or to replace
	// it whole (remove it, then declare it again). Only in a spec with extends.
	Remove *Removals `yaml:"remove,omitempty" json:"remove,omitempty"`
	// Values inherited by every desktop group that does not set the field itself.
	Defaults *Defaults `yaml:"defaults,omitempty" json:"defaults,omitempty"`
	// Named billing plans, referred to by `billing` in defaults and desktop groups.
	Billing map[string]BillingPlan `yaml:"billing,omitempty" json:"billing,omitempty"`
	// Named hardware and image choices, referred to by `profile` in defaults and desktop groups.
	Profiles map[string]Profile `yaml:"profiles,omitempty" json:"profiles,omitempty"`
	// Sub-accounts, identified by email. The API cannot delete a sub-account: removing one here only forgets it.
	Accounts []Account `yaml:"accounts,omitempty" json:"accounts,omitempty"`
	// Desktop groups: each makes `count` desktops named like the API names them (name, name_001, name_002, ...).
	Desktops []Group `yaml:"desktops,omitempty" json:"desktops,omitempty"`
	// The fleet's monthly budget, in the API's currency (¥): plan shows the projected month against it, and apply refuses a plan that takes the fleet, a group or a label over its budget (exit 5) unless --allow-over-budget.
	Budget *Budget `yaml:"budget,omitempty" json:"budget,omitempty"`
	// Power held against the spec for a while: keep a desktop on past its schedule (or off) until a moment; plan shows each override, and ignores one whose time has passed (with a warning to remove it).
	Overrides []Override `yaml:"overrides,omitempty" json:"overrides,omitempty"`
	// Desktop name -> sub-account email. When present it is authoritative: a desktop missing from it is unbound.
	// When absent, bindings are not managed. One account may be bound to several desktops.
	Bindings map[string]string `yaml:"bindings,omitempty" json:"bindings,omitempty" noun:"the account bound to %q" twice:"desktop %q is bound twice" fix:"bind each desktop once; one account may have several desktops"`
}

// Removals names entries of the base that an extending spec deletes. Each name must be in the base.
type Removals struct {
	// Keys of the base's defaults to unset.
	Defaults []string `yaml:"defaults,omitempty" json:"defaults,omitempty" jsonschema:"enum=site,enum=network,enum=bandwidth,enum=billing,enum=profile,example=bandwidth"`
	// Names of the base's billing plans to delete.
	Billing []string `yaml:"billing,omitempty" json:"billing,omitempty" jsonschema:"minLength=1,example=monthly" noun:"billing plan"`
	// Names of the base's profiles to delete.
	Profiles []string `yaml:"profiles,omitempty" json:"profiles,omitempty" jsonschema:"minLength=1,example=a5000-win" noun:"profile"`
	// Emails of the base's sub-accounts to delete (forgotten: the API cannot delete a sub-account).
	Accounts []string `yaml:"accounts,omitempty" json:"accounts,omitempty" jsonschema:"minLength=1,example=bob@example.com" noun:"account"`
	// Names of the base's desktop groups to delete.
	Desktops []string `yaml:"desktops,omitempty" json:"desktops,omitempty" jsonschema:"minLength=1,example=edit" noun:"desktop group"`
	// Desktop names whose binding in the base is deleted (the desktop is then unbound).
	Bindings []string `yaml:"bindings,omitempty" json:"bindings,omitempty" jsonschema:"minLength=1,example=render_001" noun:"the binding of desktop"`
}

// Defaults holds the fields a desktop group inherits when it does not set them.
type Defaults struct {
	// Site (siteName or siteId, from QuerySites).
	Site string `yaml:"site,omitempty" json:"site,omitempty" jsonschema:"minLength=1,example=宿迁A"`
	// Network of the desktops. Omitted: the site's default VPC.
	Network *Network `yaml:"network,omitempty" json:"network,omitempty"`
	// Public bandwidth in Mbps (CreateVm qos), at least 1. Built-in default: 5.
	Bandwidth *int `yaml:"bandwidth,omitempty" json:"bandwidth,omitempty" jsonschema:"minimum=1,example=5" unit:"Mbps"`
	// Name of a billing plan under `billing`. Built-in default: per-minute.
	Billing string `yaml:"billing,omitempty" json:"billing,omitempty" jsonschema:"minLength=1,example=monthly"`
	// Name of a profile under `profiles`.
	Profile string `yaml:"profile,omitempty" json:"profile,omitempty" jsonschema:"minLength=1,example=a5000-win"`
	// When the desktops run (see Schedule), for the groups that set neither `schedule` nor `power`.
	Schedule *Schedule `yaml:"schedule,omitempty" json:"schedule,omitempty"`

	// Pos is where the defaults mapping starts; At holds the position of each key's value, by key.
	Pos Pos            `yaml:"-" json:"-"`
	At  map[string]Pos `yaml:"-" json:"-"`
}

// Network selects the VPC, subnet and virtual gateway of a desktop.
type Network struct {
	// "default" (the site's default VPC, created or completed when needed), or a vpcName or vpcId.
	// Omitted: default.
	VPC string `yaml:"vpc,omitempty" json:"vpc,omitempty" jsonschema:"minLength=1,example=default"`
	// Subnet name or id. Omitted: the subnet with the most free addresses.
	Subnet string `yaml:"subnet,omitempty" json:"subnet,omitempty" jsonschema:"minLength=1,example=子网1"`
	// Virtual gateway conf_name or conf_id. Omitted: none if the net has none, else the first.
	Gateway string `yaml:"gateway,omitempty" json:"gateway,omitempty" jsonschema:"minLength=1,example=移动"`

	// Pos is where the network value starts.
	Pos Pos `yaml:"-" json:"-"`
}

// Cycle is a billing cycle: per-minute or monthly.
type Cycle string

// The billing cycles of the API (CreateVm billCycle).
const (
	CycleMinute Cycle = "minute"
	CycleMonth  Cycle = "month"
)

// BillingPlan is a named way to pay for desktops. The month-only fields are ignored (with a warning) on a
// per-minute plan. A desktop can move from per-minute to monthly in place, never back.
type BillingPlan struct {
	// minute (per-minute, pay as you go) or month (prepaid monthly).
	Cycle Cycle `yaml:"cycle" json:"cycle" jsonschema:"enum=minute,enum=month,example=month" why:"set cycle: minute or cycle: month" unknown:"unknown billing cycle %q" use:"use minute (per-minute) or month (monthly)"`
	// Months prepaid at a time (the API's duration), at least 1. Default 1.
	Months *int `yaml:"months,omitempty" json:"months,omitempty" jsonschema:"minimum=1,example=1" cycle:"month"`
	// Prepay up to the end of the calendar month (isToMonth). Default false.
	ToMonthEnd bool `yaml:"toMonthEnd,omitempty" json:"toMonthEnd,omitempty" cycle:"month"`
	// Charge a part month as a full month (priceToMonth). Default false.
	FullMonthPrice bool `yaml:"fullMonthPrice,omitempty" json:"fullMonthPrice,omitempty" cycle:"month" needs:"toMonthEnd"`
	// Let the provider renew the order automatically (isAutoRenewal). Default false.
	AutoRenew bool `yaml:"autoRenew,omitempty" json:"autoRenew,omitempty" cycle:"month" renewal:"policy"`
	// Renew (RenewalOrder) when the desktop expires sooner than this: a Go duration (168h, 90m) or whole
	// days (7d). Omitted: deskfleet does not renew.
	RenewWithin string `yaml:"renewWithin,omitempty" json:"renewWithin,omitempty" jsonschema:"pattern=^([0-9]+d|([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$,example=168h,example=7d" cycle:"month" renewal:"policy" check:"duration"`

	// Let the desktops expire on this day (YYYY-MM-DD, in the sites' time, Asia/Shanghai): deskfleet renews a term only while it ends before this day, and plan says when one ends on it or later (turn autoRenew off too).
	LetExpireOn string `yaml:"letExpireOn,omitempty" json:"letExpireOn,omitempty" jsonschema:"format=date,example=2027-06-30" cycle:"month" renewal:"policy"`

	// RenewWithinDuration is RenewWithin parsed; 0 when omitted. LetExpireOnDate is LetExpireOn's
	// day at 00:00 in Asia/Shanghai; zero when omitted.
	RenewWithinDuration time.Duration `yaml:"-" json:"-"`
	LetExpireOnDate     time.Time     `yaml:"-" json:"-"`
	// Name is the plan's key under `billing`; "" for the built-in per-minute plan.
	Name string `yaml:"-" json:"-" spec:"mapkey"`
	// Pos is where the plan is declared; At holds the position of each key's value, by key.
	Pos Pos            `yaml:"-" json:"-"`
	At  map[string]Pos `yaml:"-" json:"-"`
}

func (BillingPlan) noun() string { return "billing plan %q" }

// decoded derives RenewWithinDuration from RenewWithin, which the loader has checked.
func (b *BillingPlan) decoded() {
	if b.RenewWithin != "" {
		b.RenewWithinDuration, _ = ParseDuration(b.RenewWithin)
	}
	if b.LetExpireOn != "" {
		if loc, err := time.LoadLocation(DefaultTimezone); err == nil {
			b.LetExpireOnDate, _ = time.ParseInLocation("2006-01-02", b.LetExpireOn, loc)
		}
	}
}

// MonthsOrDefault returns Months, or 1 when it is omitted.
func (b BillingPlan) MonthsOrDefault() int {
	if b.Months == nil {
		return 1
	}
	return *b.Months
}

// Profile is a named hardware and image choice.
type Profile struct {
	// Product: a selector over QueryProducts at the site that must match exactly one product, or a productId.
	Product *Product `yaml:"product,omitempty" json:"product,omitempty"`
	// Image name or id; it must be Available or Using at the site.
	Image string `yaml:"image,omitempty" json:"image,omitempty" jsonschema:"minLength=1,example=Windows10-公共镜像-图像处理型"`
	// When the desktops of the profile run (see Schedule), for the groups that set neither `schedule` nor `power`.
	Schedule *Schedule `yaml:"schedule,omitempty" json:"schedule,omitempty"`

	// Name is the profile's key under `profiles`.
	Name string `yaml:"-" json:"-" spec:"mapkey"`
	// Pos is where the profile is declared; At holds the position of each key's value, by key.
	Pos Pos            `yaml:"-" json:"-"`
	At  map[string]Pos `yaml:"-" json:"-"`
}

func (Profile) noun() string { return "profile %q" }

// Account is a sub-account, identified by its email.
type Account struct {
	// The sub-account's email: its identity.
	Email string `yaml:"email" json:"email" jsonschema:"format=email,example=alice@example.com" id:"true" why:"an account is identified by its email"`
	// The sub-account's name (ChangeSubAccountName).
	Name string `yaml:"name" json:"name" jsonschema:"minLength=1,example=alice" why:"the API needs one to create it"`
	// Free text, at most 30 characters (ChangeSubAccountRemark). Omitted: not managed; "" clears it.
	Remark *string `yaml:"remark,omitempty" json:"remark,omitempty" jsonschema:"example=设计部"`

	// Pos is where the account's entry starts; At holds the position of each key's value, by key.
	Pos Pos            `yaml:"-" json:"-"`
	At  map[string]Pos `yaml:"-" json:"-"`
}

func (Account) noun() string { return "account" }

// Power is the wanted power state of a desktop.
type Power string

// The power states a spec can ask for.
const (
	PowerOn  Power = "on"
	PowerOff Power = "off"
)

// Schedule is when desktops run: plan computes their wanted power at the moment it runs (on inside
// the hours, off outside), apply enforces it, and `apply --only power` run on a schedule keeps it.
type Schedule struct {
	// The hours of a week when the desktops run: days, then time ranges; windows separated by ";". Days: Mon..Sun, ranges (Mon-Fri), lists (Mon,Wed), daily, weekdays, weekends. A range ending before it starts runs overnight; "always" is every hour. Windows may not overlap.
	Hours string `yaml:"hours" json:"hours" jsonschema:"minLength=1,example=Mon-Fri 08:30-19:00" why:"a schedule says when the desktops run"`
	// Time zone of the hours (IANA name). Default Asia/Shanghai, the time of the API's sites.
	Timezone string `yaml:"timezone,omitempty" json:"timezone,omitempty" jsonschema:"minLength=1,example=Asia/Shanghai"`
	// Days off, whole days in the time zone: YYYY-MM-DD, or a range YYYY-MM-DD..YYYY-MM-DD.
	Except []string `yaml:"except,omitempty" json:"except,omitempty" jsonschema:"minLength=10,example=2027-01-01"`

	// Pos is where the schedule mapping starts; At holds the position of each key's value, by key.
	Pos Pos            `yaml:"-" json:"-"`
	At  map[string]Pos `yaml:"-" json:"-"`
}

// Budget caps what the fleet may cost a month: the projected month (per-minute run rate times the
// hours each desktop runs, schedules included, plus monthly prices) of the fleet, and of named groups
// and labels, against an amount each.
type Budget struct {
	// The whole fleet's monthly amount, greater than 0.
	Monthly *float64 `yaml:"monthly,omitempty" json:"monthly,omitempty" jsonschema:"exclusiveMinimum=0,example=20000"`
	// Monthly amounts of desktop groups, by group name, each greater than 0.
	Groups map[string]float64 `yaml:"groups,omitempty" json:"groups,omitempty" noun:"the budget of group %q"`
	// Monthly amounts of labels (the desktops that carry the label), by label, each greater than 0.
	Labels map[string]float64 `yaml:"labels,omitempty" json:"labels,omitempty" noun:"the budget of label %q"`

	// Pos is where the budget mapping starts; At holds the position of each key's value, by key
	// ("monthly", "groups.NAME", "labels.NAME" when the decoder records them).
	Pos Pos            `yaml:"-" json:"-"`
	At  map[string]Pos `yaml:"-" json:"-"`
}

// Override holds desktops' power against their schedule (or their `power`) until a moment, e.g. a
// render that must finish tonight: `{desktops: [cad_001], power: "on", until: "2027-01-04 22:00"}`.
type Override struct {
	// The desktops held (their names in the spec).
	Desktops []string `yaml:"desktops" json:"desktops" jsonschema:"minItems=1,example=cad_001" why:"an override holds named desktops"`
	// The power they are held at, "on" or "off".
	Power Power `yaml:"power" json:"power" jsonschema:"enum=on,enum=off,example=on" unknown:"unknown power %q" use:"use on or off" why:"an override says which power it holds"`
	// Until when: RFC 3339 (2027-01-04T22:00:00+08:00), or YYYY-MM-DD HH:MM in the time zone below.
	Until string `yaml:"until" json:"until" jsonschema:"minLength=1,example=2027-01-04 22:00" why:"an override ends"`
	// Time zone of until when it names none (IANA name). Default Asia/Shanghai.
	Timezone string `yaml:"timezone,omitempty" json:"timezone,omitempty" jsonschema:"minLength=1,example=Asia/Shanghai"`
	// Why, for the people who read the plan.
	Reason string `yaml:"reason,omitempty" json:"reason,omitempty" jsonschema:"example=render deadline"`

	// Pos is where the override's entry starts; At holds the position of each key's value, by key.
	Pos Pos            `yaml:"-" json:"-"`
	At  map[string]Pos `yaml:"-" json:"-"`
}

// HeldPower is an override resolved for one desktop (Desktop.Held).
type HeldPower struct {
	Power  Power
	Until  time.Time
	Reason string
	Pos    Pos
}

// DefaultTimezone is a schedule's time zone when it names none.
const DefaultTimezone = "Asia/Shanghai"

// Group is a desktop group: `count` desktops that share every setting.
type Group struct {
	// Desktop name; with count > 1 the next desktops are name_001, name_002, ... (as CreateVm names them).
	Name string `yaml:"name" json:"name" jsonschema:"minLength=1,example=render" id:"true"`
	// Number of desktops, 1 to 1000. Default 1.
	Count *int `yaml:"count,omitempty" json:"count,omitempty" jsonschema:"minimum=1,example=3" limit:"per group" fix:"split the group into several groups"`
	// Site (siteName or siteId). Omitted: defaults.site.
	Site string `yaml:"site,omitempty" json:"site,omitempty" jsonschema:"minLength=1,example=襄阳A"`
	// Network. Omitted: defaults.network, else the site's default VPC. Changing it replaces the desktops.
	Network *Network `yaml:"network,omitempty" json:"network,omitempty"`
	// Public bandwidth in Mbps, at least 1. Omitted: defaults.bandwidth, else 5.
	Bandwidth *int `yaml:"bandwidth,omitempty" json:"bandwidth,omitempty" jsonschema:"minimum=1,example=10" unit:"Mbps"`
	// Name of a billing plan. Omitted: defaults.billing, else per-minute.
	Billing string `yaml:"billing,omitempty" json:"billing,omitempty" jsonschema:"minLength=1,example=monthly"`
	// Name of a profile. Omitted: defaults.profile. `product` and `image` set here take precedence over it.
	Profile string `yaml:"profile,omitempty" json:"profile,omitempty" jsonschema:"minLength=1,example=a5000-win"`
	// Product, instead of the profile's: a selector or a productId. A group needs a product and an image, from here or from its profile.
	Product *Product `yaml:"product,omitempty" json:"product,omitempty"`
	// Image name or id, instead of the profile's. Changing it rebuilds the desktops (wipes the system disk).
	Image string `yaml:"image,omitempty" json:"image,omitempty" jsonschema:"minLength=1,example=Windows10-公共镜像-图像处理型"`
	// The desktops' label (remark, UpdateVmLabels). Omitted: not managed; "" enforces an empty label.
	Label *string `yaml:"label,omitempty" json:"label,omitempty" jsonschema:"example=team-a"`
	// Wanted power state, "on" or "off", enforced with OperateVm (a desktop found off is started). Omitted: started on create, not enforced afterwards. Quote it (power: "on"): YAML 1.1 tools (PyYAML, some editors) read an unquoted on/off as a boolean and write it back as true/false; those are accepted as on/off, with a warning.
	Power *Power `yaml:"power,omitempty" json:"power,omitempty" jsonschema:"enum=on,enum=off,example=on" unknown:"unknown power %q" use:"use on or off"`
	// When the desktops run: plan and apply power them on inside the schedule's hours and off outside. Omitted: the profile's, else defaults.schedule; a group that sets `power` has none.
	Schedule *Schedule `yaml:"schedule,omitempty" json:"schedule,omitempty"`
	// Never delete, replace or rebuild these desktops, even when removed from the spec. Protection applied once stays until an apply with protect: false. Default false.
	Protect *bool `yaml:"protect,omitempty" json:"protect,omitempty"`
	// Rename the managed desktop of this name to `name` (ChangeVmName) instead of replacing it. count 1 only.
	RenamedFrom string `yaml:"renamedFrom,omitempty" json:"renamedFrom,omitempty" jsonschema:"minLength=1,example=edit-old"`

	// Pos is where the group's entry starts; At holds the position of each key's value, by key.
	Pos Pos            `yaml:"-" json:"-"`
	At  map[string]Pos `yaml:"-" json:"-"`
}

func (Group) noun() string { return "desktop group" }

// CountOrDefault returns Count, or 1 when it is omitted.
func (g Group) CountOrDefault() int {
	if g.Count == nil {
		return 1
	}
	return *g.Count
}

// Fleet is a whole spec, merged from all its files and with defaults applied. Load returns it.
type Fleet struct {
	// Name is the fleet's name (the `fleet` key).
	Name string
	// Version is the format version (1).
	Version int
	// Files are the files read, in load order: the deepest base's first, then each spec that extends
	// it, the files named last (see Load). Loading Files again gives the same fleet and Digest. Digest
	// is the SHA-256 of their bytes as parsed ("sha256:" and hex), bases included, which a saved plan
	// records to notice a spec that changed since.
	Files  []string
	Digest string
	// Billing and Profiles are the declared plans and profiles, merged from every document.
	Billing  map[string]BillingPlan
	Profiles map[string]Profile
	// Groups are the desktop groups as written, in file order.
	Groups []Group
	// Desktops are the groups expanded to one entry per desktop, defaults applied, in file order.
	Desktops []Desktop
	// Accounts are the sub-accounts, in file order.
	Accounts []Account
	// Bindings are the desktop -> account bindings; Bindings.Set is false when no document has the key.
	Bindings Bindings
	// Budget is the fleet's budget, nil when it has none.
	Budget *Budget
	// Overrides are the power overrides, in file order.
	Overrides []Override
	// Pos is where the (first) `fleet` key's value is.
	Pos Pos
}

// Desktop is one desktop as the spec wants it, after count expansion and the defaults cascade
// (group field, else `defaults`, else the built-in default). Pointer fields are nil when not managed.
type Desktop struct {
	// Name is the full name (render, render_001, ...).
	Name string
	// Group is the name of the group it comes from; Index its 0-based place in that group.
	Group string
	Index int
	// Site is a siteName or siteId, not yet resolved.
	Site string
	// Network is resolved to its defaults: VPC is "default" when not set.
	Network Network
	// Bandwidth in Mbps.
	Bandwidth int
	// Billing is the plan; Billing.Name is "" for the built-in per-minute plan.
	Billing BillingPlan
	// Profile is the name of the profile used, "" when none.
	Profile string
	// Product is the selector or id, from the group or else the profile.
	Product Product
	// Image is an image name or id, from the group or else the profile.
	Image string
	// Label is nil when not managed; "" is an enforced empty label.
	Label *string
	// Power is nil when not managed (or when Schedule decides it).
	Power *Power
	// Schedule, when not nil, decides the wanted power at each moment (the group's, else its
	// profile's, else the defaults'; none when the group sets power).
	Schedule *schedule.Schedule
	// Held, when not nil, holds the power against Schedule and Power until its time (the last
	// override that names the desktop).
	Held *HeldPower
	// Protect forbids deleting, replacing or rebuilding the desktop.
	Protect bool
	// RenamedFrom is the old name to rename from, "" when none.
	RenamedFrom string
	// Pos is the position of the group's entry; NamePos of its name.
	Pos     Pos
	NamePos Pos
	// At holds, by field key (site, network, bandwidth, billing, profile, product, image, label, power,
	// protect, renamedFrom, count), the position of the value the field was resolved from: the group's,
	// the defaults', or the profile's. A field from a built-in default has no entry. The desktops of one
	// group share this map: read it, do not modify it.
	At map[string]Pos
}

// PosOf returns the position the field's value came from (see At), else the group's position, so an
// error about any field of the desktop can point at the spec.
func (d Desktop) PosOf(field string) Pos {
	if p, ok := d.At[field]; ok {
		return p
	}
	return d.Pos
}

// Bindings maps desktop names to sub-account emails.
type Bindings struct {
	// Set is true when some document has the `bindings` key: the bindings are then authoritative.
	Set bool
	// ByDesktop maps a desktop's full name to an account email.
	ByDesktop map[string]string
	// At holds the position of each binding's key (the desktop name), by desktop name.
	At map[string]Pos
	// Pos is where the (first) bindings mapping starts.
	Pos Pos
}

// Account returns the email bound to the desktop and whether there is one.
func (b Bindings) Account(desktop string) (string, bool) {
	e, ok := b.ByDesktop[desktop]
	return e, ok
}

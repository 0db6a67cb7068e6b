package engine

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/deskfleet/deskfleet/state"
)

// FormatVersion is the version of the plan's JSON form (docs/plan-json.md). It changes when a field
// changes meaning or disappears; new fields do not change it.
const FormatVersion = 1

// Plan is what Diff decides: the changes per desktop and account (for people), the steps that make them
// (for the executor), what blocks them, and what the plan was made from (to detect a stale saved plan).
// A plan never holds a secret.
type Plan struct {
	FormatVersion int       `json:"format_version"`
	Fleet         string    `json:"fleet"`
	CreatedAt     time.Time `json:"created_at"`
	// SpecDigest is Desired.SpecDigest; StateSerial the state record's serial the plan was made from.
	SpecDigest  string `json:"spec_digest"`
	StateSerial int64  `json:"state_serial"`
	// SpecFiles are the spec's files, as the plan's command named them (relative to where it ran):
	// applying the saved plan loads them to plan again and compare. Targets and Excludes are the
	// globs the plan was narrowed with. Diff leaves them empty; the fleet API sets them.
	SpecFiles []string `json:"spec_files,omitempty"`
	Targets   []string `json:"targets,omitempty"`
	Excludes  []string `json:"excludes,omitempty"`
	// Only is OnlyPower for a power-only plan (PlanOptions.Only): applying the saved plan makes it
	// again power-only.
	Only Only `json:"only,omitempty"`
	// BatchLimits are the batch limits the plan was made with, when the caller set them
	// (PlanOptions.BatchLimits): applying the saved plan plans again with the same.
	BatchLimits *BatchLimits `json:"batch_limits,omitempty"`
	// Checksum is set in a saved plan file only (SavePlan): the SHA-256 of the file's JSON written with
	// no checksum, which LoadPlan checks against accidental damage. Editing the file on purpose is
	// caught by apply, which plans again and compares.
	Checksum string `json:"checksum,omitempty"`
	// damaged is set by LoadPlan when the file does not match its checksum (Damaged).
	damaged bool
	// Observed fingerprints every live object the plan read ("vm:<id>", "account:<email>",
	// "net:<siteId>") so a saved plan can be checked for staleness: Fingerprint of the same object read
	// again differs when it moved.
	Observed map[string]string `json:"observed"`
	// Reads says how much was read to make the plan.
	Reads Reads `json:"reads"`

	// Changes are the per-object changes, in display order (accounts, then desktops in spec order, then
	// deletions).
	Changes []Change `json:"changes"`
	// Steps are the API calls, in an order that respects After.
	Steps []Step `json:"steps"`
	// Errors are changes that cannot be planned (the rest of the plan stands).
	Errors []Problem `json:"errors,omitempty"`
	// Warnings are things the user should know that do not stop the plan.
	Warnings []Problem `json:"warnings,omitempty"`
	// Expiring are the monthly desktops whose term ends within ExpiringWithin (or their plan's
	// renewWithin): the message says when, in how many days, and what happens then.
	Expiring []Problem `json:"expiring,omitempty"`
	// Overrides are the desktops whose power an override of the spec holds at the moment planned
	// (the message says at what, until when and why).
	Overrides []Problem `json:"overrides,omitempty"`
	// Unhealthy are managed objects that are not in sync and that no call can set right: a managed
	// desktop in error that deskfleet may not replace (it ran, or it is protected). Nothing is planned
	// for them and the rest of the plan stands, but the fleet is not in sync (InSync).
	Unhealthy []Problem `json:"unhealthy,omitempty"`
	// Guards are the plan-wide checks that need a flag to apply (mass deletion, empty spec); a step's own
	// guard is on the step.
	Guards []GuardFinding `json:"guards,omitempty"`
	// Budget compares the spec's budgets with the fleet's projected month, now and after the plan
	// (nil when the spec has no budget); a budget the plan takes over adds the over-budget guard.
	Budget []BudgetLine `json:"budget,omitempty"`
	// ScheduleSavings are what each schedule of the spec saves per month against always-on (nil
	// when the spec has none).
	ScheduleSavings []ScheduleSaving `json:"schedule_savings,omitempty"`
	// Monthly is the fleet's projected month before and after the plan, whole and per group (nil
	// when the fleet was not priced: a spec without budget or schedule whose plan changes nothing of
	// the bill, or a power-only plan).
	Monthly *MonthlyCost `json:"monthly,omitempty"`
	// Want and WantAccounts are what the state record holds for the desktops and accounts the plan
	// covers once it is applied: the values the API cannot report back (image, auto-renewal, protect)
	// and the ones deskfleet enforces. VmID is "" for a desktop the plan creates: the executor takes it
	// from the create step. Desktops with a plan error are not in Want.
	Want         []state.Desktop `json:"want_desktops"`
	WantAccounts []state.Account `json:"want_accounts"`
	// Unmanaged are the names of live desktops neither in the spec nor in the state: left alone.
	Unmanaged []string `json:"unmanaged,omitempty"`
	// Cost is filled by Price; nil when not priced.
	Cost *Cost `json:"cost,omitempty"`
}

// wantDesktop is a wanted desktop's JSON form: the state's entry without its AppliedAt, which a plan
// never sets (the state sets it when the plan is applied).
type wantDesktop struct {
	state.Desktop
	AppliedAt time.Time `json:"appliedAt,omitzero"`
}

// planJSON is a plan's JSON form: its fields, with the wanted desktops as wantDesktop. The fields
// from Want on are repeated here, in Plan's order, so that they keep their place in the JSON (the
// embedded fields come first): a field added to Plan goes before Want.
type planJSON struct {
	*planFields
	Want         []wantDesktop   `json:"want_desktops"`
	WantAccounts []state.Account `json:"want_accounts"`
	Unmanaged    []string        `json:"unmanaged,omitempty"`
	Cost         *Cost           `json:"cost,omitempty"`
}

type planFields Plan

// MarshalJSON writes the plan (docs/plan-json.md); a wanted desktop's zero appliedAt is left out.
func (p Plan) MarshalJSON() ([]byte, error) {
	j := planJSON{planFields: (*planFields)(&p), WantAccounts: p.WantAccounts, Unmanaged: p.Unmanaged, Cost: p.Cost}
	if p.Want != nil {
		j.Want = make([]wantDesktop, len(p.Want))
		for i, w := range p.Want {
			j.Want[i] = wantDesktop{Desktop: w, AppliedAt: w.AppliedAt}
		}
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads a plan written by MarshalJSON (or by a deskfleet that wrote the zero appliedAt).
func (p *Plan) UnmarshalJSON(b []byte) error {
	var j planJSON
	j.planFields = (*planFields)(p)
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	p.WantAccounts, p.Unmanaged, p.Cost = j.WantAccounts, j.Unmanaged, j.Cost
	p.Want = nil
	if j.Want != nil {
		p.Want = make([]state.Desktop, len(j.Want))
		for i, w := range j.Want {
			p.Want[i] = w.Desktop
			p.Want[i].AppliedAt = w.AppliedAt
		}
	}
	return nil
}

// Reads counts what Observe and ReadCatalog read.
type Reads struct {
	Desktops int           `json:"desktops"`
	Accounts int           `json:"accounts"`
	Sites    int           `json:"sites"`
	Calls    int           `json:"api_calls"`
	Elapsed  time.Duration `json:"elapsed_ns"`
	// Throttle is set when the API throttled the command's requests so far.
	Throttle *Throttle `json:"throttle,omitempty"`
}

// Damaged reports whether the plan was loaded from a file that does not match its checksum (damaged,
// or edited after it was saved): it may be shown, never applied (Session.Apply refuses it as stale).
func (p *Plan) Damaged() bool { return p.damaged }

// Empty reports whether the plan changes nothing (errors and warnings aside).
func (p *Plan) Empty() bool { return len(p.Steps) == 0 && p.countChanges() == 0 }

// InSync reports whether the live fleet matches the spec: nothing to change, no change that cannot be
// planned, and no managed object that needs a person (Unhealthy). `plan --detailed-exitcode` exits 2
// when it is false and the plan has no errors.
func (p *Plan) InSync() bool { return p.Empty() && len(p.Errors) == 0 && len(p.Unhealthy) == 0 }

func (p *Plan) countChanges() int {
	n := 0
	for _, c := range p.Changes {
		if c.Action != ActionNoop {
			n++
		}
	}
	return n
}

// Action is what happens to one object. Its String is the glyph the text plan shows.
type Action int

// The actions.
const (
	ActionNoop    Action = iota // nothing to do (shown only for context)
	ActionCreate                // +
	ActionUpdate                // ~ in place
	ActionRebuild               // ! in place, destructive (wipes the system disk)
	ActionReplace               // -/+ delete then create
	ActionDelete                // -
	ActionAdopt                 // = found by name, managed from now on
	ActionForget                // . dropped from the state without touching the live object
)

var actionGlyphs = [...]string{" ", "+", "~", "!", "-/+", "-", "=", "."}
var actionNames = [...]string{"noop", "create", "update", "rebuild", "replace", "delete", "adopt", "forget"}

// String returns the action's glyph.
func (a Action) String() string {
	if int(a) < len(actionGlyphs) {
		return actionGlyphs[a]
	}
	return "?"
}

// Name returns the action's word ("create", "update", ...), as the JSON form spells it.
func (a Action) Name() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("action(%d)", int(a))
}

// MarshalText writes the action's name.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.Name()), nil }

// UnmarshalText reads an action's name.
func (a *Action) UnmarshalText(b []byte) error {
	for i, n := range actionNames {
		if n == string(b) {
			*a = Action(i)
			return nil
		}
	}
	return fmt.Errorf("unknown action %q", b)
}

// ObjectKind says what a change is about.
type ObjectKind string

const (
	ObjectDesktop ObjectKind = "desktop"
	ObjectAccount ObjectKind = "account"
	ObjectNetwork ObjectKind = "network"
)

// Change is one change to one object, for display: what, from what to what, and why. A desktop with
// several changes has several Changes.
type Change struct {
	Object ObjectKind `json:"object"`
	// Name is the desktop's name, the account's email or the site's name; ID the vmId/accountId/siteId
	// ("" for an object the plan creates).
	Name   string `json:"name"`
	ID     string `json:"id,omitempty"`
	Action Action `json:"action"`
	// Attribute is what changes.
	Attribute Attribute `json:"attribute"`
	// Before and After are display values ("" when not applicable).
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
	// Detail adds context for people (e.g. the creation parameters); Reason says why, for display only.
	Detail string `json:"detail,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Guard is the flag this change needs to apply (GuardNone when none).
	Guard Guard `json:"guard,omitempty"`
	// OutOfBand is true when the live value was changed outside deskfleet (it differs from what was last
	// applied): the plan sets it back.
	OutOfBand bool `json:"out_of_band,omitempty"`
	// Account is the email of the account bound to the desktop (live, else wanted), for "who is affected".
	Account string `json:"account,omitempty"`
	// Steps are the ids of the steps that make the change.
	Steps []int `json:"steps,omitempty"`
}

// Attribute names what a Change changes.
type Attribute string

// The attributes.
const (
	AttrCreate  Attribute = "create"
	AttrDelete  Attribute = "delete"
	AttrAdopt   Attribute = "adopt"
	AttrForget  Attribute = "forget"
	AttrReplace Attribute = "replace"
	AttrRebuild Attribute = "rebuild"
	AttrRename  Attribute = "rename" // a desktop's name
	AttrLabel   Attribute = "label"
	AttrPower   Attribute = "power"
	AttrBind    Attribute = "bind"
	AttrUnbind  Attribute = "unbind"
	AttrBilling Attribute = "billing"
	AttrRenew   Attribute = "renew"
	AttrName    Attribute = "name"   // a sub-account's name
	AttrRemark  Attribute = "remark" // a sub-account's remark
)

// FreeText reports whether the attribute's values are free text (shown as a string diff) rather than
// one of a few words or a description.
func (a Attribute) FreeText() bool {
	switch a {
	case AttrLabel, AttrRename, AttrName, AttrRemark:
		return true
	}
	return false
}

// Guard is a kind of change that needs an explicit flag (or typed confirmation) to apply.
type Guard string

const (
	GuardNone    Guard = ""
	GuardDelete  Guard = "delete"  // --allow-delete
	GuardReplace Guard = "replace" // --allow-replace
	GuardRebuild Guard = "rebuild" // --allow-rebuild
	// Plan-wide guards.
	GuardMassDelete Guard = "mass-delete" // --force (more than --max-delete-percent of the managed desktops)
	GuardEmptySpec  Guard = "empty-spec"  // --force (an empty spec over a non-empty state)
	GuardOverBudget Guard = "over-budget" // --allow-over-budget (the plan takes a budget's projected month over it)
	// GuardPrepay: --allow-prepay (a renewal or a conversion to monthly commits money up front, which
	// no refund takes back: RenewalOrder, UpdateOrder).
	GuardPrepay Guard = "prepay"
)

// Flag returns the command-line flag that allows changes of this guard.
func (g Guard) Flag() string {
	switch g {
	case GuardDelete:
		return "--allow-delete"
	case GuardReplace:
		return "--allow-replace"
	case GuardRebuild:
		return "--allow-rebuild"
	case GuardMassDelete, GuardEmptySpec:
		return "--force"
	case GuardOverBudget:
		return "--allow-over-budget"
	case GuardPrepay:
		return "--allow-prepay"
	}
	return ""
}

// GuardFinding is a plan-wide guard that applies to this plan.
type GuardFinding struct {
	Guard   Guard  `json:"guard"`
	Message string `json:"message"`
}

// Problem is an error or warning about one object of the plan.
type Problem struct {
	Object ObjectKind `json:"object"`
	Name   string     `json:"name"`
	// Pos is where the object is in the spec ("" when it is not in the spec), as file:line:col.
	Pos     string `json:"pos,omitempty"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
}

// Step is one API call of the plan.
type Step struct {
	// ID numbers the steps from 1 in plan order.
	ID int
	Op Op
	// After lists the ids of the steps that must succeed first.
	After []int
	// Guard is the flag the step needs (GuardNone when none).
	Guard Guard
	// Reason says why, for display only.
	Reason string
}

// stepJSON is a step's JSON form: the op's kind and action beside its own fields.
type stepJSON struct {
	ID     int             `json:"id"`
	Op     OpKind          `json:"op"`
	Action string          `json:"action"`
	Async  bool            `json:"task"`
	After  []int           `json:"after,omitempty"`
	Guard  Guard           `json:"guard,omitempty"`
	Reason string          `json:"reason,omitempty"`
	Params json.RawMessage `json:"params"`
}

// MarshalJSON writes the step with its op's kind, action and parameters.
func (s Step) MarshalJSON() ([]byte, error) {
	if s.Op == nil {
		return nil, fmt.Errorf("step %d has no op", s.ID)
	}
	params, err := json.Marshal(s.Op)
	if err != nil {
		return nil, err
	}
	return json.Marshal(stepJSON{ID: s.ID, Op: s.Op.Kind(), Action: string(s.Op.Action()), Async: s.Async(),
		After: s.After, Guard: s.Guard, Reason: s.Reason, Params: params})
}

// UnmarshalJSON reads a step written by MarshalJSON.
func (s *Step) UnmarshalJSON(b []byte) error {
	var j stepJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	op, err := decodeOp(j.Op, j.Params)
	if err != nil {
		return fmt.Errorf("step %d: %w", j.ID, err)
	}
	*s = Step{ID: j.ID, Op: op, After: j.After, Guard: j.Guard, Reason: j.Reason}
	return nil
}

// Async reports whether the step's call returns a task to wait for.
func (s Step) Async() bool { return s.Op.Facts().Async }

// Cost is what a plan costs, from the API's own quotes (QueryVmPrice, GetEipPrice, QueryProducts).
type Cost struct {
	Currency string `json:"currency"`
	// RunRateDelta is the change of the hourly run rate of per-minute desktops (negative: a saving).
	RunRateDelta float64 `json:"run_rate_delta_per_hour"`
	// Prepaid is what the plan commits up front (monthly creations, conversions and renewals).
	Prepaid float64 `json:"prepaid"`
	// Lines explain the totals.
	Lines []CostLine `json:"lines"`
}

// CostLine is one priced item of a plan.
type CostLine struct {
	// What is priced, for people ("render x3, 1 month").
	What string `json:"what"`
	// PerHour is the change of hourly run rate; Prepaid the amount committed now.
	PerHour float64 `json:"per_hour,omitempty"`
	Prepaid float64 `json:"prepaid,omitempty"`
	// Steps are the steps the line prices.
	Steps []int `json:"steps,omitempty"`
}

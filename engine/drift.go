package engine

import (
	"fmt"
	"sort"
	"time"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/state"
)

// DriftFormatVersion is the version of the drift report's JSON form. It changes when a field changes
// meaning or disappears; new fields do not change it.
const DriftFormatVersion = 1

// DefaultExpiringWithin is the window of DriftOptions.ExpiringWithin when it is not set: the seven
// days QueryExpireVms covers.
const DefaultExpiringWithin = 7 * 24 * time.Hour

// AttrDeleted is the attribute of a drift item about a managed desktop (or account) that is gone live:
// deleted outside deskfleet. The plan recreates it (an ActionCreate change marked OutOfBand).
const AttrDeleted Attribute = "deleted"

// AttrRecord is the attribute of a drift item about a managed desktop whose recorded vmId the account
// does not have while a live desktop deskfleet does not manage carries its name: the record is likely
// wrong. The plan reports an error for it instead of creating it again (Want: the recorded vmId; Live:
// the live one's).
const AttrRecord Attribute = "record"

// AttrDuplicate is the attribute of a drift item (and of a plan warning) about a managed desktop that
// live desktops deskfleet does not manage share a name with: possible duplicates, billed beside it.
const AttrDuplicate Attribute = "duplicate"

// DriftOptions tune Drift.
type DriftOptions struct {
	// Now is the time expiries are measured from (Snapshot.TakenAt when zero).
	Now time.Time
	// ExpiringWithin: monthly desktops whose term ends sooner than this are reported (expired ones
	// too). Zero or less means DefaultExpiringWithin.
	ExpiringWithin time.Duration
	// Targets and Excludes narrow the report to the desktops (by name) and accounts (by email) they
	// let in, as they narrow a plan (Options).
	Targets, Excludes []string
	// ScheduleGrace: a scheduled desktop whose power is what its schedule wanted this long ago is not
	// drift (the power-only apply that follows the schedule may not have run yet). Zero or less means
	// DefaultScheduleGrace.
	ScheduleGrace time.Duration
}

// DefaultScheduleGrace is DriftOptions.ScheduleGrace's default: twice the 15 minutes between the
// scheduled power-only applies of the recipes.
const DefaultScheduleGrace = 30 * time.Minute

// Cause says why a managed value differs from the spec.
type Cause string

const (
	// CauseOutside: the live value differs from what deskfleet last applied: changed outside deskfleet.
	CauseOutside Cause = "outside"
	// CauseSpec: the spec asks for something else than what was last applied: the spec changed since
	// the last apply (the live value may still be what was applied).
	CauseSpec Cause = "spec"
	// CauseUnknown: the state record does not remember the value (billing, site, product, bandwidth).
	CauseUnknown Cause = "unknown"
)

// DriftReport is what `deskfleet drift` finds: the managed objects whose live values differ from the
// spec, the desktops expiring soon, those in error, and the live desktops deskfleet does not manage.
// Every list is sorted (drift in spec order, accounts first; the rest by name) and is [] when empty.
type DriftReport struct {
	FormatVersion int       `json:"format_version"`
	Fleet         string    `json:"fleet"`
	At            time.Time `json:"at"`
	// ExpiringWithin is the window of Expiring.
	ExpiringWithin time.Duration `json:"expiring_within_ns"`
	// ManagedDesktops and ManagedAccounts count the state record's objects.
	ManagedDesktops int `json:"managed_desktops"`
	ManagedAccounts int `json:"managed_accounts"`
	// StateSerial is the serial of the record the report was made from.
	StateSerial int64 `json:"state_serial"`
	// Targets and Excludes are the --target and --exclude globs the report was narrowed with: it
	// says nothing of the objects they leave out.
	Targets  []string `json:"targets,omitempty"`
	Excludes []string `json:"excludes,omitempty"`
	// Reads says how much was read (filled by the caller, like Plan.Reads).
	Reads Reads `json:"reads"`

	// Items are the managed values that differ from the spec, one item per object and attribute.
	Items []DriftItem `json:"drifted"`
	// Expiring are the monthly desktops (managed or not) whose term ends within ExpiringWithin.
	Expiring []ExpiringItem `json:"expiring"`
	// InError are the live desktops (managed or not) in an error or expired status.
	InError []StatusItem `json:"in_error"`
	// Unmanaged are the live desktops neither in the spec nor in the state record (Plan.Unmanaged).
	Unmanaged []string `json:"unmanaged"`
	// Unadopted are the live desktops the spec names that the state does not manage yet: the next
	// apply adopts them (Plan's adopt changes). They are not drift.
	Unadopted []string `json:"unadopted"`
	// Uncreated are the desktops of the spec that are neither live nor managed: the next apply creates
	// them (Plan's create changes, deleted managed desktops aside). They are not drift.
	Uncreated []string `json:"uncreated"`
}

// DriftItem is one managed value that differs from the spec.
type DriftItem struct {
	Object ObjectKind `json:"object"`
	// Name is the desktop's name in the spec (or the account's email); ID its vmId/accountId.
	Name string `json:"name"`
	ID   string `json:"id,omitempty"`
	// Attribute is what differs: rename, label, power, bind, unbind, billing, replace, deleted (desktops);
	// name, remark, deleted (accounts). They are the Attribute of the plan's Change that sets it back
	// (AttrDeleted: the plan's OutOfBand create).
	Attribute Attribute `json:"attribute"`
	// Want is the spec's value and Live the live one, as the plan shows them ("" for none).
	Want string `json:"want"`
	Live string `json:"live"`
	// Cause says whether the value was changed outside deskfleet or the spec changed since the last apply.
	Cause Cause `json:"cause"`
	// Note says what apply does about it when that is not simply setting it back ("needs
	// --allow-replace", "the API cannot switch back", ...).
	Note string `json:"note,omitempty"`
}

// ExpiringItem is a monthly desktop whose term ends soon (or has ended).
type ExpiringItem struct {
	Name string `json:"name"`
	ID   string `json:"id,omitempty"`
	// ExpireTime is the end of the term (zero when QueryExpireVms listed it without a readable time).
	ExpireTime time.Time `json:"expire_time"`
	// Expired is true when the term has already ended.
	Expired bool `json:"expired"`
	// DaysLeft is the whole days from the report's time to ExpireTime (0 when it ends within a day,
	// has ended, or is not known).
	DaysLeft int `json:"days_left"`
	// Managed is true for a desktop of the state record.
	Managed bool `json:"managed"`
	// AutoRenew is the auto-renewal deskfleet last requested (the API does not report it): nil when
	// the record does not know it.
	AutoRenew *bool `json:"auto_renew,omitempty"`
	// Source says where the expiry was read: "QueryVm" (the desktop's expireTime) or "QueryExpireVms".
	Source string `json:"source"`
}

// StatusItem is a desktop in an error or expired status.
type StatusItem struct {
	Name string `json:"name"`
	ID   string `json:"id"`
	// Status is the normalised status (failed, expired), RawStatus the API's word for it.
	Status    string `json:"status"`
	RawStatus string `json:"raw_status"`
	Managed   bool   `json:"managed"`
}

// Drifted reports whether the fleet needs attention: a managed value differs from the spec, or a
// managed desktop is in error, expired, or expiring within the window. Unmanaged desktops (and their
// statuses and expiries) are reported but do not count: they are not the fleet's, and an account
// shared with other fleets would otherwise never be clean. `deskfleet drift` exits 6 when it is true.
func (r *DriftReport) Drifted() bool {
	if len(r.Items) > 0 {
		return true
	}
	for _, e := range r.Expiring {
		if e.Managed {
			return true
		}
	}
	for _, s := range r.InError {
		if s.Managed {
			return true
		}
	}
	return false
}

// Drift compares the live fleet with the spec for the objects deskfleet manages. It is a pure function
// (no I/O, no clock: DriftOptions.Now) and makes no call: d, snap and rec were read before (Resolve,
// Observe, the state store). rec may be nil (nothing managed: nothing drifts; spec-named desktops are
// Unadopted).
//
// Contract:
//   - Only managed objects (in rec) and in the spec drift: a managed desktop is matched to the spec as
//     Diff matches it (by its recorded name, or by renamedFrom). Drift runs Diff's decision table and
//     classifies its decisions: each item is a value Diff changes for that object with a Change of
//     the same Attribute (or, for a monthly desktop the spec wants per-minute and for a protected
//     desktop that needs a replacement, refuses with a plan error): drift and plan never disagree. The image is not compared: QueryVm does not report it, so an image
//     change is the spec's, not drift.
//   - A desktop that needs a replacement (site, product, bandwidth, network; or in error after its
//     creation failed: replaced without a flag) is one replace item, and its other attributes are not
//     compared (the replacement sets them all), as in Diff. A managed desktop in error otherwise is in
//     InError only (Diff's Unhealthy: nothing is planned for it).
//   - A managed desktop whose recorded vmId the account does not have, while a live desktop of its
//     name that the record does not manage exists, is an AttrRecord item (Diff's plan error); one
//     deleted while such a namesake exists is a deleted item whose note says apply will not create it.
//   - Live desktops the record does not manage that share a managed desktop's name (in the spec or not)
//     are one AttrDuplicate item of the managed desktop: Diff's warnings of possible duplicates.
//   - Power is compared only where the spec enforces it and the desktop is running or stopped;
//     bindings only when the spec has a bindings key; labels and remarks only where the spec sets them.
//   - Expiring lists monthly desktops whose expiry (QueryVm's expireTime, else QueryExpireVms's) is
//     before Now+ExpiringWithin; a QueryExpireVms entry is matched to a live desktop by name.
//   - Unmanaged is Diff's Unmanaged; Unadopted are the desktops Diff adopts, Uncreated those it
//     creates (in spec order), deleted managed ones aside.
func Drift(d *Desired, snap *provider.Snapshot, rec *state.Record, opt DriftOptions) *DriftReport {
	if opt.Now.IsZero() {
		opt.Now = snap.TakenAt
	}
	if opt.ExpiringWithin <= 0 {
		opt.ExpiringWithin = DefaultExpiringWithin
	}
	if opt.ScheduleGrace <= 0 {
		opt.ScheduleGrace = DefaultScheduleGrace
	}
	if rec == nil {
		rec = &state.Record{Fleet: d.Fleet}
	}
	r := &DriftReport{
		FormatVersion: DriftFormatVersion, Fleet: d.Fleet, At: opt.Now.UTC(), ExpiringWithin: opt.ExpiringWithin,
		ManagedDesktops: len(rec.Desktops), ManagedAccounts: len(rec.Accounts), StateSerial: rec.Serial,
		Items: []DriftItem{}, Expiring: []ExpiringItem{}, InError: []StatusItem{}, Unmanaged: []string{},
		Unadopted: []string{}, Uncreated: []string{},
	}
	r.Targets, r.Excludes = opt.Targets, opt.Excludes
	df := diff(d, snap, rec, Options{Now: opt.Now, Targets: opt.Targets, Excludes: opt.Excludes})
	// The desired fleet as the planner saw it: scheduled desktops with the power of this moment.
	dr := &drifter{d: df.d, snap: snap, rec: rec, r: r, df: df, opt: opt}
	dr.items()
	dr.expiring(opt)
	dr.statuses()

	p := df.plan
	r.Unmanaged = append(r.Unmanaged, p.Unmanaged...)
	for _, c := range p.Changes {
		switch {
		case c.Object != ObjectDesktop:
		case c.Action == ActionAdopt:
			r.Unadopted = append(r.Unadopted, c.Name)
		case c.Action == ActionCreate && !c.OutOfBand:
			r.Uncreated = append(r.Uncreated, c.Name)
		}
	}
	sort.Strings(r.Unadopted)
	if len(opt.Targets) > 0 || len(opt.Excludes) > 0 {
		r.narrow(df.selected)
	}
	return r
}

// narrow keeps only the entries of the report about objects that keep lets in (--target, --exclude).
func (r *DriftReport) narrow(keep func(name string) bool) {
	r.Items = filterBy(r.Items, func(it DriftItem) string { return it.Name }, keep)
	r.Expiring = filterBy(r.Expiring, func(it ExpiringItem) string { return it.Name }, keep)
	r.InError = filterBy(r.InError, func(it StatusItem) string { return it.Name }, keep)
	id := func(s string) string { return s }
	r.Unmanaged = filterBy(r.Unmanaged, id, keep)
	r.Unadopted = filterBy(r.Unadopted, id, keep)
	r.Uncreated = filterBy(r.Uncreated, id, keep)
}

func filterBy[T any](xs []T, name func(T) string, keep func(string) bool) []T {
	out := xs[:0]
	for _, x := range xs {
		if keep(name(x)) {
			out = append(out, x)
		}
	}
	return out
}

type drifter struct {
	d    *Desired
	snap *provider.Snapshot
	rec  *state.Record
	r    *DriftReport
	df   *differ // the planner's decisions
	opt  DriftOptions
}

func (dr *drifter) add(it DriftItem) { dr.r.Items = append(dr.r.Items, it) }

// causeOf is CauseOutside for a change that sets back a value changed outside deskfleet, CauseSpec
// for one the spec asks for since the last apply.
func causeOf(outOfBand bool) Cause {
	if outOfBand {
		return CauseOutside
	}
	return CauseSpec
}

// items classifies the planner's decisions (the plan's changes and those a plan error stands for)
// about the managed objects of the spec: the values that differ from it, and why.
func (dr *drifter) items() {
	accounts := map[string]bool{}
	for _, a := range dr.d.Accounts {
		accounts[a.Email] = true
	}
	desktops := map[string]match{}
	specs := map[string]DesiredDesktop{}
	for _, dd := range dr.d.Desktops {
		if m, p := dr.df.find(dd); p == nil && m.managed {
			desktops[dd.Name], specs[dd.Name] = m, dd
		}
	}
	for _, dc := range dr.df.log {
		switch {
		case dc.warned && dc.Attribute == AttrDuplicate:
			// Any managed desktop's, in the spec or not: the plan warns of it.
			dr.add(DriftItem{Object: ObjectDesktop, Name: dc.Name, ID: dc.ID, Attribute: AttrDuplicate,
				Want: dc.After, Live: dc.Before, Cause: CauseOutside,
				Note: "live desktops not managed share its name: delete them in the console, or rename and adopt them"})
		case dc.Object == ObjectAccount:
			if recA, managed := dr.rec.Account(dc.Name); managed && accounts[dc.Name] {
				dr.accountItem(dc, recA)
			}
		case dc.Object == ObjectDesktop:
			if m, managed := desktops[dc.Name]; managed {
				dr.desktopItem(dc, m, specs[dc.Name])
			}
		}
	}
	// Accounts first, then desktops in spec order (those not in the spec last); an object's items
	// keep the order of the planner's decisions.
	order := map[string]int{}
	for i, dd := range dr.d.Desktops {
		order[dd.Name] = i
	}
	rank := func(it DriftItem) int {
		if it.Object == ObjectAccount {
			return -1
		}
		if i, ok := order[it.Name]; ok {
			return i
		}
		return len(order)
	}
	sort.SliceStable(dr.r.Items, func(i, j int) bool { return rank(dr.r.Items[i]) < rank(dr.r.Items[j]) })
}

// accountItem is the drift of a managed account that a decision shows.
func (dr *drifter) accountItem(dc decision, recA state.Account) {
	it := DriftItem{Object: ObjectAccount, Name: dc.Name, ID: dc.ID, Attribute: dc.Attribute,
		Want: dc.After, Live: dc.Before, Cause: causeOf(dc.OutOfBand)}
	switch dc.Attribute {
	case AttrCreate:
		it.ID, it.Attribute, it.Want, it.Live = recA.AccountID, AttrDeleted, "exists", "deleted"
		it.Cause, it.Note = CauseOutside, "apply creates it again"
	case AttrName, AttrRemark:
	default:
		return
	}
	dr.add(it)
}

// desktopItem is the drift of a managed desktop that a decision shows. The image is not compared
// (QueryVm does not report it: a rebuild is the spec's), nor is a renewal (expiry is reported apart).
func (dr *drifter) desktopItem(dc decision, m match, dd DesiredDesktop) {
	it := DriftItem{Object: ObjectDesktop, Name: dc.Name, ID: m.live.ID, Attribute: dc.Attribute,
		Want: dc.After, Live: dc.Before, Cause: causeOf(dc.OutOfBand)}
	switch dc.Attribute {
	case AttrCreate:
		if !m.gone {
			return
		}
		it.ID, it.Attribute, it.Want, it.Live = m.rec.VmID, AttrDeleted, "exists", "deleted"
		it.Cause, it.Note = CauseOutside, "deleted outside deskfleet; apply creates it again"
		if dc.refused {
			it.Note = "deleted outside deskfleet, and a desktop not managed has its name: apply reports an error instead of creating it again"
		}
	case AttrRecord:
		it.ID, it.Cause = m.rec.VmID, CauseOutside
		it.Note = "the account does not have the recorded vmId, but a desktop of that name not managed: apply reports an error (adopt it with `deskfleet import --adopt`, or fix it in the console)"
	case AttrReplace:
		it.Cause, it.Note = CauseUnknown, "cannot change in place: apply replaces it with --allow-replace"
		switch {
		case dc.refused:
			it.Note = "cannot change in place, and it is protected: apply will not replace it"
		case dc.Guard == GuardNone:
			it.Cause, it.Note = CauseOutside, "in error since its creation failed, never ran: apply replaces it (no flag needed)"
		}
	case AttrRename:
		if dc.Before == dc.After {
			return // found by renamedFrom, already renamed
		}
		it.Cause = CauseOutside
		if dc.Before == m.rec.Name {
			it.Cause = CauseSpec // renamedFrom: the spec renames it
		}
	case AttrBilling:
		it.Cause = CauseUnknown
		if dc.refused {
			it.Note = "the API cannot switch a monthly desktop back to per-minute: apply reports an error"
		}
	case AttrBind, AttrUnbind, AttrLabel:
	case AttrPower:
		// Only the power the spec enforces: a stop that other work needs is not drift.
		if dd.Power == nil {
			return
		}
		want := onOff(*dd.Power == provider.PowerOn)
		if want == dc.Before {
			return
		}
		it.Want, it.Cause = want, CauseSpec
		if m.rec.Power == string(*dd.Power) {
			it.Cause = CauseOutside
		}
		if dd.Schedule != nil {
			// Schedule-driven power is not drift: the schedule turned while the power-only apply
			// that follows it had not run yet (within ScheduleGrace).
			if onOff(dd.Schedule.On(dr.opt.Now.Add(-dr.opt.ScheduleGrace))) == dc.Before {
				return
			}
			it.Cause = CauseOutside
			it.Note = fmt.Sprintf("the schedule %s wants it %s for more than %s: `deskfleet apply --only power` sets it", dd.Schedule, want, dr.opt.ScheduleGrace)
		}
	default:
		return
	}
	dr.add(it)
}

// expiring lists the monthly desktops whose term ends before Now+ExpiringWithin.
func (dr *drifter) expiring(opt DriftOptions) {
	limit := opt.Now.Add(opt.ExpiringWithin)
	seen := map[string]bool{} // names covered by a live desktop's own expiry
	item := func(name, id string, exp time.Time, source string) ExpiringItem {
		it := ExpiringItem{Name: name, ID: id, ExpireTime: exp, Source: source}
		if !exp.IsZero() {
			it.ExpireTime = exp.UTC()
			it.Expired = !exp.After(opt.Now)
			if !it.Expired {
				it.DaysLeft = int(exp.Sub(opt.Now).Hours() / 24)
			}
		}
		if r, ok := dr.rec.Desktop(id); ok && id != "" {
			it.Managed = true
			it.AutoRenew = new(r.AutoRenew)
		}
		return it
	}
	for _, l := range dr.snap.Desktops {
		if l.Status == provider.StatusGone || l.BillMethod != provider.BillMethodMonthly || l.ExpireTime.IsZero() {
			continue
		}
		seen[l.Name] = true
		if l.ExpireTime.Time.Before(limit) {
			dr.r.Expiring = append(dr.r.Expiring, item(l.Name, l.ID, l.ExpireTime.Time, "QueryVm"))
		}
	}
	for _, e := range dr.snap.Expiring {
		if seen[e.Name] || (!e.ExpireTime.IsZero() && !e.ExpireTime.Time.Before(limit)) {
			continue
		}
		seen[e.Name] = true
		id := ""
		var live []provider.Desktop
		for _, l := range dr.snap.DesktopsNamed(e.Name) {
			if l.Status != provider.StatusGone {
				live = append(live, l)
			}
		}
		if len(live) == 1 {
			id = live[0].ID
		}
		dr.r.Expiring = append(dr.r.Expiring, item(e.Name, id, e.ExpireTime.Time, "QueryExpireVms"))
	}
	sort.SliceStable(dr.r.Expiring, func(i, j int) bool {
		a, b := dr.r.Expiring[i], dr.r.Expiring[j]
		if !a.ExpireTime.Equal(b.ExpireTime) {
			return a.ExpireTime.Before(b.ExpireTime)
		}
		return a.Name < b.Name
	})
}

// statuses lists the live desktops in an error or expired status.
func (dr *drifter) statuses() {
	for _, l := range dr.snap.Desktops {
		if l.Status != provider.StatusFailed && l.Status != provider.StatusExpired {
			continue
		}
		_, managed := dr.rec.Desktop(l.ID)
		dr.r.InError = append(dr.r.InError, StatusItem{Name: l.Name, ID: l.ID, Status: l.Status.String(),
			RawStatus: l.RawStatus, Managed: managed})
	}
	sort.SliceStable(dr.r.InError, func(i, j int) bool {
		a, b := dr.r.InError[i], dr.r.InError[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.ID < b.ID
	})
}

// String describes the item in one line, for logs and test failures.
func (it DriftItem) String() string {
	return fmt.Sprintf("%s %s %s: want %q live %q (%s)", it.Object, it.Name, it.Attribute, it.Want, it.Live, it.Cause)
}

package engine

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/spec"
	"github.com/deskfleet/deskfleet/state"
)

// DefaultMaxDeletePercent is the share of the managed desktops a plan may delete without --force.
const DefaultMaxDeletePercent = 30

// Options tune Diff.
type Options struct {
	// Now is the time renewals are measured from (Snapshot.TakenAt when zero).
	Now time.Time
	// At is the moment whose scheduled power the plan wants (Now when zero): `plan --at` previews
	// another moment. A saved plan made at another moment is stale when applied (its power differs).
	At time.Time
	// Targets, when not empty, limit the plan to the desktops (by name) and accounts (by email) that
	// match one of these globs (path.Match); Excludes leave out those that match. An account a targeted
	// desktop is bound to is planned too, so that the binding can be made.
	Targets, Excludes []string
	// MaxDeletePercent: deleting more than this share of the managed desktops raises the mass-delete
	// guard (0: any deletion). nil means DefaultMaxDeletePercent; a negative value disables the guard.
	MaxDeletePercent *int
	// Owners are the objects the other fleets of the state store manage (nil: none). A live desktop or
	// sub-account the spec names that another fleet manages is not adopted: the plan has an error
	// naming that fleet (within one store an object belongs to one fleet).
	Owners *Owners
	// BatchLimits bound the items of one call of each batched action (nil: DefaultBatchLimits); a
	// larger group is split into several calls, each its own step.
	BatchLimits *BatchLimits
}

// Diff decides what to do: it compares the desired fleet with the live snapshot and the state record
// and returns the plan. It is a pure function: no I/O, no clock (Options.Now), the same inputs give the
// same plan. rec may be nil (nothing managed yet: live desktops the spec names are adopted).
//
// The decision table (docs/architecture.md; tested by the golden scenarios of
// engine/testdata/scenarios) is implemented by accounts, desktops (existing, billing, power) and
// deletions; steps are then batched (one call per kind and parameter set) and ordered by the API's
// rules (see phaseDeps). Drift classifies the same decisions (differ.log).
func Diff(d *Desired, snap *provider.Snapshot, rec *state.Record, opt Options) *Plan {
	return diff(d, snap, rec, opt).plan
}

// diff runs the decision table and returns the differ, with its plan and its decisions.
func diff(d *Desired, snap *provider.Snapshot, rec *state.Record, opt Options) *differ {
	if opt.Now.IsZero() {
		opt.Now = snap.TakenAt
	}
	if opt.At.IsZero() {
		opt.At = opt.Now
	}
	d = scheduledPower(d, opt.At)
	if rec == nil {
		rec = &state.Record{Fleet: d.Fleet}
	}
	df := &differ{
		d: d, snap: snap, rec: rec, opt: opt,
		plan: &Plan{
			FormatVersion: FormatVersion,
			Fleet:         d.Fleet,
			CreatedAt:     opt.Now,
			SpecDigest:    d.SpecDigest,
			StateSerial:   rec.Serial,
			Observed:      Fingerprints(snap),
			Changes:       []Change{},
			Steps:         []Step{},
			Want:          make([]state.Desktop, 0, len(d.Desktops)),
			WantAccounts:  []state.Account{},
		},
		recByName: make(map[string]state.Desktop, len(rec.Desktops)),
		claimed:   make(map[string]bool, len(snap.Desktops)),
		replaced:  map[string]bool{},
		newAcct:   map[string]bool{},
		noWant:    map[string]bool{},
		apart:     map[string]bool{},
	}
	df.indexRecord()
	df.accounts()
	df.desktops()
	df.deletions()
	df.unmanaged()
	df.overrides()
	df.guards()
	df.build()
	return df
}

// phase orders the kinds of work: a step only ever depends on steps of earlier phases.
type phase int

const (
	phNet phase = iota
	phAccountCreate
	phAccountName
	phAccountRemark
	phDelete
	phCreate
	phRenameFix
	phRename
	phUpdateOrder
	phRenew
	phPowerOff
	phRebuild
	phUnbind
	phChange
	phBind
	phLabel
	phPowerOn
	numPhases
)

// phaseDeps lists, for each phase, the earlier phases whose steps on the same desktop must finish
// first: the API's ordering rules (docs/api-readings.md, "Rules the reference states"). Dependencies
// across objects (network before create, account before bind) are added where the tasks are made.
var phaseDeps = [numPhases][]phase{
	phCreate:    {phDelete},
	phRenameFix: {phCreate},
	phPowerOff:  {phCreate},
	phRebuild:   {phPowerOff},
	phUnbind:    {phPowerOff},
	phChange:    {phPowerOff},
	phBind:      {phCreate, phRenameFix},
	phLabel:     {phCreate},
	phPowerOn:   {phPowerOff, phRebuild, phUnbind, phChange},
}

// task is one object's share of a step; tasks of one phase with one key become one step.
type task struct {
	phase  phase
	key    string
	desk   string // desktop name, "" for account and network work
	group  string // the desktop's group (creates)
	target Target
	change int // index in plan.Changes, -1 for none
	guard  Guard
	reason string
	// extra are dependencies on other objects' steps: the network step of a site, the creation of an
	// account.
	extra []objKey

	power   provider.PowerAction
	label   string
	account AccountRef
	from    string
	billing Billing
	image   Image
	create  *CreateDesktops
	newAcct NewAccount
	remark  string
	site    Site
}

type differ struct {
	d    *Desired
	snap *provider.Snapshot
	rec  *state.Record
	opt  Options
	plan *Plan

	recByName map[string]state.Desktop
	claimed   map[string]bool // vmIds matched to a desired desktop
	replaced  map[string]bool // desktop names this plan replaces
	newAcct   map[string]bool // emails created by this plan
	noWant    map[string]bool // desktop names whose Want is made apart, or left out (a plan error stands for them)
	// apart are desktop names whose batched calls after their creation (bind, label) are not shared
	// with other desktops: a desktop created again after its creation failed may fail again, and the
	// healthy desktops must not wait for it.
	apart map[string]bool
	tasks []task
	// log is every change decided, in plan order, with those a plan error stands for (refused): what
	// Drift classifies.
	log []decision
}

// decision is a change the decision table made: planned, refused (the plan has an error instead:
// a protected desktop that needs a replacement, a monthly desktop the spec wants per-minute, a record
// whose vmId the account does not have beside a live desktop of that name), or warned (the plan has a
// warning and changes nothing: a possible duplicate).
type decision struct {
	Change
	refused bool
	warned  bool
}

// refuse logs a change the plan cannot make (its caller adds the plan error).
func (df *differ) refuse(c Change) { df.log = append(df.log, decision{Change: c, refused: true}) }

// warn logs a finding the plan only warns about (its caller adds the warning).
func (df *differ) warn(c Change) { df.log = append(df.log, decision{Change: c, warned: true}) }

// indexRecord indexes the record's desktops by name. Two entries may share a name (a desktop adopted
// by `deskfleet import --adopt` beside an entry whose vmId the account does not have): the one that is
// live wins, then the smallest vmId, so that the plan does not depend on the map's order.
func (df *differ) indexRecord() {
	ids := make([]string, 0, len(df.rec.Desktops))
	for id := range df.rec.Desktops {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		r := df.rec.Desktops[id]
		if o, ok := df.recByName[r.Name]; ok && (df.isLive(o.VmID) || !df.isLive(r.VmID)) {
			continue
		}
		df.recByName[r.Name] = r
	}
}

// isLive reports whether the account has the desktop with this id, not deleted.
func (df *differ) isLive(id string) bool {
	l, ok := df.snap.Desktop(id)
	return ok && l.Status != provider.StatusGone
}

// selected reports whether --target/--exclude let the named object into the plan.
func (df *differ) selected(name string) bool {
	for _, g := range df.opt.Excludes {
		if ok, _ := path.Match(g, name); ok {
			return false
		}
	}
	if len(df.opt.Targets) == 0 {
		return true
	}
	for _, g := range df.opt.Targets {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}

func (df *differ) addChange(c Change) int {
	df.log = append(df.log, decision{Change: c})
	df.plan.Changes = append(df.plan.Changes, c)
	return len(df.plan.Changes) - 1
}

func (df *differ) add(t task) { df.tasks = append(df.tasks, t) }

func (df *differ) problem(list *[]Problem, obj ObjectKind, name string, pos fmt.Stringer, msg, hint string) {
	p := Problem{Object: obj, Name: name, Message: msg, Hint: hint}
	if pos != nil {
		p.Pos = pos.String()
	}
	*list = append(*list, p)
}

// accounts plans the sub-accounts: create, rename, remark; forget those removed from the spec.
func (df *differ) accounts() {
	wanted := map[string]bool{}
	bound := map[string]bool{}
	for name, email := range df.d.Bindings {
		if df.selected(name) {
			bound[email] = true
		}
	}
	for _, a := range df.d.Accounts {
		wanted[a.Email] = true
		if !df.selected(a.Email) && !bound[a.Email] {
			continue
		}
		live, ok := df.snap.AccountByEmail(a.Email)
		df.plan.WantAccounts = append(df.plan.WantAccounts, state.Account{Email: a.Email, AccountID: live.AccountID,
			Name: a.Name, Remark: a.Remark})
		if !ok {
			remark, detail := "", ""
			if a.Remark != nil {
				remark = *a.Remark
				detail = fmt.Sprintf("remark %q", remark)
			}
			ci := df.addChange(Change{Object: ObjectAccount, Name: a.Email, Action: ActionCreate,
				Attribute: AttrCreate, After: a.Name, Detail: detail})
			df.newAcct[a.Email] = true
			df.add(task{phase: phAccountCreate, change: ci,
				newAcct: NewAccount{Email: a.Email, Name: a.Name, Remark: remark}})
			continue
		}
		if live.Status == provider.AccountError {
			df.problem(&df.plan.Warnings, ObjectAccount, a.Email, a.Pos,
				"the sub-account is in status error", "check it in the console; bindings to it may fail")
		}
		ref := AccountRef{Email: a.Email, ID: live.AccountID}
		recA, managed := df.rec.Account(a.Email)
		if o := df.opt.Owners.Account(a.Email); !managed && o.Fleet != "" {
			df.problem(&df.plan.Errors, ObjectAccount, a.Email, a.Pos,
				fmt.Sprintf("the sub-account is managed by fleet %s: not adopted (a sub-account belongs to one fleet)", o.Fleet),
				fmt.Sprintf("remove it from this spec's accounts (bindings to it still work); or, to move it here, `deskfleet state forget --fleet %s %s` first", o.Fleet, a.Email))
			df.refuse(Change{Object: ObjectAccount, Name: a.Email, ID: live.AccountID, Action: ActionAdopt, Attribute: AttrAdopt,
				Reason: "managed by fleet " + o.Fleet})
			df.plan.WantAccounts = df.plan.WantAccounts[:len(df.plan.WantAccounts)-1]
			continue
		}
		if !managed {
			df.addChange(Change{Object: ObjectAccount, Name: a.Email, ID: live.AccountID, Action: ActionAdopt,
				Attribute: AttrAdopt, Reason: "found by email; managed from now on"})
		}
		if live.Name != a.Name {
			ci := df.addChange(Change{Object: ObjectAccount, Name: a.Email, ID: live.AccountID,
				Action: ActionUpdate, Attribute: AttrName, Before: live.Name, After: a.Name,
				OutOfBand: managed && recA.Name == a.Name})
			df.add(task{phase: phAccountName, key: a.Email, change: ci, account: ref, from: live.Name, label: a.Name})
		}
		if a.Remark != nil && live.Remark != *a.Remark {
			ci := df.addChange(Change{Object: ObjectAccount, Name: a.Email, ID: live.AccountID,
				Action: ActionUpdate, Attribute: AttrRemark, Before: live.Remark, After: *a.Remark,
				OutOfBand: managed && recA.Remark != nil && *recA.Remark == *a.Remark})
			df.add(task{phase: phAccountRemark, key: *a.Remark, change: ci, account: ref, remark: *a.Remark})
		}
	}
	emails := make([]string, 0, len(df.rec.Accounts))
	for e := range df.rec.Accounts {
		if !wanted[e] && df.selected(e) {
			emails = append(emails, e)
		}
	}
	sort.Strings(emails)
	for _, e := range emails {
		df.addChange(Change{Object: ObjectAccount, Name: e, ID: df.rec.Accounts[e].AccountID,
			Action: ActionForget, Attribute: AttrForget, Reason: "removed from the spec; the API cannot delete a sub-account"})
		df.problem(&df.plan.Warnings, ObjectAccount, e, nil,
			"removed from the spec: forgotten, not deleted (the API has no call to delete a sub-account)", "")
	}
}

// accountRef returns the reference to the account with this email, and the dependency on its creation
// when this plan creates it.
func (df *differ) accountRef(email string) (AccountRef, []objKey) {
	if a, ok := df.snap.AccountByEmail(email); ok {
		return AccountRef{Email: email, ID: a.AccountID}, nil
	}
	if df.newAcct[email] {
		return AccountRef{Email: email}, []objKey{accountKey(email)}
	}
	return AccountRef{Email: email}, nil
}

// match finds the live desktop a desired desktop is, and how it was found.
type match struct {
	live    provider.Desktop
	found   bool
	managed bool          // known to the state record
	rec     state.Desktop // when managed
	renamed string        // the live name when it differs from the desired one
	gone    bool          // managed, but deleted outside deskfleet (or the record is wrong: absent)
	absent  bool          // gone, and the account does not have its vmId at all (not even deleted)
	// strays are, for a gone managed desktop, the live desktops deskfleet does not manage that carry
	// its name (the spec's or the recorded one): creating it again would make a second one.
	strays []provider.Desktop
}

func (df *differ) find(dd DesiredDesktop) (match, *Problem) {
	if r, ok := df.recByName[dd.Name]; ok {
		live, ok := df.snap.Desktop(r.VmID)
		if !ok || live.Status == provider.StatusGone {
			return match{managed: true, rec: r, gone: true, absent: !ok, strays: df.strays(dd.Name, r.Name)}, nil
		}
		m := match{live: live, found: true, managed: true, rec: r}
		if live.Name != dd.Name {
			m.renamed = live.Name
		}
		return m, nil
	}
	if dd.RenamedFrom != "" {
		if r, ok := df.recByName[dd.RenamedFrom]; ok {
			if live, ok := df.snap.Desktop(r.VmID); ok && live.Status != provider.StatusGone {
				return match{live: live, found: true, managed: true, rec: r, renamed: live.Name}, nil
			}
		}
	}
	var cands []provider.Desktop
	for _, l := range df.snap.DesktopsNamed(dd.Name) {
		if _, owned := df.rec.Desktop(l.ID); owned || l.Status == provider.StatusGone {
			continue // another managed desktop's, renamed outside deskfleet; or on its way out
		}
		cands = append(cands, l)
	}
	if len(cands) == 0 && dd.RenamedFrom != "" {
		for _, l := range df.snap.DesktopsNamed(dd.RenamedFrom) {
			if _, owned := df.rec.Desktop(l.ID); !owned && l.Status != provider.StatusGone {
				cands = append(cands, l)
			}
		}
	}
	switch len(cands) {
	case 0:
		return match{}, nil
	case 1:
		m := match{live: cands[0], found: true}
		if cands[0].Name != dd.Name {
			m.renamed = cands[0].Name
		}
		return m, nil
	}
	ids := make([]string, len(cands))
	for i, c := range cands {
		ids[i] = c.ID
	}
	return match{}, &Problem{Object: ObjectDesktop, Name: dd.Name, Pos: dd.Pos.String(),
		Message: fmt.Sprintf("the name %q matches %d live desktops (%s)", cands[0].Name, len(cands), strings.Join(ids, ", ")),
		Hint:    "rename or delete the extra ones in the console, then plan again"}
}

// strays are the live desktops, not deleted, that the record does not manage and that carry one of
// these names, in snapshot order.
func (df *differ) strays(names ...string) []provider.Desktop {
	var out []provider.Desktop
	for i, n := range names {
		if slices.Contains(names[:i], n) {
			continue // the names are mostly one name thrice
		}
		for _, l := range df.snap.DesktopsNamed(n) {
			if _, owned := df.rec.Desktop(l.ID); owned || l.Status == provider.StatusGone ||
				slices.ContainsFunc(out, func(o provider.Desktop) bool { return o.ID == l.ID }) {
				continue
			}
			out = append(out, l)
		}
	}
	return out
}

// desktops plans every desired desktop: create, adopt, replace, rename, and the in-place changes.
func (df *differ) desktops() {
	// Possible duplicates are looked for once every desktop of the spec has claimed its own.
	type dupCheck struct {
		name   string
		pos    fmt.Stringer
		liveID string
		names  [3]string // the spec's, the recorded and the live name
	}
	dupChecks := make([]dupCheck, 0, len(df.d.Desktops))
	defer func() {
		for _, c := range dupChecks {
			df.duplicates(c.name, c.pos, c.liveID, c.names[:]...)
		}
	}()
	for _, dd := range df.d.Desktops {
		if !df.selected(dd.Name) {
			// Still claim it, so that it is not taken for unmanaged or deleted.
			if m, p := df.find(dd); p == nil && m.found {
				df.claimed[m.live.ID] = true
			}
			continue
		}
		m, p := df.find(dd)
		if p != nil {
			df.plan.Errors = append(df.plan.Errors, *p)
			for _, l := range df.snap.DesktopsNamed(dd.Name) {
				df.claimed[l.ID] = true
			}
			continue
		}
		if m.found && !m.managed {
			if o := df.opt.Owners.Desktop(m.live.ID); o.Fleet != "" {
				df.claimed[m.live.ID] = true
				df.problem(&df.plan.Errors, ObjectDesktop, dd.Name, dd.Pos,
					fmt.Sprintf("%s (%s) is managed by fleet %s: not adopted (a desktop belongs to one fleet)", m.live.Name, m.live.ID, o.Fleet),
					fmt.Sprintf("remove it from this spec; or, to move it here, `deskfleet state forget --fleet %s %s` first", o.Fleet, o.Name))
				df.refuse(Change{Object: ObjectDesktop, Name: dd.Name, ID: m.live.ID, Action: ActionAdopt, Attribute: AttrAdopt,
					Reason: "managed by fleet " + o.Fleet})
				continue
			}
		}
		if m.found {
			df.claimed[m.live.ID] = true
			df.existing(dd, m)
			if m.managed {
				dupChecks = append(dupChecks, dupCheck{dd.Name, dd.Pos, m.live.ID, [3]string{dd.Name, m.rec.Name, m.live.Name}})
			}
			if !df.noWant[dd.Name] {
				df.want(dd, m.live.ID)
			}
			continue
		}
		if m.gone && len(m.strays) > 0 {
			df.mismatch(dd, m)
			continue
		}
		reason := ""
		oob := false
		if m.gone {
			reason = fmt.Sprintf("deleted outside deskfleet (was %s)", short(m.rec.VmID))
			oob = true
		}
		df.createDesktop(dd, reason, oob, "")
		df.want(dd, "")
	}
}

// want records what the state will hold for a desktop once the plan is applied: the values the API
// cannot report (image, auto-renewal, protect) and those deskfleet enforces. vmID is "" for a desktop
// this plan creates (also when it replaces one); the executor fills it from the create step.
func (df *differ) want(dd DesiredDesktop, vmID string) {
	if df.replaced[dd.Name] {
		vmID = ""
	}
	w := state.Desktop{VmID: vmID, Name: dd.Name, ImageID: dd.Image.ID, AutoRenew: dd.Billing.AutoRenew,
		Protect: dd.Protect, Label: dd.Label}
	if df.d.BindingsSet {
		email := df.d.Bindings[dd.Name]
		w.Account = &email
	}
	if dd.Power != nil {
		w.Power = string(*dd.Power)
	}
	df.plan.Want = append(df.plan.Want, w)
}

// createDesktop plans a new desktop with its binding, label and power. replaced is the step key of
// the deletion it waits for ("" for none).
func (df *differ) createDesktop(dd DesiredDesktop, reason string, oob bool, replaced string) {
	ci := -1
	if replaced == "" {
		ci = df.addChange(Change{Object: ObjectDesktop, Name: dd.Name, Action: ActionCreate, Attribute: AttrCreate,
			After: describeCreate(dd), Detail: describeExtras(dd), Reason: reason, OutOfBand: oob,
			Account: df.d.Bindings[dd.Name]})
	} else {
		ci = len(df.plan.Changes) - 1 // the replace change made by the caller
	}
	var extra []objKey
	if dd.Network.Default && dd.Network.Fix != NetReady {
		extra = append(extra, networkKey(dd.Site.ID))
		df.add(task{phase: phNet, key: dd.Site.ID, change: -1, site: dd.Site, label: dd.Network.Fix.String()})
	}
	op := &CreateDesktops{Names: []string{dd.Name}, Site: dd.Site, ProductID: dd.Product.ProductID,
		Product: productLabel(dd.Product), GoodsID: dd.Product.GoodsID, Image: dd.Image, Bandwidth: dd.Bandwidth,
		Billing: dd.Billing, Network: dd.Network}
	df.add(task{phase: phCreate, key: dd.Group + "|" + createKey(op), desk: dd.Name, group: dd.Group, target: Target{Name: dd.Name},
		change: ci, create: op, extra: extra, reason: reason})
	t := Target{Name: dd.Name}
	batch := func(key string) string {
		if df.apart[dd.Name] {
			return key + "|" + dd.Name
		}
		return key
	}
	if df.d.BindingsSet {
		if email, ok := df.d.Bindings[dd.Name]; ok {
			ref, dep := df.accountRef(email)
			df.add(task{phase: phBind, key: batch(email), desk: dd.Name, target: t, change: ci, account: ref, extra: dep})
		}
	}
	if dd.Label != nil && *dd.Label != "" {
		df.add(task{phase: phLabel, key: batch(*dd.Label), desk: dd.Name, target: t, change: ci, label: *dd.Label})
	}
	if dd.Power != nil && *dd.Power == provider.PowerOff {
		df.add(task{phase: phPowerOff, desk: dd.Name, target: t, change: ci, power: provider.PowerOff})
	}
}

// existing plans the changes to a desktop that exists (managed, or adopted now).
func (df *differ) existing(dd DesiredDesktop, m match) {
	live := m.live
	t := Target{Name: dd.Name, VmID: live.ID}
	base := Change{Object: ObjectDesktop, Name: dd.Name, ID: live.ID, Account: live.AccountEmail}
	if !m.managed {
		c := base
		c.Action, c.Attribute, c.Reason = ActionAdopt, AttrAdopt, "found by name; managed from now on"
		if m.renamed != "" {
			c.Reason = fmt.Sprintf("found as %q (renamedFrom); managed from now on", m.renamed)
		}
		df.addChange(c)
	}
	switch live.Status {
	case provider.StatusFailed:
		df.failed(dd, m, base, t)
		return
	case provider.StatusExpired, provider.StatusUnknown:
		df.problem(&df.plan.Warnings, ObjectDesktop, dd.Name, dd.Pos,
			fmt.Sprintf("the desktop is in status %s (%s): changes to it may fail", live.Status, live.RawStatus),
			"check it in the console")
	}

	// Replacement: what cannot change in place.
	if why := replaceReasons(dd, live); len(why) > 0 {
		if dd.Protect || m.rec.Protect {
			df.problem(&df.plan.Errors, ObjectDesktop, dd.Name, dd.Pos,
				"protected: cannot be replaced to change "+strings.Join(why, ", "),
				"set protect: false and apply first, or put the old values back")
			c := base
			c.Action, c.Attribute = ActionReplace, AttrReplace
			c.Before, c.After = strings.Join(df.replaceBefore(dd, live), ", "), strings.Join(why, ", ")
			df.refuse(c)
			return
		}
		c := base
		c.Action, c.Attribute, c.Guard = ActionReplace, AttrReplace, GuardReplace
		c.Before, c.After = strings.Join(df.replaceBefore(dd, live), ", "), strings.Join(why, ", ")
		c.Reason = "cannot change in place: " + strings.Join(why, ", ")
		ci := df.addChange(c)
		df.add(task{phase: phDelete, key: live.ID, desk: dd.Name, target: t, change: ci, guard: GuardReplace,
			reason: "replace"})
		df.createDesktop(dd, "replace", false, live.ID)
		df.replaced[dd.Name] = true
		return
	}

	if m.renamed != "" {
		c := base
		c.Action, c.Attribute, c.Before, c.After = ActionUpdate, AttrRename, m.renamed, dd.Name
		if m.managed && m.renamed != dd.RenamedFrom {
			c.OutOfBand = true
		}
		ci := df.addChange(c)
		df.add(task{phase: phRename, key: dd.Name, desk: dd.Name, target: t, change: ci, from: m.renamed})
	}

	df.billing(dd, m, t, base)

	// What needs the desktop stopped: rebuild, unbind, re-bind.
	needStop := false
	rebuild := m.managed && m.rec.ImageID != "" && m.rec.ImageID != dd.Image.ID
	if rebuild {
		if dd.Protect || m.rec.Protect {
			df.problem(&df.plan.Errors, ObjectDesktop, dd.Name, dd.Pos,
				fmt.Sprintf("protected: cannot be rebuilt from image %s to %s", df.imageName(m.rec.ImageID), dd.Image.Name),
				"set protect: false and apply first, or put the old image back")
			rebuild = false
		} else {
			c := base
			c.Action, c.Attribute, c.Guard = ActionRebuild, AttrRebuild, GuardRebuild
			c.Before, c.After = df.imageName(m.rec.ImageID), dd.Image.Name
			c.Reason = "image changed: wipes the system disk"
			ci := df.addChange(c)
			df.add(task{phase: phRebuild, key: dd.Name, desk: dd.Name, target: t, change: ci, guard: GuardRebuild,
				image: dd.Image, from: m.rec.ImageID, label: df.imageName(m.rec.ImageID)})
			needStop = true
		}
	}

	if df.d.BindingsSet {
		want := df.d.Bindings[dd.Name]
		have := live.AccountEmail
		if want != have {
			c := base
			c.Action, c.Before, c.After = ActionUpdate, have, want
			c.OutOfBand = m.managed && m.rec.Account != nil && *m.rec.Account == want
			switch {
			case want == "":
				c.Attribute = AttrUnbind
				ci := df.addChange(c)
				df.add(task{phase: phUnbind, desk: dd.Name, target: t, change: ci})
				needStop = true
			case have == "":
				c.Attribute = AttrBind
				ci := df.addChange(c)
				ref, dep := df.accountRef(want)
				df.add(task{phase: phBind, key: want, desk: dd.Name, target: t, change: ci, account: ref, extra: dep})
			default:
				c.Attribute = AttrBind
				ci := df.addChange(c)
				ref, dep := df.accountRef(want)
				df.add(task{phase: phChange, key: dd.Name, desk: dd.Name, target: t, change: ci, account: ref,
					from: have, extra: dep})
				needStop = true
			}
		}
	}

	if dd.Label != nil && *dd.Label != live.Label {
		c := base
		c.Action, c.Attribute, c.Before, c.After = ActionUpdate, AttrLabel, live.Label, *dd.Label
		c.OutOfBand = m.managed && m.rec.Label != nil && *m.rec.Label == *dd.Label
		ci := df.addChange(c)
		df.add(task{phase: phLabel, key: *dd.Label, desk: dd.Name, target: t, change: ci, label: *dd.Label})
	}

	df.power(dd, live, t, base, m, needStop)
}

// failed plans a desktop in status error (provider.StatusFailed). Nothing else is planned for it: calls
// on it fail (BindAccounts with 13013), and batched with healthy desktops (binds, labels, power,
// billing) they would fail those too.
//   - A managed desktop deskfleet created and that never ran (createdNeverRan: its creation failed and
//     nothing deskfleet did to it succeeded since) holds no one's work: it is replaced (deleted, then
//     created again) without a flag, unless it is protected (a plan error). The new desktop's binding
//     and label are calls of their own, so that the healthy desktops' do not wait for a creation that
//     may fail again.
//   - Any other managed one (and a protected one that never ran) is Unhealthy: nothing is planned for
//     it and it is left out of Want (the record keeps what was last applied), but the plan never
//     reports such a fleet as matching the spec (Plan.InSync).
//   - An unmanaged one the spec names is adopted, with a warning; the record does not take the spec's
//     label, binding or power for it, since none is applied.
func (df *differ) failed(dd DesiredDesktop, m match, base Change, t Target) {
	live := m.live
	status := fmt.Sprintf("status %s (%s)", live.Status, live.RawStatus)
	switch {
	case !m.managed:
		df.problem(&df.plan.Warnings, ObjectDesktop, dd.Name, dd.Pos,
			fmt.Sprintf("the desktop is in %s: adopted, and nothing else is planned for it", status),
			"check it in the console; once it runs, plan again")
		// Recorded without the values the plan does not apply (label, binding, power).
		df.want(dd, live.ID)
		w := &df.plan.Want[len(df.plan.Want)-1]
		w.Label, w.Account, w.Power = nil, nil, ""
		df.noWant[dd.Name] = true
	case createdNeverRan(df.rec, live.ID) && !dd.Protect && !m.rec.Protect:
		c := base
		c.Action, c.Attribute = ActionReplace, AttrReplace
		c.Before, c.After = status, "a new desktop"
		c.Reason = "in error since deskfleet created it (the creation failed) and never ran: no flag needed"
		ci := df.addChange(c)
		df.add(task{phase: phDelete, key: live.ID, desk: dd.Name, target: t, change: ci,
			reason: "replace: its creation failed"})
		df.apart[dd.Name] = true
		df.createDesktop(dd, "replace", false, live.ID)
		df.replaced[dd.Name] = true
	case createdNeverRan(df.rec, live.ID):
		df.noWant[dd.Name] = true
		df.problem(&df.plan.Unhealthy, ObjectDesktop, dd.Name, dd.Pos,
			fmt.Sprintf("the desktop is in %s since its creation failed, and it is protected: not replaced", status),
			"set protect: false and apply to replace it, or delete it in the console (apply then creates it again)")
	default:
		df.noWant[dd.Name] = true
		df.problem(&df.plan.Unhealthy, ObjectDesktop, dd.Name, dd.Pos,
			fmt.Sprintf("the desktop %s is in %s: nothing is planned for it", live.ID, status),
			"check it in the console: once it runs, plan again; if it cannot be repaired, delete it in the console (apply then creates it again)")
	}
}

// createdNeverRan reports whether the record shows that deskfleet created the desktop and that it never
// ran: the newest CreateVm intent that returned its vmId ended failed (its creation task failed), and
// nothing deskfleet did to it succeeded since (its AppliedAt is not after that intent's end). A desktop
// adopted, created with success, or whose creation the journal no longer holds (state.MaxIntents) is
// not one. Such a desktop holds no one's work, so replacing it needs no approval.
func createdNeverRan(rec *state.Record, vmID string) bool {
	d, ok := rec.Desktop(vmID)
	if !ok || vmID == "" {
		return false
	}
	for i := len(rec.Intents) - 1; i >= 0; i-- {
		in := rec.Intents[i]
		if in.Op != string(KindCreateDesktops) || !slices.Contains(in.VmIDs, vmID) {
			continue
		}
		return in.Status == state.IntentFailed && !in.EndedAt.IsZero() && !d.AppliedAt.After(in.EndedAt)
	}
	return false
}

// mismatch plans a managed desktop that is gone while live desktops deskfleet does not manage carry
// its name (m.strays): a plan error, not a creation. When the account does not have the recorded vmId
// at all, the record is likely wrong (an id edited by hand, one hex digit off) and the stray is the
// desktop; when the recorded one was deleted, the stray may be its replacement made in the console.
// Either way creating it again would make a second desktop of that name, billed beside the first.
func (df *differ) mismatch(dd DesiredDesktop, m match) {
	ids := make([]string, len(m.strays))
	for i, l := range m.strays {
		ids[i] = l.ID
	}
	df.noWant[dd.Name] = true
	live := strings.Join(ids, ", ")
	adopt := fmt.Sprintf("deskfleet import --fleet %s --name-prefix %s --adopt", df.d.Fleet, dd.Name)
	if m.absent {
		df.refuse(Change{Object: ObjectDesktop, Name: dd.Name, ID: m.rec.VmID, Action: ActionCreate,
			Attribute: AttrRecord, Before: live, After: m.rec.VmID})
		df.problem(&df.plan.Errors, ObjectDesktop, dd.Name, dd.Pos,
			fmt.Sprintf("the state records %s as vmId %s, which the account does not have; the account has %s named %q that deskfleet does not manage: %s",
				dd.Name, m.rec.VmID, aDesktop(len(ids)), dd.Name, live),
			fmt.Sprintf("if %s is %s, adopt it: `%s` (it records every desktop whose name starts with %s, protected; the next plan forgets the stale entry); if it is another desktop, rename or delete it in the console; `deskfleet state show %s` shows the record",
				ids[0], dd.Name, adopt, dd.Name, df.d.Fleet))
		return
	}
	df.refuse(Change{Object: ObjectDesktop, Name: dd.Name, ID: m.rec.VmID, Action: ActionCreate,
		Attribute: AttrCreate, Reason: fmt.Sprintf("deleted outside deskfleet (was %s)", short(m.rec.VmID)), OutOfBand: true})
	df.problem(&df.plan.Errors, ObjectDesktop, dd.Name, dd.Pos,
		fmt.Sprintf("the managed desktop %s (%s) was deleted outside deskfleet, and the account has %s named %q that deskfleet does not manage: %s; not created again",
			dd.Name, m.rec.VmID, aDesktop(len(ids)), dd.Name, live),
		fmt.Sprintf("to manage %s as %s, adopt it: `%s` (it records every desktop whose name starts with %s, protected); to have apply create %s again, rename or delete it in the console",
			ids[0], dd.Name, adopt, dd.Name, dd.Name))
}

// aDesktop is "a desktop", or "N desktops".
func aDesktop(n int) string {
	if n == 1 {
		return "a desktop"
	}
	return fmt.Sprintf("%d desktops", n)
}

// duplicates warns of the live desktops deskfleet does not manage that carry one of names (the spec's,
// the recorded and the live name of the managed desktop liveID): a second desktop under a fleet's name,
// billed beside the first (a creation whose answer was lost, a desktop made again in the console). It
// is left alone, and never adopted in the managed one's place; the warning says how to keep or delete
// it. A desktop the spec claims under its own name is not one.
func (df *differ) duplicates(name string, pos fmt.Stringer, liveID string, names ...string) {
	var dups []string
	for _, l := range df.strays(names...) {
		if l.ID == liveID || df.claimed[l.ID] {
			continue
		}
		dups = append(dups, l.ID)
		df.problem(&df.plan.Warnings, ObjectDesktop, name, pos,
			fmt.Sprintf("possible duplicate: the live desktop %s (status %s), not managed, is named %q like the managed desktop %s",
				l.ID, l.RawStatus, l.Name, liveID),
			fmt.Sprintf("if it is a leftover, delete it in the console; to keep it, rename it in the console and add it to the spec under its new name (plan adopts it), or `deskfleet import --fleet %s --name-prefix NEW-NAME --adopt`",
				df.d.Fleet))
	}
	if len(dups) > 0 {
		df.warn(Change{Object: ObjectDesktop, Name: name, ID: liveID, Attribute: AttrDuplicate,
			Before: "also " + strings.Join(dups, ", ") + " (not managed)", After: "one desktop"})
	}
}

// power plans the power steps: a stop before the work that needs one, a start after it when the
// desktop is wanted on (or was running and its power is not managed), and the spec's own power state.
func (df *differ) power(dd DesiredDesktop, live provider.Desktop, t Target, base Change, m match, needStop bool) {
	running := live.Status == provider.StatusRunning
	stopped := live.Status == provider.StatusStopped
	if !running && !stopped {
		if needStop || dd.Power != nil {
			df.problem(&df.plan.Warnings, ObjectDesktop, dd.Name, dd.Pos,
				fmt.Sprintf("the desktop is %s (%s): its power is not planned", live.Status, live.RawStatus),
				"plan again once it has settled")
		}
		return
	}
	wantOn := running
	if dd.Power != nil {
		wantOn = *dd.Power == provider.PowerOn
	}
	liveWord, wantWord := onOff(running), onOff(wantOn)
	if needStop {
		if running {
			c := base
			c.Action, c.Attribute, c.Before, c.After = ActionUpdate, AttrPower, liveWord, "off"
			c.Reason = reasonNeedsStop
			if wantOn {
				c.After = "off, then on"
			}
			ci := df.addChange(c)
			df.add(task{phase: phPowerOff, desk: dd.Name, target: t, change: ci, power: provider.PowerOff})
			if wantOn {
				df.add(task{phase: phPowerOn, desk: dd.Name, target: t, change: ci, power: provider.PowerOn})
			}
			return
		}
		if wantOn {
			c := base
			c.Action, c.Attribute, c.Before, c.After = ActionUpdate, AttrPower, liveWord, wantWord
			ci := df.addChange(c)
			df.add(task{phase: phPowerOn, desk: dd.Name, target: t, change: ci, power: provider.PowerOn})
		}
		return
	}
	if dd.Power == nil || wantOn == running {
		return
	}
	c := base
	c.Action, c.Attribute, c.Before, c.After = ActionUpdate, AttrPower, liveWord, wantWord
	c.OutOfBand = m.managed && m.rec.Power == string(*dd.Power)
	if dd.Schedule != nil {
		c.Reason, c.OutOfBand = "schedule "+dd.Schedule.String(), false
	}
	if h := dd.Held; h != nil && df.opt.At.Before(h.Until) {
		c.Reason, c.OutOfBand = heldReason(h), false
	}
	ci := df.addChange(c)
	ph := phPowerOn
	if !wantOn {
		ph = phPowerOff
	}
	df.add(task{phase: ph, desk: dd.Name, target: t, change: ci, power: *dd.Power})
}

// days shows a duration in whole days when it is one ("7d"), else as Go does ("36h0m0s").
func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// onOff is a power state or a switch as a word.
func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// billing plans per-minute to monthly (UpdateOrder) and renewals (RenewalOrder); monthly back to
// per-minute is impossible and reported as an error for this desktop.
//
// Auto-renewal cannot be read back (QueryVm does not report it), and no call sets it alone: a
// renewal (RenewalOrder) or the switch to monthly (UpdateOrder) carries it. So a spec whose
// autoRenew differs from what deskfleet last applied to a managed monthly desktop gets a warning
// until the next renewal deskfleet makes, which sets it (and records it).
func (df *differ) billing(dd DesiredDesktop, m match, t Target, base Change) {
	live := m.live
	monthly := live.BillMethod == provider.BillMethodMonthly
	renewing := false
	switch {
	case dd.Billing.Monthly() && !monthly:
		c := base
		c.Action, c.Attribute = ActionUpdate, AttrBilling
		c.Before, c.After = "per-minute", describeBilling(dd.Billing)
		c.Reason = "one-way: the API cannot switch back"
		c.Guard = GuardPrepay
		ci := df.addChange(c)
		df.add(task{phase: phUpdateOrder, key: billingKey(dd.Billing), desk: dd.Name, target: t, change: ci,
			billing: dd.Billing, guard: GuardPrepay})
	case !dd.Billing.Monthly() && monthly:
		c := base
		c.Action, c.Attribute, c.Before, c.After = ActionUpdate, AttrBilling, "monthly", describeBilling(dd.Billing)
		df.refuse(c)
		df.problem(&df.plan.Errors, ObjectDesktop, dd.Name, dd.Pos,
			"billing: the desktop is monthly and the spec wants per-minute; the API has no way back",
			"set a monthly billing plan for it, or replace it by deleting it and creating it again")
	case dd.Billing.Monthly() && monthly && dd.Billing.RenewWithin > 0 && !live.ExpireTime.Time.IsZero():
		left := live.ExpireTime.Time.Sub(df.opt.Now)
		letExpire := !dd.Billing.LetExpireOn.IsZero() && !live.ExpireTime.Time.Before(dd.Billing.LetExpireOn)
		if left < dd.Billing.RenewWithin && !letExpire {
			c := base
			c.Action, c.Attribute = ActionUpdate, AttrRenew
			c.Before = "expires " + live.ExpireTime.Time.UTC().Format("2006-01-02")
			c.After = fmt.Sprintf("+%d month(s)", dd.Billing.Months)
			c.Reason = fmt.Sprintf("expires within renewWithin (%s)", days(dd.Billing.RenewWithin))
			c.Guard = GuardPrepay
			ci := df.addChange(c)
			df.add(task{phase: phRenew, key: billingKey(dd.Billing), desk: dd.Name, target: t, change: ci,
				billing: dd.Billing, guard: GuardPrepay})
			renewing = true
		}
	}
	if monthly && !live.ExpireTime.Time.IsZero() {
		df.expiring(dd, live.ExpireTime.Time, renewing)
	}
	if dd.Billing.Monthly() && monthly && m.managed && !renewing && m.rec.AutoRenew != dd.Billing.AutoRenew {
		hint := "give its billing plan renewWithin: the renewal deskfleet then makes sets it; until then the desktop keeps its setting"
		if dd.Billing.RenewWithin > 0 {
			hint = fmt.Sprintf("the renewal deskfleet makes within renewWithin (%s) of expiry sets it; until then the desktop keeps its setting",
				days(dd.Billing.RenewWithin))
		}
		df.problem(&df.plan.Warnings, ObjectDesktop, dd.Name, dd.Pos,
			fmt.Sprintf("auto-renewal: the spec wants %s, deskfleet last applied %s; the API sets it only with a renewal",
				onOff(dd.Billing.AutoRenew), onOff(m.rec.AutoRenew)), hint)
	}
}

// replaceReasons lists what differs that only a replacement can change.
func replaceReasons(dd DesiredDesktop, live provider.Desktop) []string {
	var why []string
	if live.SiteID != dd.Site.ID {
		why = append(why, "site "+dd.Site.Name)
	}
	if live.ProductID != dd.Product.ProductID {
		why = append(why, "product "+productLabel(dd.Product))
	}
	if dd.Bandwidth != 0 && live.BandwidthMbps != dd.Bandwidth {
		why = append(why, fmt.Sprintf("bandwidth %d Mbps", dd.Bandwidth))
	}
	if live.SiteID == dd.Site.ID && dd.Network.VpcID != "" && live.VpcID != "" && live.VpcID != dd.Network.VpcID {
		why = append(why, "network "+firstNonEmpty(dd.Network.VpcName, dd.Network.VpcID))
	}
	return why
}

func (df *differ) replaceBefore(dd DesiredDesktop, live provider.Desktop) []string {
	var was []string
	if live.SiteID != dd.Site.ID {
		was = append(was, "site "+df.siteName(live.SiteID))
	}
	if live.ProductID != dd.Product.ProductID {
		was = append(was, "product "+df.productName(live.ProductID))
	}
	if dd.Bandwidth != 0 && live.BandwidthMbps != dd.Bandwidth {
		was = append(was, fmt.Sprintf("bandwidth %d Mbps", live.BandwidthMbps))
	}
	if live.SiteID == dd.Site.ID && dd.Network.VpcID != "" && live.VpcID != "" && live.VpcID != dd.Network.VpcID {
		was = append(was, "network "+firstNonEmpty(live.VpcName, live.VpcID))
	}
	return was
}

// imageName, siteName and productName show a catalog object by name, else by its id.
func (df *differ) imageName(id string) string {
	if df.d.Catalog != nil {
		if im, ok := df.d.Catalog.ImageByID(id); ok {
			return im.ImageName
		}
	}
	return id
}

func (df *differ) siteName(id string) string {
	if df.d.Catalog != nil {
		if s, ok := df.d.Catalog.SiteByNameOrID(id); ok {
			return s.SiteName
		}
	}
	return id
}

func (df *differ) productName(id string) string {
	if df.d.Catalog != nil {
		if p, ok := df.d.Catalog.ProductByID(id); ok {
			return productLabel(p)
		}
	}
	return id
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// deletions plans the managed desktops that are no longer in the spec: deleted unless protected;
// forgotten when they are already gone.
func (df *differ) deletions() {
	wanted := map[string]bool{}
	for _, dd := range df.d.Desktops {
		wanted[dd.Name] = true
	}
	type entry struct{ id, name, vmID string }
	ids := make([]entry, 0, len(df.rec.Desktops))
	for id, r := range df.rec.Desktops {
		ids = append(ids, entry{id, r.Name, r.VmID})
	}
	slices.SortFunc(ids, func(a, b entry) int {
		return cmp.Or(strings.Compare(a.name, b.name), strings.Compare(a.vmID, b.vmID), strings.Compare(a.id, b.id))
	})
	for _, e := range ids {
		id, r := e.id, df.rec.Desktops[e.id]
		if df.claimed[id] || !df.selected(r.Name) {
			continue
		}
		if wanted[r.Name] {
			// Another entry of that name is the spec's desktop (indexRecord); this one, when the account
			// does not have it, is stale: a wrong vmId beside the desktop adopted in its place.
			if cur := df.recByName[r.Name]; cur.VmID != id && df.isLive(cur.VmID) && !df.isLive(id) {
				df.addChange(Change{Object: ObjectDesktop, Name: r.Name, ID: id, Action: ActionForget,
					Attribute: AttrForget, Reason: fmt.Sprintf("a stale entry: %s is %s", r.Name, cur.VmID)})
			}
			continue
		}
		live, ok := df.snap.Desktop(id)
		if !ok || live.Status == provider.StatusGone {
			df.addChange(Change{Object: ObjectDesktop, Name: r.Name, ID: id, Action: ActionForget,
				Attribute: AttrForget, Reason: "removed from the spec and already gone"})
			continue
		}
		df.duplicates(r.Name, nil, live.ID, r.Name, live.Name)
		if r.Protect {
			df.problem(&df.plan.Warnings, ObjectDesktop, r.Name, nil,
				"removed from the spec but protected: kept (and still managed)",
				fmt.Sprintf("to keep it and stop managing it: `deskfleet state forget --fleet %s %s` (deletes nothing); to delete it, put it back with protect: false, apply, then remove it",
					df.d.Fleet, r.Name))
			continue
		}
		ci := df.addChange(Change{Object: ObjectDesktop, Name: r.Name, ID: id, Action: ActionDelete,
			Attribute: AttrDelete, Reason: "removed from the spec", Guard: GuardDelete, Account: live.AccountEmail})
		df.add(task{phase: phDelete, key: id, desk: r.Name, target: Target{Name: r.Name, VmID: id}, change: ci,
			guard: GuardDelete, reason: "removed from the spec"})
	}
}

// unmanaged lists the live desktops neither claimed by the spec nor in the state.
func (df *differ) unmanaged() {
	for _, l := range df.snap.Desktops {
		if df.claimed[l.ID] || l.Status == provider.StatusGone {
			continue
		}
		if _, ok := df.rec.Desktop(l.ID); ok {
			continue
		}
		df.plan.Unmanaged = append(df.plan.Unmanaged, l.Name)
	}
	sort.Strings(df.plan.Unmanaged)
}

// guards adds the plan-wide guards: mass deletion and an empty spec over a non-empty state.
func (df *differ) guards() {
	managed := len(df.rec.Desktops)
	deletes := 0
	for _, c := range df.plan.Changes {
		if c.Object == ObjectDesktop && c.Action == ActionDelete {
			deletes++
		}
	}
	if len(df.d.Desktops) == 0 && managed > 0 {
		df.plan.Guards = append(df.plan.Guards, GuardFinding{Guard: GuardEmptySpec,
			Message: fmt.Sprintf("the spec has no desktops but the state manages %d: applying deletes every one", managed)})
	}
	if g, ok := massDelete(managed, deletes, df.opt.MaxDeletePercent); ok {
		df.plan.Guards = append(df.plan.Guards, g)
	}
}

// createKey is what desktops must share to be created by one CreateVm. The group is part of it: CreateVm
// names a batch after its first desktop, so batching two groups would create one group's desktops under
// the other's names and rename them after; a failed rename would then leave a desktop under a name the
// spec may later claim. Within a group that cost is accepted to grow it with one call.
func createKey(o *CreateDesktops) string {
	return fmt.Sprintf("%s|%s|%s|%d|%+v|%+v", o.Site.ID, o.ProductID, o.Image.ID, o.Bandwidth, o.Billing, o.Network)
}

func billingKey(b Billing) string {
	return fmt.Sprintf("%d|%t|%t|%t", b.Months, b.ToMonthEnd, b.FullMonthPrice, b.AutoRenew)
}

func productLabel(p provider.Product) string {
	s := strings.TrimSpace(strings.TrimPrefix(p.GPUModel, "NVIDIA ") + " " + p.OS)
	if s == "" {
		return p.ProductID
	}
	return s
}

func describeBilling(b Billing) string {
	if !b.Monthly() {
		return "per-minute"
	}
	s := fmt.Sprintf("monthly x%d", b.Months)
	if b.ToMonthEnd {
		s += ", to month end"
	}
	if b.AutoRenew {
		s += ", auto-renew"
	}
	return s
}

func describeCreate(dd DesiredDesktop) string {
	return fmt.Sprintf("%s · %s · %s · %d Mbps · %s", productLabel(dd.Product), dd.Image.Name, dd.Site.Name,
		dd.Bandwidth, describeBilling(dd.Billing))
}

func describeExtras(dd DesiredDesktop) string {
	var parts []string
	if dd.Label != nil && *dd.Label != "" {
		parts = append(parts, fmt.Sprintf("label %q", *dd.Label))
	}
	if dd.Power != nil && *dd.Power == provider.PowerOff {
		parts = append(parts, "powered off after creation")
	}
	if dd.Network.Fix != NetReady {
		parts = append(parts, "network: "+dd.Network.Fix.String()+" the default VPC of "+dd.Site.Name+" first")
	}
	return strings.Join(parts, " · ")
}

// short shortens an id for display: its first four characters and an ellipsis.
func short(id string) string {
	r := []rune(id)
	if len(r) <= 6 {
		return id
	}
	return string(r[:4]) + "…"
}

// groupIndex returns the desktop's place in its group, from its name (group, group_001, ...), and
// whether the name follows the group's naming.
func groupIndex(group, name string) (int, bool) {
	if name == group {
		return 0, true
	}
	suffix, ok := strings.CutPrefix(name, group+"_")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(suffix)
	if err != nil || n <= 0 || fmt.Sprintf("%03d", n) != suffix {
		return 0, false
	}
	return n, true
}

// reasonNeedsStop is the reason of a power change that other work needs (not the spec's power).
const reasonNeedsStop = "the change needs it stopped"

// scheduledPower returns d with the wanted power of each scheduled desktop set to the schedule's at
// the moment at (on inside its hours, off outside), and that of each desktop an override holds at
// at (before its end) set to the override's; d itself is not changed.
func scheduledPower(d *Desired, at time.Time) *Desired {
	if !slices.ContainsFunc(d.Desktops, func(dd DesiredDesktop) bool { return dd.Schedule != nil || dd.Held != nil }) {
		return d
	}
	out := *d
	out.Desktops = slices.Clone(d.Desktops)
	for i := range out.Desktops {
		dd := &out.Desktops[i]
		switch {
		case dd.Held != nil && at.Before(dd.Held.Until):
			p := provider.PowerOff
			if dd.Held.Power == spec.PowerOn {
				p = provider.PowerOn
			}
			dd.Power = &p
		case dd.Schedule != nil:
			p := provider.PowerOff
			if dd.Schedule.On(at) {
				p = provider.PowerOn
			}
			dd.Power = &p
		}
	}
	return &out
}

// heldReason says why an override holds a desktop's power: "held on until 2027-01-04 22:00 +08:00
// (render deadline)".
func heldReason(h *spec.HeldPower) string {
	r := fmt.Sprintf("held %s until %s", h.Power, h.Until.Format("2006-01-02 15:04 -07:00"))
	if h.Reason != "" {
		r += " (" + h.Reason + ")"
	}
	return r
}

// overrides lists the spec's power overrides for the plan: those that hold at the moment planned,
// and, as warnings, those that ended (to remove from the spec).
func (df *differ) overrides() {
	for _, dd := range df.d.Desktops {
		h := dd.Held
		if h == nil {
			continue
		}
		if df.opt.At.Before(h.Until) {
			df.plan.Overrides = append(df.plan.Overrides, Problem{Object: ObjectDesktop, Name: dd.Name, Pos: h.Pos.String(),
				Message: heldReason(h)})
			continue
		}
		df.problem(&df.plan.Warnings, ObjectDesktop, dd.Name, h.Pos,
			fmt.Sprintf("the override that held it %s ended at %s", h.Power, h.Until.Format("2006-01-02 15:04 -07:00")),
			"remove it from the spec's overrides")
	}
}

// ExpiringWithin is how soon a monthly desktop's term must end for the plan to list it (Plan.Expiring),
// unless its billing plan's renewWithin is longer.
const ExpiringWithin = 14 * 24 * time.Hour

// expiring lists a monthly desktop whose term ends soon, with the days left and what happens then:
// renewed by this plan, renewed by the provider (autoRenew), or left to expire.
func (df *differ) expiring(dd DesiredDesktop, ends time.Time, renewing bool) {
	window := max(ExpiringWithin, dd.Billing.RenewWithin)
	left := ends.Sub(df.opt.Now)
	if left >= window {
		return
	}
	when := fmt.Sprintf("expires %s (in %d days)", ends.Format("2006-01-02"), int(left.Hours()/24))
	if left < 0 {
		when = fmt.Sprintf("expired %s", ends.Format("2006-01-02"))
	}
	var then string
	switch {
	case renewing:
		then = fmt.Sprintf("this plan renews it for %d month(s)", dd.Billing.Months)
	case !dd.Billing.LetExpireOn.IsZero() && !ends.Before(dd.Billing.LetExpireOn):
		then = "left to expire, as letExpireOn " + dd.Billing.LetExpireOn.Format("2006-01-02") + " says"
	case dd.Billing.AutoRenew:
		then = "the provider renews it (autoRenew)"
	case dd.Billing.RenewWithin > 0:
		then = fmt.Sprintf("deskfleet renews it within %s of the end", days(dd.Billing.RenewWithin))
	default:
		then = "nothing renews it: it stops at the end of its term"
	}
	df.plan.Expiring = append(df.plan.Expiring, Problem{Object: ObjectDesktop, Name: dd.Name, Pos: dd.Pos.String(),
		Message: when + ": " + then})
}

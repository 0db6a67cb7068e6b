package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/spec"
	"github.com/deskfleet/deskfleet/state"
)

// Session is the fleet API: what every front end (the command line today; a scheduled job, an HTTP
// API or a dashboard tomorrow) calls to plan, apply, check drift, import and adopt. It owns the
// policy that keeps a fleet safe, so no front end can forget it: the lock (with the takeover of a
// stale one), settling what an earlier apply left in flight, the staleness of a saved plan, the
// guards (recomputed from the plan's own steps, whatever a plan file says) and the confirmation.
//
// A Session holds no connection of its own: the caller opens Client and Store and closes them after.
// Its methods may be called one after another; they are not meant to run concurrently on one
// Session (the lock they take is per fleet, in the store, and protects against other processes).
type Session struct {
	// Client is the API; Store the state (bbolt, PostgreSQL, memory).
	Client provider.Client
	Store  state.Store
	// Holder is who this process is, recorded with every lock it takes; each method sets Command and
	// Since. Zero fields are recorded as they are.
	Holder state.Holder
	// Parallelism bounds the reads in flight (Observe) and is the executor's default (8 when < 1).
	Parallelism int
	// Notify receives one line for a person about a decision taken on their behalf (a stale lock
	// taken over). nil: dropped.
	Notify func(msg string)
	// Calls returns the API requests sent so far, for a plan's Reads; nil counts none.
	Calls func() int
	// Now is the clock a snapshot is taken at (what schedules and expiries are judged by); nil:
	// time.Now. Tests run it on the emulator's clock.
	Now func() time.Time
}

// Spec is a spec loaded and checked offline: the fleet (with the digest of its files, which a saved
// plan records), the number of files read and the warnings found. Sources are the files the loader
// read, sorted, as it names them: every file a change to which can change the fleet (all of
// Fleet.Files, and any other file the loader opened, such as a base a spec extends).
type Spec struct {
	Fleet    *spec.Fleet
	Files    int
	Sources  []string
	Warnings spec.Diagnostics
}

// SpecError is the error of a spec with errors, found offline (LoadSpec) or against the API's names
// (Plan, Drift, Apply). Diags lists every problem, warnings included, sorted; Sources are the files
// read (as Spec.Sources), those a diagnostic names included.
type SpecError struct {
	Diags   spec.Diagnostics
	Fleet   *spec.Fleet
	Files   int
	Sources []string
}

func (e *SpecError) Error() string {
	return fmt.Sprintf("the spec has %d errors", e.Diags.Count(spec.Error))
}

// CheckSpec loads the spec at paths (the loader validates every document against the JSON Schema
// reflected from spec's types, then checks cross-references) and returns the diagnostics (sorted),
// the fleet (nil when it could not be built) and the number of files read. It reads files only.
func CheckSpec(paths []string) (spec.Diagnostics, *spec.Fleet, int) {
	diags, fl, sources := checkSpec(paths)
	return diags, fl, len(sources)
}

// checkSpec is CheckSpec with the files read (sorted) rather than their number: those the loader
// parsed, those the fleet names, and those a diagnostic names.
func checkSpec(paths []string) (spec.Diagnostics, *spec.Fleet, []string) {
	srcs, read := spec.ReadSources(paths...)
	fl, diags := spec.Finish(srcs, read)
	diags.Sort()
	files := map[string]bool{}
	for _, s := range srcs {
		files[s.File] = true
	}
	if fl != nil {
		for _, f := range fl.Files {
			files[f] = true
		}
	}
	for _, d := range diags {
		if d.Pos.File != "" {
			files[d.Pos.File] = true
		}
	}
	return diags, fl, slices.Sorted(maps.Keys(files))
}

// LoadSpec loads and checks the spec at paths (files, or folders of *.yaml and *.yml; "." when none)
// offline. A spec with errors is a *SpecError; warnings are returned in Spec.Warnings.
func LoadSpec(paths []string) (*Spec, error) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	diags, fl, sources := checkSpec(paths)
	if diags.HasErrors() {
		return nil, &SpecError{Diags: diags, Fleet: fl, Files: len(sources), Sources: sources}
	}
	return &Spec{Fleet: fl, Files: len(sources), Sources: sources, Warnings: diags}, nil
}

// PlanOptions narrow and tune a plan.
type PlanOptions struct {
	// Targets and Excludes are globs over desktop names and account emails (see Options).
	Targets, Excludes []string
	// MaxDeletePercent: deleting more than this share of the managed desktops needs Approvals.Force
	// (nil: DefaultMaxDeletePercent; negative: no limit).
	MaxDeletePercent *int
	// At is the moment whose scheduled power the plan wants (zero: now): a preview of another moment.
	At time.Time
	// Only, when OnlyPower, keeps of the plan only the power its spec and schedules want for
	// desktops that exist: a scheduled job can start and stop desktops and do nothing else.
	Only Only
	// BatchLimits bound the items of one call of each batched action (nil: DefaultBatchLimits; see
	// ParseBatchLimits); the plan records them.
	BatchLimits *BatchLimits
}

// live is the spec with what the account holds, read and resolved: what plan and drift start from.
type live struct {
	catalog     *Catalog
	snapshot    *provider.Snapshot
	desired     *Desired
	start       time.Time
	callsBefore int
	// prices is the run's pricer (pricer): the plan and the fleet's cost share its quotes.
	prices *pricer
}

// pricer is the pricer of what l read, made on first use: every price query of the run is made once.
func (l *live) pricer(c provider.Client) *pricer {
	if l.prices == nil {
		l.prices = newPricer(c, PriceInput{Products: l.catalog.Products, Snapshot: l.snapshot})
	}
	return l.prices
}

// read reads the catalog and the live desktops, sub-accounts and networks of the spec's sites, and
// resolves the spec against them. It makes no mutating call. A name the API does not know is a
// *SpecError.
func (s *Session) read(ctx context.Context, sp *Spec) (*live, error) {
	l := &live{start: time.Now(), callsBefore: s.calls()}
	fl := sp.Fleet
	cat, err := ReadCatalog(ctx, s.Client, fl)
	if err != nil {
		return nil, err
	}
	snap, err := Observe(ctx, s.Client, ObserveOptions{SiteIDs: cat.SiteIDs(fl), Parallelism: s.Parallelism, Now: s.Now})
	if err != nil {
		return nil, err
	}
	desired, diags := Resolve(fl, cat, snap)
	if diags.HasErrors() {
		return nil, &SpecError{Diags: diags, Fleet: fl, Files: sp.Files, Sources: sp.Sources}
	}
	desired.SpecDigest = sp.Fleet.Digest
	l.catalog, l.snapshot, l.desired = cat, snap, desired
	return l, nil
}

func (s *Session) calls() int {
	if s.Calls == nil {
		return 0
	}
	return s.Calls()
}

// reads is what l read, for a plan's or a drift report's header.
func (s *Session) reads(l *live) Reads {
	snap := l.snapshot
	return Reads{Desktops: len(snap.Desktops), Accounts: len(snap.Accounts), Sites: len(snap.Networks),
		Calls: s.calls() - l.callsBefore, Elapsed: time.Since(l.start), Throttle: throttleOf(s.Client)}
}

// Plan reads the live fleet and the state record (without the lock: planning changes nothing, and a
// missing state file is not created) and returns the plan with its cost. It makes no mutating call.
// A pricing failure is a warning in the plan, not an error. A --target glob that matches no desktop
// or account of the spec or the record is a *TargetError: a plan of nothing must not read as "no
// changes". The other fleets' records are read (one Read each) so that the plan does not adopt what
// another fleet manages.
func (s *Session) Plan(ctx context.Context, sp *Spec, opt PlanOptions) (*Plan, error) {
	l, rec, err := s.readWithRecord(ctx, sp)
	if err != nil {
		return nil, err
	}
	if err := checkTargets(l.desired, rec, opt.Targets); err != nil {
		return nil, err
	}
	return s.planFrom(ctx, l, rec, opt, sp), nil
}

// readWithRecord is read, then the fleet's state record (without the lock).
func (s *Session) readWithRecord(ctx context.Context, sp *Spec) (*live, *state.Record, error) {
	l, err := s.read(ctx, sp)
	if err != nil {
		return nil, nil, err
	}
	rec, err := s.Store.Read(ctx, sp.Fleet.Name)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the state of fleet %s: %w", sp.Fleet.Name, err)
	}
	return l, rec, nil
}

// planFrom diffs what l read against rec and prices the plan; the plan names sp's files and opt's
// globs, so that applying it saved can plan again the same way.
//
// A target that matches nothing (see Plan) is a plan error here, for the callers that plan to apply.
// When the other fleets' records cannot be read, the plan says so in a warning and adopts as before.
func (s *Session) planFrom(ctx context.Context, l *live, rec *state.Record, opt PlanOptions, sp *Spec) *Plan {
	p := s.diff(ctx, l, rec, opt, sp)
	cost, err := l.pricer(s.Client).price(ctx, p)
	if err != nil {
		p.Warnings = append(p.Warnings, Problem{Object: ObjectNetwork, Name: "cost",
			Message: "the plan could not be priced: " + err.Error()})
	} else {
		p.Cost = cost
	}
	p.Reads = s.reads(l)
	return p
}

// diff is the plan of what l read against rec, unpriced: Diff with the other fleets' owners, the
// targets checked. Applying a saved plan makes it again the same way to compare.
func (s *Session) diff(ctx context.Context, l *live, rec *state.Record, opt PlanOptions, sp *Spec) *Plan {
	owners, ownErr := s.owners(ctx, sp.Fleet.Name)
	p := Diff(l.desired, l.snapshot, rec, Options{Targets: opt.Targets, Excludes: opt.Excludes,
		MaxDeletePercent: opt.MaxDeletePercent, Owners: owners, At: opt.At, BatchLimits: opt.BatchLimits})
	if opt.Only == OnlyPower {
		powerOnly(p) // starts and stops only: no budget to judge, so the fleet is not priced
	} else {
		s.priceFleet(ctx, l, rec, p, sp)
	}
	p.SpecFiles, p.Targets, p.Excludes, p.BatchLimits = sp.Fleet.Files, opt.Targets, opt.Excludes, opt.BatchLimits
	var te *TargetError
	if err := checkTargets(l.desired, rec, opt.Targets); errors.As(err, &te) {
		p.Errors = append(p.Errors, Problem{Object: ObjectDesktop, Name: strings.Join(te.Unmatched, ", "),
			Message: te.Error(), Hint: te.Hint()})
	}
	if ownErr != nil {
		p.Warnings = append(p.Warnings, Problem{Object: ObjectDesktop, Name: "ownership",
			Message: "the other fleets of the state could not be read to check that none manages what this plan adopts: " + ownErr.Error()})
	}
	return p
}

// Drift reads the live fleet and the state record and reports what differs from the spec, what
// expires soon and what is in error. It makes no mutating call and takes no lock.
func (s *Session) Drift(ctx context.Context, sp *Spec, opt DriftOptions) (*DriftReport, error) {
	l, rec, err := s.readWithRecord(ctx, sp)
	if err != nil {
		return nil, err
	}
	if err := checkTargets(l.desired, rec, opt.Targets); err != nil {
		return nil, err
	}
	r := Drift(l.desired, l.snapshot, rec, opt)
	r.Reads = s.reads(l)
	return r, nil
}

// ValidateOnline resolves a valid spec's names against the API: the catalog, the networks of the
// sites in play and the sub-accounts (not the desktops). It makes no mutating call and returns
// Resolve's diagnostics; an error means the API could not be read.
func (s *Session) ValidateOnline(ctx context.Context, fl *spec.Fleet) (spec.Diagnostics, error) {
	cat, err := ReadCatalog(ctx, s.Client, fl)
	if err != nil {
		return nil, err
	}
	snap, err := Observe(ctx, s.Client, ObserveOptions{SiteIDs: cat.SiteIDs(fl), Parallelism: s.Parallelism,
		SkipDesktops: true})
	if err != nil {
		return nil, err
	}
	_, diags := Resolve(fl, cat, snap)
	return diags, nil
}

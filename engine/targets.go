package engine

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/deskfleet/deskfleet/state"
)

// TargetError is the error of a plan or drift report narrowed by --target globs of which some match
// nothing the fleet has: no desktop or account of the spec, and none of the state record. Such a
// plan would say "no changes" of a fleet it did not look at. Unmatched lists those globs, in order;
// Names counts what the fleet has (for the message).
type TargetError struct {
	Fleet     string
	Unmatched []string
	Names     []string
}

func (e *TargetError) Error() string {
	q := make([]string, len(e.Unmatched))
	for i, g := range e.Unmatched {
		q[i] = fmt.Sprintf("%q", g)
	}
	what := "matches"
	if len(q) > 1 {
		what = "match"
	}
	return fmt.Sprintf("--target %s %s no desktop or account of fleet %s (in the spec or the state)",
		strings.Join(q, ", --target "), what, e.Fleet)
}

// Hint suggests some of the names the fleet has.
func (e *TargetError) Hint() string {
	if len(e.Names) == 0 {
		return "the fleet has no desktop or account yet"
	}
	shown := e.Names
	if len(shown) > 8 {
		shown = shown[:8]
	}
	s := "desktops are matched by name and accounts by email (globs: * ? [a-z]); the fleet has " + strings.Join(shown, ", ")
	if len(e.Names) > len(shown) {
		s += fmt.Sprintf(" and %d more", len(e.Names)-len(shown))
	}
	return s
}

// targetNames are the names --target and --exclude are matched against: the spec's desktops and
// accounts and the record's, sorted and unique.
func targetNames(d *Desired, rec *state.Record) []string {
	seen := map[string]bool{}
	var out []string
	add := func(n string) {
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, dd := range d.Desktops {
		add(dd.Name)
		add(dd.RenamedFrom)
	}
	for _, a := range d.Accounts {
		add(a.Email)
	}
	if rec != nil {
		for _, r := range rec.Desktops {
			add(r.Name)
		}
		for e := range rec.Accounts {
			add(e)
		}
	}
	sort.Strings(out)
	return out
}

// checkTargets returns a *TargetError when a glob of targets matches none of the fleet's names (the
// spec's and the record's), nil otherwise. A malformed glob matches nothing.
func checkTargets(d *Desired, rec *state.Record, targets []string) error {
	if len(targets) == 0 {
		return nil
	}
	names := targetNames(d, rec)
	var unmatched []string
	for _, g := range targets {
		hit := false
		for _, n := range names {
			if ok, _ := path.Match(g, n); ok {
				hit = true
				break
			}
		}
		if !hit {
			unmatched = append(unmatched, g)
		}
	}
	if len(unmatched) == 0 {
		return nil
	}
	return &TargetError{Fleet: d.Fleet, Unmatched: unmatched, Names: names}
}

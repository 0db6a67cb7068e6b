package engine

import (
	"slices"
	"strings"
)

// keyKind says what kind of object an objKey names.
type keyKind uint8

// The kinds of keys.
const (
	// keyDesktop is a desktop of the spec, by name: what steps touch (a desktop a plan creates has no
	// id yet).
	keyDesktop keyKind = iota + 1
	// keyVM is a live desktop, by vmId: what a plan observed.
	keyVM
	// keyAccount is a sub-account, by email.
	keyAccount
	// keyNetwork is a site's networks, by site id.
	keyNetwork
)

// objKey names one object the engine reads or touches: a desktop by name (keyDesktop) or by vmId
// (keyVM), a sub-account by email, a site's networks by site id. It is comparable, so it keys maps;
// String gives its text form, the form Plan.Observed's keys take on disk (docs/plan-json.md).
type objKey struct {
	kind keyKind
	id   string
}

func desktopKey(name string) objKey  { return objKey{keyDesktop, name} }
func vmKey(vmID string) objKey       { return objKey{keyVM, vmID} }
func accountKey(email string) objKey { return objKey{keyAccount, email} }
func networkKey(siteID string) objKey {
	return objKey{keyNetwork, siteID}
}

// keyPrefixes are the text forms' prefixes. "vm:", "account:" and "net:" are those of saved plans'
// observed keys and must not change; "desktop:" never leaves the process.
var keyPrefixes = [...]string{keyDesktop: "desktop:", keyVM: "vm:", keyAccount: "account:", keyNetwork: "net:"}

// String is the key's text form: "vm:<vmId>", "account:<email>", "net:<siteId>", "desktop:<name>".
func (k objKey) String() string {
	if int(k.kind) >= len(keyPrefixes) || k.kind == 0 {
		return k.id
	}
	return keyPrefixes[k.kind] + k.id
}

// parseObjKey reads a key's text form; ok is false for a text no key has.
func parseObjKey(s string) (objKey, bool) {
	for kind, p := range keyPrefixes {
		if p == "" {
			continue
		}
		if id, ok := strings.CutPrefix(s, p); ok {
			return objKey{keyKind(kind), id}, true
		}
	}
	return objKey{}, false
}

// ObservedSites returns the ids of the sites whose networks the plan observed (the "net:" keys of
// Observed), sorted: what Observe must read again to check a saved plan for staleness.
func (p *Plan) ObservedSites() []string {
	var sites []string
	for s := range p.Observed {
		if k, ok := parseObjKey(s); ok && k.kind == keyNetwork {
			sites = append(sites, k.id)
		}
	}
	slices.Sort(sites)
	return sites
}

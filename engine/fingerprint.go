package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/deskfleet/deskfleet/provider"
)

// A fingerprint is the first 16 hex digits of the SHA-256 of a canonical encoding (a JSON array whose
// first element names the kind and the encoding's version) of the fields of an object that a plan
// decides on. Two reads of an unchanged object give the same fingerprint, in any process and on any
// machine; a change of any of those fields changes it. Fields that move without bearing on the plan
// (addresses, free-address counts, bound-desktop counts) are left out, so that unrelated activity does
// not make every saved plan stale. Changing the set of fields changes the version prefix, which makes
// plans saved by an older deskfleet stale (never wrongly fresh).

// fingerprint hashes the canonical encoding of parts: json.Marshal's. Parts that are all ints and
// strings json.Marshal leaves as they are (printable ASCII but " \ < > &) are encoded here, the same
// bytes without its reflection (a plan fingerprints every desktop); anything else by json.Marshal.
func fingerprint(parts ...any) string {
	b, ok := appendPlainJSON(make([]byte, 0, 256), parts)
	if !ok {
		var err error
		if b, err = json.Marshal(parts); err != nil {
			// Only strings, ints, bools and slices of them are passed: Marshal cannot fail.
			panic(fmt.Sprintf("engine: fingerprint: %v", err))
		}
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// appendPlainJSON appends json.Marshal(parts) to b when every part is an int or a string of printable
// ASCII without a character json.Marshal escapes; ok is false otherwise.
func appendPlainJSON(b []byte, parts []any) ([]byte, bool) {
	b = append(b, '[')
	for i, p := range parts {
		if i > 0 {
			b = append(b, ',')
		}
		switch v := p.(type) {
		case int:
			b = strconv.AppendInt(b, int64(v), 10)
		case string:
			for j := 0; j < len(v); j++ {
				if c := v[j]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
					return b, false
				}
			}
			b = append(b, '"')
			b = append(b, v...)
			b = append(b, '"')
		default:
			return b, false
		}
	}
	return append(b, ']'), true
}

// FingerprintDesktop fingerprints what a plan decides on about a desktop: id, name, site, product,
// billing method, VPC, bandwidth, bound account's email, label, end of the monthly term, and the
// normalised status (busy, running, stopped, ...; the raw value too when it is not understood).
func FingerprintDesktop(d provider.Desktop) string {
	status := d.Status.String()
	if d.Status == provider.StatusUnknown {
		status += ":" + d.RawStatus
	}
	return fingerprint("desktop/1", d.ID, d.Name, d.SiteID, d.ProductID, int(d.BillMethod), d.VpcID,
		d.BandwidthMbps, d.AccountEmail, d.Label, fpTimeKey(d.ExpireTime), status)
}

// FingerprintAccount fingerprints a sub-account: id, email, name, remark and status (creating,
// create, error). The number of desktops bound to it is left out: bindings are fingerprinted on the
// desktops.
func FingerprintAccount(a provider.SubAccount) string {
	return fingerprint("account/1", a.AccountID, a.Email, a.Name, a.Remark, string(a.Status))
}

// FingerprintNetworks fingerprints what a site offers new desktops: whether it has a default network,
// and for the default and each custom VPC its id, name and segment, and each subnet's and gateway's
// id, name, type, status and line (conf_id). Custom VPCs, subnets and gateways are sorted by id, so
// the API's order does not matter. Free and used address counts are left out.
func FingerprintNetworks(n provider.SiteNetworks) string {
	var def any // null: no default network
	if n.Default != nil {
		def = fpNetKey(*n.Default)
	}
	custom := make([][]any, 0, len(n.Custom))
	for _, c := range n.Custom {
		custom = append(custom, fpNetKey(c))
	}
	sort.Slice(custom, func(i, j int) bool { return custom[i][0].(string) < custom[j][0].(string) })
	return fingerprint("net/1", def, custom)
}

func fpNetKey(n provider.Network) []any {
	return []any{n.VpcID, n.VpcName, n.VpcSegment, fpSegKeys(n.Subnets), fpSegKeys(n.VGateways)}
}

func fpSegKeys(segs []provider.NetSegment) [][]string {
	out := make([][]string, 0, len(segs))
	for _, s := range segs {
		out = append(out, []string{s.ID, s.Name, string(s.Type), s.Status, s.ConfID})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// fpTimeKey is a TimeValue's instant when it was understood, else its raw text.
func fpTimeKey(t provider.TimeValue) string {
	if t.IsZero() {
		return "raw:" + t.Raw
	}
	return t.Time.UTC().Format(time.RFC3339Nano)
}

// Fingerprints fingerprints every object of a snapshot, keyed "vm:<vmId>", "account:<email>" (the
// email as the API spells it) and "net:<siteId>". A nil snapshot gives an empty map.
func Fingerprints(snap *provider.Snapshot) map[string]string {
	out := map[string]string{}
	if snap == nil {
		return out
	}
	for _, d := range snap.Desktops {
		out[vmKey(d.ID).String()] = FingerprintDesktop(d)
	}
	for _, a := range snap.Accounts {
		out[accountKey(a.Email).String()] = FingerprintAccount(a)
	}
	for site, n := range snap.Networks {
		out[networkKey(site).String()] = FingerprintNetworks(n)
	}
	return out
}

// Stale compares the fingerprints a plan was made from (p.Observed) with the fingerprints of a fresh
// read (now, from Fingerprints) and returns, sorted, one line per object that moved:
// "desktop render (9f3c…) changed", "desktop 88c2… appeared", "account bob@example.com vanished",
// "network at 宿迁A changed". Names come from the plan (its changes and steps); an object the plan
// does not name is shown by its shortened id. An empty result means the plan is still current.
// Stale does not decide what to do about it (apply refuses a stale plan; that is the caller's).
func Stale(p *Plan, now map[string]string) []string {
	names := fpNames(p)
	var out []string
	for k, was := range p.Observed {
		is, ok := now[k]
		switch {
		case !ok:
			out = append(out, fpDescribe(k, names)+" vanished")
		case is != was:
			out = append(out, fpDescribe(k, names)+" changed")
		}
	}
	for k := range now {
		if _, ok := p.Observed[k]; !ok {
			out = append(out, fpDescribe(k, names)+" appeared")
		}
	}
	sort.Strings(out)
	return out
}

// fpNames maps the keys of fingerprinted objects to the names the plan gives them.
func fpNames(p *Plan) map[objKey]string {
	names := map[objKey]string{}
	for _, c := range p.Changes {
		if c.ID == "" || c.Name == "" {
			continue
		}
		switch c.Object {
		case ObjectDesktop:
			names[vmKey(c.ID)] = c.Name
		case ObjectNetwork:
			names[networkKey(c.ID)] = c.Name
		}
	}
	for _, s := range p.Steps {
		if s.Op == nil {
			continue
		}
		for _, t := range s.Op.Desktops() {
			if t.VmID != "" && names[vmKey(t.VmID)] == "" {
				names[vmKey(t.VmID)] = t.Name
			}
		}
		if site := s.Op.Facts().Site; site.ID != "" && site.Name != "" {
			names[networkKey(site.ID)] = site.Name
		}
	}
	return names
}

// fpDescribe names the object of a fingerprint key for people.
func fpDescribe(s string, names map[objKey]string) string {
	k, ok := parseObjKey(s)
	if !ok {
		return "object " + strconv.Quote(s)
	}
	name := names[k]
	switch k.kind {
	case keyVM:
		if name == "" {
			return "desktop " + fpShortID(k.id)
		}
		return "desktop " + name + " (" + fpShortID(k.id) + ")"
	case keyAccount:
		return "account " + k.id
	case keyNetwork:
		if name == "" {
			return "network at site " + fpShortID(k.id)
		}
		return "network at " + name
	}
	return "object " + strconv.Quote(s)
}

// fpShortID shortens an id for display: its first four characters and "…".
func fpShortID(id string) string {
	r := []rune(id)
	if len(r) <= 4 {
		return id
	}
	return string(r[:4]) + "…"
}

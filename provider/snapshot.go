package provider

import "time"

// Snapshot is a read-only view of the live account, made by observing (QueryVms + QueryVm per id,
// QuerySubAccounts, GetDefaultNet/GetCustomNet per site, QueryExpireVms). The planner decides on it;
// nothing in it is fetched lazily.
//
// Build it with NewSnapshot (or call Reindex after filling or decoding the fields); lookups work
// without an index too, by scanning. Do not modify the fields after indexing.
type Snapshot struct {
	TakenAt  time.Time
	Desktops []Desktop
	Accounts []SubAccount
	// Networks maps a site id to its networks.
	Networks map[string]SiteNetworks
	Expiring []ExpiringDesktop

	idx *snapshotIndex
}

// SiteNetworks is what one site offers for new desktops.
type SiteNetworks struct {
	Default *Network // nil: no default network (CreateDefaultNet needed)
	Custom  []Network
}

type snapshotIndex struct {
	byID          map[string]int
	byName        map[string][]int
	accountByID   map[string]int
	accountByMail map[string]int
}

// NewSnapshot returns a snapshot of the given data, indexed for lookups.
func NewSnapshot(takenAt time.Time, desktops []Desktop, accounts []SubAccount,
	networks map[string]SiteNetworks, expiring []ExpiringDesktop) *Snapshot {
	s := &Snapshot{TakenAt: takenAt, Desktops: desktops, Accounts: accounts, Networks: networks, Expiring: expiring}
	s.Reindex()
	return s
}

// Reindex rebuilds the lookup index from the exported fields.
func (s *Snapshot) Reindex() {
	ix := &snapshotIndex{
		byID:          make(map[string]int, len(s.Desktops)),
		byName:        make(map[string][]int, len(s.Desktops)),
		accountByID:   make(map[string]int, len(s.Accounts)),
		accountByMail: make(map[string]int, len(s.Accounts)),
	}
	for i, d := range s.Desktops {
		ix.byID[d.ID] = i
		ix.byName[d.Name] = append(ix.byName[d.Name], i)
	}
	for i, a := range s.Accounts {
		ix.accountByID[a.AccountID] = i
		ix.accountByMail[a.Email] = i
	}
	s.idx = ix
}

// Desktop returns the desktop with this id.
func (s *Snapshot) Desktop(id string) (Desktop, bool) {
	if s.idx != nil {
		i, ok := s.idx.byID[id]
		if !ok {
			return Desktop{}, false
		}
		return s.Desktops[i], true
	}
	for _, d := range s.Desktops {
		if d.ID == id {
			return d, true
		}
	}
	return Desktop{}, false
}

// DesktopsNamed returns every desktop with this name, in snapshot order: names may collide.
func (s *Snapshot) DesktopsNamed(name string) []Desktop {
	var out []Desktop
	if s.idx != nil {
		for _, i := range s.idx.byName[name] {
			out = append(out, s.Desktops[i])
		}
		return out
	}
	for _, d := range s.Desktops {
		if d.Name == name {
			out = append(out, d)
		}
	}
	return out
}

// Account returns the sub-account with this id.
func (s *Snapshot) Account(id string) (SubAccount, bool) {
	if s.idx != nil {
		i, ok := s.idx.accountByID[id]
		if !ok {
			return SubAccount{}, false
		}
		return s.Accounts[i], true
	}
	for _, a := range s.Accounts {
		if a.AccountID == id {
			return a, true
		}
	}
	return SubAccount{}, false
}

// AccountByEmail returns the sub-account with this email (the API's key for renames and remarks).
func (s *Snapshot) AccountByEmail(email string) (SubAccount, bool) {
	if s.idx != nil {
		i, ok := s.idx.accountByMail[email]
		if !ok {
			return SubAccount{}, false
		}
		return s.Accounts[i], true
	}
	for _, a := range s.Accounts {
		if a.Email == email {
			return a, true
		}
	}
	return SubAccount{}, false
}

// ExpiringNamed returns the QueryExpireVms entries with this desktop name.
func (s *Snapshot) ExpiringNamed(name string) []ExpiringDesktop {
	var out []ExpiringDesktop
	for _, e := range s.Expiring {
		if e.Name == name {
			out = append(out, e)
		}
	}
	return out
}

// SiteNetworks returns the networks observed at a site.
func (s *Snapshot) SiteNetworks(siteID string) (SiteNetworks, bool) {
	n, ok := s.Networks[siteID]
	return n, ok
}

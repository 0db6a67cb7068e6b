package provider

import (
	"sync"
	"time"
)

// Snapshot is a read-only view of the live account, made by observing (QueryVms + QueryVm per id,
// QuerySubAccounts, GetDefaultNet/GetCustomNet per site, QueryExpireVms). The planner decides on it;
// nothing in it is fetched lazily.
//
// A Snapshot may be built with NewSnapshot or by filling (or decoding) the fields; the lookup index is
// built on the first lookup, so the fields must not change after it. Lookups are safe for concurrent
// use. Pass a Snapshot by pointer.
type Snapshot struct {
	TakenAt  time.Time
	Desktops []Desktop
	Accounts []SubAccount
	// Networks maps a site id to its networks.
	Networks map[string]SiteNetworks
	Expiring []ExpiringDesktop

	once sync.Once
	idx  snapshotIndex
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

// NewSnapshot returns a snapshot of the given data.
func NewSnapshot(takenAt time.Time, desktops []Desktop, accounts []SubAccount,
	networks map[string]SiteNetworks, expiring []ExpiringDesktop) *Snapshot {
	return &Snapshot{TakenAt: takenAt, Desktops: desktops, Accounts: accounts, Networks: networks, Expiring: expiring}
}

// index returns the lookup index, building it from the fields on first use.
func (s *Snapshot) index() *snapshotIndex {
	s.once.Do(func() {
		s.idx = snapshotIndex{
			byID:          make(map[string]int, len(s.Desktops)),
			byName:        make(map[string][]int, len(s.Desktops)),
			accountByID:   make(map[string]int, len(s.Accounts)),
			accountByMail: make(map[string]int, len(s.Accounts)),
		}
		for i, d := range s.Desktops {
			s.idx.byID[d.ID] = i
			s.idx.byName[d.Name] = append(s.idx.byName[d.Name], i)
		}
		for i, a := range s.Accounts {
			s.idx.accountByID[a.AccountID] = i
			s.idx.accountByMail[a.Email] = i
		}
	})
	return &s.idx
}

// Desktop returns the desktop with this id.
func (s *Snapshot) Desktop(id string) (Desktop, bool) {
	i, ok := s.index().byID[id]
	if !ok {
		return Desktop{}, false
	}
	return s.Desktops[i], true
}

// DesktopsNamed returns every desktop with this name, in snapshot order: names may collide.
func (s *Snapshot) DesktopsNamed(name string) []Desktop {
	idx := s.index().byName[name]
	if len(idx) == 0 {
		return nil
	}
	out := make([]Desktop, len(idx))
	for k, i := range idx {
		out[k] = s.Desktops[i]
	}
	return out
}

// Account returns the sub-account with this id.
func (s *Snapshot) Account(id string) (SubAccount, bool) {
	i, ok := s.index().accountByID[id]
	if !ok {
		return SubAccount{}, false
	}
	return s.Accounts[i], true
}

// AccountByEmail returns the sub-account with this email (the API's key for renames and remarks).
func (s *Snapshot) AccountByEmail(email string) (SubAccount, bool) {
	i, ok := s.index().accountByMail[email]
	if !ok {
		return SubAccount{}, false
	}
	return s.Accounts[i], true
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

// Package state holds what deskfleet remembers between runs: the desktops and sub-accounts it manages
// (with the values it last applied, which the API cannot always tell back), and, once apply exists, the
// lock, pending intents and the apply journal.
//
// This file defines the Record the planner reads. The Store that persists it (bbolt, in memory) is
// built with `deskfleet apply`; until then a plan is made against an empty Record, so every live
// desktop that the spec names is adopted and nothing is deleted.
package state

import "time"

// Record is one fleet's state: what deskfleet manages. The zero value (or nil) is an empty record.
type Record struct {
	// Fleet is the fleet's name (the spec's `fleet`).
	Fleet string `json:"fleet"`
	// Serial increases by one with every committed change; a saved plan records it to detect staleness.
	Serial int64 `json:"serial"`
	// Desktops are the managed desktops, by vmId.
	Desktops map[string]Desktop `json:"desktops,omitempty"`
	// Accounts are the managed sub-accounts, by email.
	Accounts map[string]Account `json:"accounts,omitempty"`
}

// Desktop is a managed desktop and the values deskfleet last applied to it.
type Desktop struct {
	// VmID is the desktop's id; Name the name it was last given (its identity in the spec).
	VmID string `json:"vmId"`
	Name string `json:"name"`
	// ImageID is the image it was created or rebuilt from: QueryVm does not report it.
	ImageID string `json:"imageId,omitempty"`
	// AutoRenew is the auto-renewal last requested: QueryVm does not report it.
	AutoRenew bool `json:"autoRenew,omitempty"`
	// Protect is the protect flag last applied: a protected desktop is never deleted, replaced or
	// rebuilt, even after its spec entry is removed.
	Protect bool `json:"protect,omitempty"`
	// Label and Account are the label and bound account email last applied (nil: not managed), so a
	// live value that differs can be reported as changed outside deskfleet.
	Label   *string `json:"label,omitempty"`
	Account *string `json:"account,omitempty"`
	// Power is the power state last enforced ("on", "off"), "" when not enforced.
	Power string `json:"power,omitempty"`
	// AppliedAt is when deskfleet last changed or adopted it.
	AppliedAt time.Time `json:"appliedAt"`
}

// Account is a managed sub-account.
type Account struct {
	Email     string `json:"email"`
	AccountID string `json:"accountId"`
	// Name and Remark last applied (Remark nil: not managed).
	Name   string  `json:"name,omitempty"`
	Remark *string `json:"remark,omitempty"`
}

// Desktop returns the managed desktop with this id.
func (r *Record) Desktop(vmID string) (Desktop, bool) {
	if r == nil {
		return Desktop{}, false
	}
	d, ok := r.Desktops[vmID]
	return d, ok
}

// Account returns the managed account with this email.
func (r *Record) Account(email string) (Account, bool) {
	if r == nil {
		return Account{}, false
	}
	a, ok := r.Accounts[email]
	return a, ok
}

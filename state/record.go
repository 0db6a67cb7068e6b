// Package state holds what deskfleet remembers between runs: the desktops and sub-accounts it manages
// (with the values it last applied, which the API cannot always tell back), and, once apply exists, the
// lock, pending intents and the apply journal.
//
// This file defines the Record the planner reads; store.go the Store that persists it (state/bolt,
// state/memory). A fleet with no record reads as an empty Record: every live desktop that the spec
// names is adopted and nothing is deleted.
package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

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
	// Intents are the mutating calls of applies, oldest first; open ones (pending, sent) are settled
	// by the next apply before anything else. Closed ones are kept for the journal (trimmed to the
	// newest MaxIntents).
	Intents []Intent `json:"intents,omitempty"`
	// Runs is the apply journal, oldest first (trimmed to the newest MaxRuns).
	Runs []Run `json:"runs,omitempty"`

	// tr notes the changes made through the methods while a store's Update runs (track.go); idx
	// finds objects by key and orders intents and runs in a store.
	tr  *tracker
	idx *index
}

// Journal limits: the record keeps the newest entries only.
const (
	MaxRuns    = 200
	MaxIntents = 5000
)

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

// Intent is one mutating call of an apply, recorded before the call is made (rule 4: intent before
// side effect) and completed as it goes. A run that crashed leaves intents not Done: the next apply
// settles them first, never by repeating a call whose outcome is unknown.
type Intent struct {
	// ID is unique within the record ("<runID>/<step>").
	ID    string `json:"id"`
	RunID string `json:"runId"`
	Step  int    `json:"step"`
	// Op is the plan step's op kind and Action its API action.
	Op     string `json:"op"`
	Action string `json:"action"`
	// RequestID is the requestId the call carries (set before the call).
	RequestID string `json:"requestId"`
	// Targets are the desktop names (or account emails) the call touches; VmIDs their ids where known
	// (for a create, the ids the response returned).
	Targets []string `json:"targets"`
	VmIDs   []string `json:"vmIds,omitempty"`
	// TaskID is the task the call returned, for asynchronous actions.
	TaskID string `json:"taskId,omitempty"`
	// Params is the step's op as JSON, so that a later run can settle the intent without the plan.
	Params []byte `json:"params,omitempty"`
	// Status: pending (recorded, call maybe sent), sent (response received), then done or failed.
	Status    IntentStatus `json:"status"`
	Error     string       `json:"error,omitempty"`
	StartedAt time.Time    `json:"startedAt"`
	EndedAt   time.Time    `json:"endedAt,omitempty"`
}

// IntentStatus is where an intent stands.
type IntentStatus string

const (
	IntentPending IntentStatus = "pending" // recorded before the call: it may or may not have reached the API
	IntentSent    IntentStatus = "sent"    // the API answered (task id and vmIds recorded): only its task is awaited
	IntentDone    IntentStatus = "done"
	IntentFailed  IntentStatus = "failed"
)

// Open reports whether the intent still needs settling.
func (i Intent) Open() bool { return i.Status == IntentPending || i.Status == IntentSent }

// Run is one apply in the journal.
type Run struct {
	ID        string    `json:"id"`
	User      string    `json:"user"`
	Host      string    `json:"host"`
	Command   string    `json:"command"`
	StartedAt time.Time `json:"startedAt"`
	EndedAt   time.Time `json:"endedAt,omitempty"`
	// SpecDigest is the plan's; GitCommit the commit of the spec's Git work tree ("" outside one).
	SpecDigest string `json:"specDigest"`
	GitCommit  string `json:"gitCommit,omitempty"`
	// Outcome: running, done, partial, failed, interrupted (stopped on purpose: Ctrl-C, SIGTERM), or
	// abandoned (its process ended without recording an end: killed, crashed, its runner gone; set by
	// the next apply, which holds the lock, so the run cannot still be going).
	Outcome string `json:"outcome"`
	// Steps are the outcome of each step of the plan, by step id.
	Steps []StepOutcome `json:"steps,omitempty"`
}

// StepOutcome is how one step of a run ended.
type StepOutcome struct {
	Step    int    `json:"step"`
	Action  string `json:"action"`
	Targets string `json:"targets"` // for display
	// Status: done, failed, skipped (a dependency failed), partial (some items failed).
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// Record checksums. A stored record carries a SHA-256 of its own JSON so that a store can tell a
// damaged record from a good one (CorruptError) instead of reading garbage as state. SealRecord's
// encoding puts the checksum first, as an extra JSON member ({"checksum":"sha256:HEX",...}), covering
// the record's JSON without that member: an older deskfleet reading it ignores the member, and a
// record an older deskfleet wrote (no checksum) is accepted as it is.

// checksumPrefix starts a sealed record.
const checksumPrefix = `{"checksum":"sha256:`

// SealRecord encodes rec as JSON with its checksum (see above).
func SealRecord(rec *Record) ([]byte, error) { return Seal(rec) }

// Seal encodes v (a value that encodes as a JSON object: a Record, or one object of it) as JSON with
// its checksum, as SealRecord does; Unseal decodes it. Stores that keep one value per object seal
// each.
func Seal(v any) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return sealJSON(body), nil
}

func sealJSON(body []byte) []byte {
	sum := sha256.Sum256(body)
	out := make([]byte, 0, len(body)+len(checksumPrefix)+66)
	out = append(out, checksumPrefix...)
	out = hex.AppendEncode(out, sum[:])
	out = append(out, '"')
	if len(body) > 2 { // body is an object: "{...}"
		out = append(out, ',')
		out = append(out, body[1:]...)
	} else {
		out = append(out, '}')
	}
	return out
}

// UnsealRecord decodes a record SealRecord encoded, failing with ErrChecksum when its checksum does
// not match, or one without a checksum (written by an older deskfleet). verified reports whether
// there was a checksum.
func UnsealRecord(data []byte, rec *Record) (verified bool, err error) {
	verified, err = Unseal(data, rec)
	if err != nil && !errors.Is(err, ErrChecksum) {
		return verified, fmt.Errorf("decoding the record: %w", err)
	}
	return verified, err
}

// Unseal decodes into v a value Seal encoded (see UnsealRecord).
func Unseal(data []byte, v any) (verified bool, err error) {
	if s := string(data); strings.HasPrefix(s, checksumPrefix) {
		rest := s[len(checksumPrefix):]
		if len(rest) < 65 || rest[64] != '"' {
			return false, ErrChecksum
		}
		want, err := hex.DecodeString(rest[:64])
		if err != nil {
			return false, ErrChecksum
		}
		body := rest[65:]
		switch {
		case strings.HasPrefix(body, ","):
			body = "{" + body[1:]
		case body == "}":
			body = "{}"
		default:
			return false, ErrChecksum
		}
		if sum := sha256.Sum256([]byte(body)); !bytes.Equal(sum[:], want) {
			return false, ErrChecksum
		}
		verified = true
	}
	if err := json.Unmarshal(data, v); err != nil {
		return verified, err
	}
	return verified, nil
}

// ErrChecksum is UnsealRecord's error for a record whose checksum does not match its content.
var ErrChecksum = errors.New("its checksum does not match its content")

// Equal reports whether d and o hold the same values (Label and Account compared by what they point
// to, AppliedAt as an instant).
func (d Desktop) Equal(o Desktop) bool {
	return d.VmID == o.VmID && d.Name == o.Name && d.ImageID == o.ImageID && d.AutoRenew == o.AutoRenew &&
		d.Protect == o.Protect && sameString(d.Label, o.Label) && sameString(d.Account, o.Account) &&
		d.Power == o.Power && d.AppliedAt.Equal(o.AppliedAt)
}

// Equal reports whether a and o hold the same values (Remark compared by what it points to).
func (a Account) Equal(o Account) bool {
	return a.Email == o.Email && a.AccountID == o.AccountID && a.Name == o.Name && sameString(a.Remark, o.Remark)
}

func sameString(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

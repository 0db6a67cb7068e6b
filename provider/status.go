package provider

// Status is the normalised state of a desktop: the small vocabulary the planner decides on.
// The raw API value is kept beside it (Desktop.RawStatus) for display and diagnosis.
type Status int

const (
	// StatusUnknown is any raw value this package does not know: the planner must not act on it.
	StatusUnknown Status = iota
	// StatusRunning: powered on and usable ("using").
	StatusRunning
	// StatusStopped: powered off and usable ("stop"); rebuild, unbind and re-bind need it.
	StatusStopped
	// StatusBusy: a transition is in progress (configuring, starting, stopping, rebooting, migrating,
	// deleting on request); wait and observe again before acting.
	StatusBusy
	// StatusFailed: the platform reports an error; needs a human or a replace.
	StatusFailed
	// StatusExpired: shut down, or being shut down, for arrears (per-minute) or the end of a monthly term.
	// The "...Expiring" raw values mean "shutting down because expired" (欠费关机中 / 到期关机中), not
	// "expiring soon": desktops expiring soon are reported by QueryExpireVms while still "using".
	StatusExpired
	// StatusGone: deleted, or being reclaimed by the platform for good; treat the desktop as absent.
	StatusGone
)

var statusNames = [...]string{"unknown", "running", "stopped", "busy", "failed", "expired", "gone"}

// String returns the lower-case name of the status ("running", "stopped", ...).
func (s Status) String() string {
	if s < 0 || int(s) >= len(statusNames) {
		return "unknown"
	}
	return statusNames[s]
}

// Raw desktop status values as the API spells them (the misspellings are the API's own).
const (
	RawConfiguring     = "configuring"
	RawRebooting       = "rebooting"
	RawStarting        = "starting"
	RawUsing           = "using"
	RawStoping         = "stoping"
	RawStop            = "stop"
	RawDeleteing       = "deleteing"
	RawDeleted         = "deleted"
	RawDataMoving      = "dataMoving"
	RawError           = "error"
	RawAsNeedExpiring  = "asNeedExpiring"
	RawAsNeedExpired   = "asNeedExpired"
	RawAsMonthExpiring = "asMonthExpiring"
	RawAsMonthExpired  = "asMonthExpired"
	RawLogicalDeleted  = "logicalDeleted"
	RawDestroying      = "destroying"
	RawDestroy         = "destroy"
	RawInvisibleError  = "invisibleError"
)

var rawStatuses = map[string]Status{
	RawUsing:           StatusRunning,
	RawStop:            StatusStopped,
	RawConfiguring:     StatusBusy,
	RawRebooting:       StatusBusy,
	RawStarting:        StatusBusy,
	RawStoping:         StatusBusy,
	RawDataMoving:      StatusBusy,
	RawDeleteing:       StatusBusy,
	RawError:           StatusFailed,
	RawInvisibleError:  StatusFailed,
	RawAsNeedExpiring:  StatusExpired,
	RawAsNeedExpired:   StatusExpired,
	RawAsMonthExpiring: StatusExpired,
	RawAsMonthExpired:  StatusExpired,
	RawDeleted:         StatusGone,
	RawLogicalDeleted:  StatusGone,
	RawDestroying:      StatusGone,
	RawDestroy:         StatusGone,
}

// NormalizeStatus maps a raw desktop status to Status. The match is exact (the API's spelling);
// anything else, the empty string included, is StatusUnknown.
func NormalizeStatus(raw string) Status {
	if s, ok := rawStatuses[raw]; ok {
		return s
	}
	return StatusUnknown
}

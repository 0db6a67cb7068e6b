package provider

import "time"

// TimeValue is a timestamp as the API sent it, with its parsed value when the format was recognised.
// Time is the zero time when Raw is empty or not understood; Raw is always kept.
type TimeValue struct {
	Time time.Time
	Raw  string
}

// IsZero reports whether no time was given or it could not be parsed.
func (t TimeValue) IsZero() bool { return t.Time.IsZero() }

//go:build !unix

package state

// ProcessGone reports whether h's process is known to have ended. On this platform it cannot tell,
// and returns false: locks are never reported stale.
func (h Holder) ProcessGone() bool { return false }

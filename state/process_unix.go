//go:build unix

package state

import (
	"errors"
	"os"
	"sync"
	"syscall"
)

var hostname = sync.OnceValue(func() string {
	h, _ := os.Hostname()
	return h
})

// ProcessGone reports whether h's process is known to have ended: h.Host is this machine's host name
// and no process has h.PID (kill(pid, 0) fails with ESRCH). A holder on another host, or whose pid is
// running (even if the pid was reused), is not known to be gone: ProcessGone returns false. It is what
// stores report as LockedError.Stale.
func (h Holder) ProcessGone() bool {
	if h.PID <= 0 || h.Host == "" || h.Host != hostname() {
		return false
	}
	return errors.Is(syscall.Kill(h.PID, 0), syscall.ESRCH)
}

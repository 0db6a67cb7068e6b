//go:build unix && !linux

package pgtest

import "syscall"

// setDeathSignal does nothing: only Linux has a parent-death signal. A server whose test binary died
// is stopped by hand (pg_ctl stop -D <folder>/data); the next run removes its folder once it is.
func setDeathSignal(*syscall.SysProcAttr) {}

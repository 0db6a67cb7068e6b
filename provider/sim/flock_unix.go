//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package sim

import (
	"errors"
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock (flock LOCK_EX) on f, waiting as long as another open
// file description holds it, in this process or another. The kernel releases the lock when the
// holder closes the file or dies, so a process killed with SIGKILL never leaves it held.
func lockFile(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// unlockFile releases the lock taken by lockFile.
func unlockFile(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }

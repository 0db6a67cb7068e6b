//go:build unix

package pgtest

import (
	"errors"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

type credential = syscall.Credential

// serverUser returns the credential to run the server programs with: nil when not root, else the
// postgres system user's, or nobody's.
func serverUser() (*credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		return &credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
	}
	return nil, errors.New("running as root, and initdb refuses root: found neither a postgres nor a nobody user to run the server as")
}

// sysProcAttr runs a server program as cred (nil: this process's user), ended with the test binary
// where the system allows it.
func sysProcAttr(cred *credential) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Credential: cred}
	setDeathSignal(attr)
	return attr
}

// chown gives dir and everything in it to cred's user.
func chown(dir string, cred *credential) error {
	return filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(cred.Uid), int(cred.Gid))
	})
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

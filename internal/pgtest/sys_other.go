//go:build !unix

package pgtest

import (
	"os"
	"syscall"
)

// credential is unused off unix: the server runs as this process's user.
type credential struct{}

func serverUser() (*credential, error)             { return nil, nil }
func sysProcAttr(*credential) *syscall.SysProcAttr { return nil }
func chown(string, *credential) error              { return nil }

func processAlive(pid int) bool {
	_, err := os.FindProcess(pid)
	return err == nil
}

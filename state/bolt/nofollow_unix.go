//go:build unix

package bolt

import (
	"errors"
	"os"
	"syscall"
)

// errIsLink is openNoFollow's error when path is a symbolic link.
var errIsLink = errors.New("the path is a symbolic link")

// openNoFollow opens path read-only without following a symbolic link.
func openNoFollow(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, errIsLink
	}
	return f, err
}

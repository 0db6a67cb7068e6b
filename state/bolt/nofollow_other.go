//go:build !unix

package bolt

import (
	"errors"
	"os"
)

// errIsLink is openNoFollow's error when path is a symbolic link.
var errIsLink = errors.New("the path is a symbolic link")

// openNoFollow opens path read-only, refusing a symbolic link (checked just before: this system has
// no O_NOFOLLOW).
func openNoFollow(path string) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return nil, errIsLink
	}
	return os.Open(path)
}

package render

import (
	"path/filepath"
	"testing"

	"github.com/deskfleet/deskfleet/internal/golden"
)

// goldenFile compares got with testdata/NAME.golden (go test -update rewrites it).
func goldenFile(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name+".golden"), got)
}

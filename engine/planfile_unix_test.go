//go:build unix

package engine_test

import (
	"path/filepath"
	"syscall"
	"testing"

	"github.com/deskfleet/deskfleet/engine"
)

// TestSavePlanUmask: a permissive umask (0) does not make the plan file readable by others. The umask
// is process-wide: this test does not run in parallel and restores it.
func TestSavePlanUmask(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "p.json")
	if err := engine.SavePlan(path, pfPlan()); err != nil {
		t.Fatal(err)
	}
	if m := pfMode(t, path); m != 0o600 {
		t.Errorf("with umask 0 the plan file is %v, want 0600", m)
	}
}

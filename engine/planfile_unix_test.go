//go:build unix

package engine_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

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

// TestLoadPlanEndlessInput: a device or a pipe that never ends (apply /dev/zero) is read up to the
// plan file limit and refused, instead of being read until memory runs out.
func TestLoadPlanEndlessInput(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "plan.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() { // a writer that never stops
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer f.Close()
		chunk := []byte(strings.Repeat(" ", 1<<16))
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := f.Write(chunk); err != nil {
				return
			}
		}
	}()
	cases := []struct{ name, reason, path string }{
		{"dev zero", "a device with no end and no size", "/dev/zero"},
		{"fifo", "a pipe whose writer never stops", fifo},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				_, err := engine.LoadPlan(tc.path)
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "larger than 16 MiB") || !strings.Contains(err.Error(), tc.path) {
					t.Errorf("%s: error %v, want one naming the file and the 16 MiB limit", tc.reason, err)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("%s: LoadPlan still reading after 30 s", tc.reason)
			}
		})
	}
}

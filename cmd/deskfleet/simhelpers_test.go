package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/deskfleet/deskfleet/provider/sim"
)

// simConsole opens the emulated cloud of `--endpoint sim` in dir (its data file is shared safely by
// processes) to look at it or change it "in the console", outside deskfleet.
func simConsole(t *testing.T, dir string, change func(s *sim.Sim)) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, ".deskfleet"), 0o700); err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(sim.Options{DataFile: filepath.Join(dir, ".deskfleet", "sim.db")})
	if err != nil {
		t.Fatal(err)
	}
	change(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

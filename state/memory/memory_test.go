package memory_test

import (
	"testing"

	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/memory"
	"github.com/deskfleet/deskfleet/state/statetest"
)

func TestConformance(t *testing.T) {
	statetest.Run(t, func(*testing.T) state.Store { return memory.New() })
}

package stores

import (
	"errors"
	"path/filepath"

	"github.com/deskfleet/deskfleet/state"
)

// DefaultLocation is where the state lives unless --state (DESKFLEET_STATE) says otherwise: a bbolt
// file relative to the working directory, next to the spec, like the emulator's .deskfleet/sim.db.
var DefaultLocation = filepath.Join(".deskfleet", "state.db")

// RestoreHint is what to do about damaged state (a *state.CorruptError in err's chain): the
// `deskfleet state restore` command line that puts back its previous generation (with --state unless
// the store is DefaultLocation, and the fleet when one record is damaged), or, when no previous
// generation is kept, how else to recover. It is "" for any other error.
func RestoreHint(err error) string {
	var ce *state.CorruptError
	if !errors.As(err, &ce) {
		return ""
	}
	if !ce.Restorable {
		return "no previous generation is kept to restore: put back a backup of the state, or move it aside " +
			"and apply again (desktops the spec names are adopted)"
	}
	cmd := "deskfleet state restore"
	if ce.Store != DefaultLocation {
		cmd += " --state " + ce.Store
	}
	if ce.Fleet != "" {
		cmd += " " + ce.Fleet
	}
	return "`" + cmd + "` puts back its previous generation (what the last run recorded is lost); then plan again"
}

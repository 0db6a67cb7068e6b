package stores

import (
	"errors"
	"fmt"
	"testing"

	"github.com/deskfleet/deskfleet/state"
)

func TestRestoreHint(t *testing.T) {
	cases := []struct {
		reason string
		err    error
		want   string
	}{
		{"not damaged state: no hint", errors.New("disk full"), ""},
		{"the default file, damaged whole: no --state", &state.CorruptError{Store: DefaultLocation, Restorable: true},
			"`deskfleet state restore` puts back its previous generation (what the last run recorded is lost); then plan again"},
		{"another store and one fleet's record, wrapped", fmt.Errorf("apply: %w", &state.CorruptError{Store: "team.db", Fleet: "design", Restorable: true}),
			"`deskfleet state restore --state team.db design` puts back its previous generation (what the last run recorded is lost); then plan again"},
		{"nothing kept to restore", &state.CorruptError{Store: DefaultLocation},
			"no previous generation is kept to restore: put back a backup of the state, or move it aside and apply again (desktops the spec names are adopted)"},
	}
	for _, c := range cases {
		if got := RestoreHint(c.err); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.reason, got, c.want)
		}
	}
}

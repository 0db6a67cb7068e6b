package render

import (
	"fmt"
	"io"

	"github.com/deskfleet/deskfleet/engine"
)

// Claimed writes that `deskfleet lock` claimed fleet for got's pull request: fresh (a new claim) or
// one it already held and refreshed.
func Claimed(w io.Writer, fleet string, got *engine.Claim, fresh bool) error {
	verb := "stays claimed by"
	if fresh {
		verb = "is claimed by"
	}
	_, err := fmt.Fprintf(w, "fleet %s %s %s until it merges or closes\n", fleet, verb, got.PR)
	return err
}

// Released writes what `deskfleet unlock` ended: the claim ended (nil: none), of pull request pr
// (0: whichever, --force).
func Released(w io.Writer, fleet string, pr int, ended *engine.Claim) error {
	var err error
	switch {
	case ended == nil && pr > 0:
		_, err = fmt.Fprintf(w, "fleet %s is not claimed by pull request #%d: nothing to end\n", fleet, pr)
	case ended == nil:
		_, err = fmt.Fprintf(w, "fleet %s is not claimed: nothing to end\n", fleet)
	default:
		_, err = fmt.Fprintf(w, "fleet %s is no longer claimed by %s\n", fleet, ended.PR)
	}
	return err
}

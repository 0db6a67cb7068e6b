package render

import (
	"strings"
	"testing"

	"github.com/deskfleet/deskfleet/engine"
)

func TestClaimedReleased(t *testing.T) {
	claim := &engine.Claim{Fleet: "studio", PR: engine.PullRequest{Number: 42, Author: "ana", Head: "0123456789abcdef"}}
	cases := []struct {
		reason string
		write  func(*strings.Builder) error
		want   string
	}{
		{"a new claim", func(b *strings.Builder) error { return Claimed(b, "studio", claim, true) },
			"fleet studio is claimed by pull request #42 (ana, 0123456) until it merges or closes\n"},
		{"a claim refreshed", func(b *strings.Builder) error { return Claimed(b, "studio", claim, false) },
			"fleet studio stays claimed by pull request #42 (ana, 0123456) until it merges or closes\n"},
		{"released", func(b *strings.Builder) error { return Released(b, "studio", 42, claim) },
			"fleet studio is no longer claimed by pull request #42 (ana, 0123456)\n"},
		{"not claimed by that request", func(b *strings.Builder) error { return Released(b, "studio", 7, nil) },
			"fleet studio is not claimed by pull request #7: nothing to end\n"},
		{"not claimed at all (--force)", func(b *strings.Builder) error { return Released(b, "studio", 0, nil) },
			"fleet studio is not claimed: nothing to end\n"},
	}
	for _, c := range cases {
		var b strings.Builder
		if err := c.write(&b); err != nil {
			t.Fatal(err)
		}
		if b.String() != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.reason, b.String(), c.want)
		}
	}
}

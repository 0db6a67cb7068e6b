package render

import (
	"strings"
	"testing"
)

func TestDiffString(t *testing.T) {
	cases := []struct {
		reason        string
		before, after string
		want          string
	}{
		{"one character changed: inline", "team-a", "team-b", `"team-[-a-]{+b+}"`},
		{"insertion only", "alice", "alice.w", `"alice{+.w+}"`},
		{"wide characters diff by character", "设计部", "设计二部", `"设计{+二+}部"`},
		{"little in common: both values whole", "alpha", "zulu", `"alpha" -> "zulu"`},
		{"half in common is not enough", "edit-old", "edit", `"edit-old" -> "edit"`},
		{"empty before", "", "team-a", `"" -> "team-a"`},
		{"empty after", "team-a", "", `"team-a" -> ""`},
		{"control characters and quotes escaped", "a\tb\"c", "a b\"c", `"a[-\t-]{+ +}b\"c"`},
		{"word-level cleanup", "night shift crew", "day shift crew", `"[-night-]{+day+} shift crew"`},
	}
	for _, tc := range cases {
		if got := diffString(style{}, tc.before, tc.after); got != tc.want {
			t.Errorf("%s: diffString(%q, %q) = %s, want %s", tc.reason, tc.before, tc.after, got, tc.want)
		}
	}
}

func TestDiffStringColour(t *testing.T) {
	got := diffString(style{on: true}, "team-a", "team-b")
	want := "\"team-\x1b[31ma\x1b[0m\x1b[32mb\x1b[0m\""
	if got != want {
		t.Errorf("coloured diff = %q, want %q (deletion red, insertion green, no markers)", got, want)
	}
	if strings.Contains(diffString(style{}, "team-a", "team-b"), "\x1b") {
		t.Error("an escape byte without colour")
	}
}

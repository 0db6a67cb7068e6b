package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLineDiff(t *testing.T) {
	cases := []struct {
		reason, want, got, diff string
	}{
		{"a changed line shows both sides", "a\nb\nc\n", "a\nB\nc\n", "- b\n+ B\n"},
		{"an added line shows alone", "a\n", "a\nb\n", "+ b\n"},
		{"equal texts have no diff", "a\n", "a\n", ""},
	}
	for _, c := range cases {
		if got := lineDiff(c.want, c.got); got != c.diff {
			t.Errorf("%s: lineDiff = %q, want %q", c.reason, got, c.diff)
		}
	}
}

// fakeT records Errorf so Check's failure path can be tested.
type fakeT struct {
	testing.TB
	failed string
}

func (f *fakeT) Helper()                        {}
func (f *fakeT) Errorf(format string, a ...any) { f.failed = fmt.Sprintf(format, a...) }

func TestCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.golden")
	if err := os.WriteFile(path, []byte("a\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	same := &fakeT{}
	Check(same, path, []byte("a\nb\n"))
	if same.failed != "" {
		t.Errorf("equal output reported as different: %s", same.failed)
	}
	differs := &fakeT{}
	Check(differs, path, []byte("a\nc\n"))
	if !strings.Contains(differs.failed, "- b\n+ c") {
		t.Errorf("a difference must be reported with its lines, got %q", differs.failed)
	}
}

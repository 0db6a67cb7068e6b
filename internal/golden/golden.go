// Package golden compares test output with golden files. Only tests import it: it registers the
// -update flag, which rewrites the files instead of comparing them.
package golden

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/sergi/go-diff/diffmatchpatch"
)

var update = flag.Bool("update", false, "rewrite golden files instead of comparing with them")

// Check compares got with the file at path, or rewrites the file under -update. A difference is
// reported as the lines that differ (- golden, + got), not as two whole dumps.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs (go test -update rewrites it after a deliberate change):\n%s", path, lineDiff(string(want), string(got)))
	}
}

// lineDiff renders the differing lines of two texts, "-" for want and "+" for got.
func lineDiff(want, got string) string {
	dmp := diffmatchpatch.New()
	a, b, lines := dmp.DiffLinesToChars(want, got)
	diffs := dmp.DiffCharsToLines(dmp.DiffMain(a, b, false), lines)
	var out strings.Builder
	for _, d := range diffs {
		prefix := ""
		switch d.Type {
		case diffmatchpatch.DiffDelete:
			prefix = "- "
		case diffmatchpatch.DiffInsert:
			prefix = "+ "
		default:
			continue
		}
		for _, l := range strings.SplitAfter(d.Text, "\n") {
			if l != "" {
				out.WriteString(prefix + strings.TrimSuffix(l, "\n") + "\n")
			}
		}
	}
	return out.String()
}

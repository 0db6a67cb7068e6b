package render

import (
	"strings"
	"unicode/utf8"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// diffString shows a changed string value, quoted. When before and after share more than half of the
// longer one's characters, it is one quoted string with the deleted pieces marked [-…-] and the
// inserted ones {+…+} ("team-[-a-]{+b+}"); in colour, deletions are red and insertions green instead
// of the markers. Otherwise, and when either side is empty, it is `"before" -> "after"`.
//
// The diff is by character, cleaned up to whole words where that reads better; it has no time limit,
// so the same values always give the same text.
func diffString(st style, before, after string) string {
	if before == "" || after == "" {
		return quote(before) + " -> " + quote(after)
	}
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = 0
	diffs := dmp.DiffCleanupSemantic(dmp.DiffMain(before, after, false))
	common := 0
	for _, d := range diffs {
		if d.Type == diffmatchpatch.DiffEqual {
			common += utf8.RuneCountInString(d.Text)
		}
	}
	if 2*common <= max(utf8.RuneCountInString(before), utf8.RuneCountInString(after)) {
		return quote(before) + " -> " + quote(after)
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, d := range diffs {
		t := quoteInner(d.Text)
		switch d.Type {
		case diffmatchpatch.DiffEqual:
			b.WriteString(t)
		case diffmatchpatch.DiffDelete:
			if st.on {
				b.WriteString(st.red(t))
			} else {
				b.WriteString("[-" + t + "-]")
			}
		case diffmatchpatch.DiffInsert:
			if st.on {
				b.WriteString(st.green(t))
			} else {
				b.WriteString("{+" + t + "+}")
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// quote quotes a string value as the plan shows it: Go syntax, printable Unicode kept as is.
func quote(s string) string { return `"` + quoteInner(s) + `"` }

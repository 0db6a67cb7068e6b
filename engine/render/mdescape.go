package render

import (
	"strings"

	"github.com/deskfleet/deskfleet/engine"
)

// mdSpecial are the characters escaped in Markdown text: those that start emphasis, code, links,
// HTML, tables, strikethrough or entities. ">" matters only at the start of a line, where escaped
// text never is.
const mdSpecial = "\\`*_[]<|~&"

// mdEscape escapes s for Markdown text (outside code), so that a name or message shows as written
// and cannot break the comment: what safe escapes is shown as its escape (\x1b), then special
// characters get a backslash ("|" included, so it never ends a table cell).
func mdEscape(s string) string {
	s = safe(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r':
			b.WriteByte(' ')
		case r < 0x80 && strings.ContainsRune(mdSpecial, r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// code writes s as an inline code span, with a fence of more backticks than s holds in a row (and
// padding when s starts or ends with a backtick), so any name shows verbatim, but for what safe
// escapes (shown as its escape: \x1b, \n, \x3c!--). In a table, use codeCell.
func code(s string) string {
	s = safe(s)
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// codeList is flags as code spans joined by ", ": "`--allow-delete`, `--force`".
func codeList(flags []string) string {
	out := make([]string, len(flags))
	for i, f := range flags {
		out[i] = code(f)
	}
	return strings.Join(out, ", ")
}

// fenceFor returns a code fence longer than any run of backticks in text (at least three).
func fenceFor(text string) string {
	return strings.Repeat("`", max(3, longestRun(text, '`')+1))
}

func longestRun(s string, c byte) int {
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return longest
}

// codeCell is code for a table cell: a "|" is escaped as "\|" (GitHub's tables split cells at every
// unescaped "|", inside code spans too, and show "\|" there as "|").
func codeCell(s string) string {
	return strings.ReplaceAll(code(s), "|", `\|`)
}

// markerEscape keeps a fleet name from ending the HTML comment of the marker early, or from
// holding what safe escapes.
func markerEscape(fleet string) string {
	return strings.NewReplacer("--", "-\u2010", ">", "&gt;").Replace(safe(fleet))
}

// changeCount is the number of changes that do something.
func changeCount(p *engine.Plan) int {
	n := 0
	for _, c := range p.Changes {
		if c.Action != engine.ActionNoop {
			n++
		}
	}
	return n
}

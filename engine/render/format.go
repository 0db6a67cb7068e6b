package render

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/deskfleet/deskfleet/engine"
	"golang.org/x/text/width"
)

// listLimit is the most names a shortened list shows in full; a longer list shows listHead names and
// "and N more".
const (
	listLimit = 4
	listHead  = 3
)

// shortList joins names with ", ", showing the first listHead and "and N more" when there are more
// than listLimit.
func shortList(names []string) string {
	if len(names) <= listLimit {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:listHead], ", ") + fmt.Sprintf(" and %d more", len(names)-listHead)
}

// shortInts is shortList for step ids.
func shortInts(ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(id)
	}
	return shortList(s)
}

// minIDLen is the shortest a shortened id gets.
const minIDLen = 4

// shortID shortens an API id to its first n characters and "…"; an id of n characters or fewer is
// kept whole.
func shortID(id string, n int) string {
	r := []rune(id)
	if len(r) <= n {
		return id
	}
	return string(r[:n]) + "…"
}

// idLen is the prefix length that tells the distinct ids apart: minIDLen, longer only when two ids
// share their first minIDLen characters (as git shortens hashes).
func idLen(ids []string) int {
	distinct := map[string]bool{}
	for _, id := range ids {
		distinct[id] = true
	}
	for n := minIDLen; ; n++ {
		seen := map[string]bool{}
		clash, longest := false, 0
		for id := range distinct {
			longest = max(longest, len([]rune(id)))
			k := shortID(id, n)
			clash = clash || seen[k]
			seen[k] = true
		}
		if !clash || n >= longest {
			return n
		}
	}
}

// shortEmail shortens an email to its local part and "@…" ("alice@…"); a string without "@" is
// kept whole.
func shortEmail(email string) string {
	if i := strings.IndexByte(email, '@'); i > 0 {
		return email[:i] + "@…"
	}
	return email
}

// plural returns "1 desktop" or "3 desktops".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// elapsed shows a duration rounded for people: tenths of a second under a minute, whole seconds above.
func elapsed(d time.Duration) string {
	if d < time.Minute {
		return strconv.FormatFloat(d.Round(100*time.Millisecond).Seconds(), 'f', 1, 64) + "s"
	}
	return d.Round(time.Second).String()
}

// money formats an amount rounded to cents with thousands separators: "¥20,184.00", "-¥11.21"
// (engine.FormatMoney; a currency code it does not know is escaped, as it comes from the plan).
// withPlus adds "+" to a positive amount (for rate changes). An amount that rounds to zero has no sign.
func money(currency string, amount float64, withPlus bool) string {
	return engine.FormatMoney(safe(currency), amount, withPlus)
}

// rate formats an hourly run-rate change: "+¥3.40/h", "-¥11.21/h".
func rate(currency string, perHour float64) string { return money(currency, perHour, true) + "/h" }

// quoteInner escapes s as a Go string literal does (control characters, bidirectional controls and
// other unprintable characters, quotes, invalid UTF-8) and drops the surrounding quotes, so the pieces
// of a diff can be quoted as one string. An HTML comment opener is escaped too (see safe).
func quoteInner(s string) string {
	q := strconv.Quote(s)
	return strings.ReplaceAll(q[1:len(q)-1], commentOpener, commentOpenerEscaped)
}

// commentOpener starts an HTML comment: the hidden marker the CI recipes search for
// (<!-- deskfleet-plan:FLEET -->) starts with it, so text from the spec or the account never holds
// it as written; commentOpenerEscaped is how it is shown.
const (
	commentOpener        = "<!--"
	commentOpenerEscaped = `\x3c!--`
)

// safe is s as it is shown from the spec, the account or a plan file (names, labels, remarks,
// messages) in every output: the characters a terminal or a Markdown renderer would act on instead of
// showing, and that could hide or disguise text, are written as Go escapes: C0 controls (line breaks
// and tabs included: \n, \t, \x1b), DEL (\x7f), C1 controls (\u009b), the bidirectional controls
// (\u202e, \u2066, \u200f, ...) and the line and paragraph separators (\u2028, \u2029); a byte that is
// not UTF-8 is \xff. An HTML comment opener is shown as \x3c!--, so that no value can forge the
// hidden marker of a Markdown plan. Other text, wide and combining characters included, is kept.
func safe(s string) string {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unsafeRune(r, size) || (r == '<' && strings.HasPrefix(s[i:], commentOpener)) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && unsafeRune(r, size):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r, size):
			fmt.Fprintf(&b, `\u%04x`, r)
		case r == '<' && strings.HasPrefix(s[i:], commentOpener):
			b.WriteString(commentOpenerEscaped)
			size = len(commentOpener)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// unsafeRune reports whether a rune (of size bytes, utf8.RuneError of size 1 for a byte that is not
// UTF-8) is escaped by safe.
func unsafeRune(r rune, size int) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r == utf8.RuneError:
		return size == 1
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true // bidirectional controls: they reorder what follows them
	case r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

// displayWidth is the number of terminal columns s takes: East Asian wide and full-width runes count
// two, ANSI colour sequences none.
func displayWidth(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\x1b' {
			for i < len(s) && s[i] != 'm' {
				i++
			}
			continue
		}
		if s[i] < 0x80 {
			n++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
		i += size - 1
	}
	return n
}

// pad right-pads s with spaces to w columns (s is returned as is when it is wider).
func pad(s string, w int) string {
	if d := w - displayWidth(s); d > 0 {
		return s + strings.Repeat(" ", d)
	}
	return s
}

// padLeft left-pads s with spaces to w columns.
func padLeft(s string, w int) string {
	if d := w - displayWidth(s); d > 0 {
		return strings.Repeat(" ", d) + s
	}
	return s
}

// ShortList is the list shortening of the rendered plans ("a, b, c and 47 more"), for the other
// outputs (apply's progress, the state commands) to read alike.
func ShortList(names []string) string { return shortList(names) }

// ShortID is the id shortening of the rendered plans ("9f3c…"), at its shortest length.
func ShortID(id string) string { return shortID(id, minIDLen) }

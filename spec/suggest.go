package spec

import "strings"

// Suggest returns the one candidate that s is most plausibly a typo or a truncation of, for a
// "did you mean" in a message about an unknown name; "" when none is close enough (the rule of the
// loader's own suggestions) or when several are equally close, since a coin toss between them would
// mislead. Names are compared case-insensitively, in characters.
func Suggest(s string, candidates []string) string {
	best := closest(s, candidates)
	if best == "" {
		return ""
	}
	ls := strings.ToLower(s)
	if len(s) >= 3 && strings.HasPrefix(strings.ToLower(best), ls) {
		n := 0
		for _, c := range candidates {
			if strings.HasPrefix(strings.ToLower(c), ls) {
				n++
			}
		}
		if n > 1 {
			return ""
		}
		return best
	}
	d := editDistance(ls, strings.ToLower(best))
	for _, c := range candidates {
		if c != best && editDistance(ls, strings.ToLower(c)) == d {
			return ""
		}
	}
	return best
}

package spec

import (
	"bytes"
	"strings"
)

// misfit finds the line that breaks the block indentation of a YAML file, at or after line from
// (1-based): yaml.v3 reports a block that a wrongly indented line ends ("did not find expected '-'
// indicator") at the line where the block starts, above the mistake. It reads the file's lines as
// block mappings and lists: a line may be indented like an open block above it, or deeper right after
// a line that opens a block ("key:", "- ", "- key:"); the first line that is neither is the misfit.
// It gives up (ok false) on what it does not model: flow collections or quoted scalars spanning
// lines, multi-line plain scalars, tabs, complex keys; and when the first misfit is above from, where
// the file's structure is not what it assumes.
func misfit(data []byte, from int) (line, col int, ok bool) {
	levels := []int{0}
	open := true // the next line may be deeper
	block := -1  // inside a block scalar: the indentation of the line that opened it
	for i, raw := range bytes.Split(data, []byte("\n")) {
		n := i + 1
		text := strings.TrimRight(string(raw), " \r")
		body := strings.TrimLeft(text, " ")
		ind := len(text) - len(body)
		if body == "" || strings.HasPrefix(body, "#") || (block >= 0 && ind > block) {
			continue
		}
		block = -1
		if strings.HasPrefix(body, "---") || strings.HasPrefix(body, "...") || strings.HasPrefix(body, "%") {
			levels, open = []int{0}, true
			continue
		}
		if strings.ContainsAny(body, "\t") || strings.HasPrefix(body, "? ") || unbalanced(body) {
			return 0, 0, false
		}
		top := levels[len(levels)-1]
		switch {
		case open && ind > top:
			levels = append(levels, ind)
		default:
			for len(levels) > 1 && levels[len(levels)-1] > ind {
				levels = levels[:len(levels)-1]
			}
			if levels[len(levels)-1] != ind {
				if n < from {
					return 0, 0, false
				}
				return n, ind + 1, true
			}
		}
		open, block = opens(body, ind, &levels)
	}
	return 0, 0, false
}

// opens reads one line's content (indented by ind): whether the next line may be deeper, and the
// indentation of a block scalar it starts (-1 if none). A list item's content is a level of its own.
func opens(body string, ind int, levels *[]int) (bool, int) {
	for strings.HasPrefix(body, "- ") || body == "-" {
		if body == "-" {
			return true, -1
		}
		rest := strings.TrimLeft(body[2:], " ")
		ind += len(body) - len(rest)
		*levels = append(*levels, ind)
		body = rest
	}
	value := body
	if k, v, ok := strings.Cut(stripComment(body), ": "); ok && !strings.ContainsAny(k, "\"'{[") {
		value = strings.TrimSpace(v)
	} else if strings.HasSuffix(stripComment(body), ":") {
		return true, -1
	}
	if strings.HasPrefix(value, "|") || strings.HasPrefix(value, ">") {
		return false, ind
	}
	// An anchor or a tag alone ("defaults: &d") is followed by the value it names, on the next lines.
	if v := stripComment(value); (strings.HasPrefix(v, "&") || strings.HasPrefix(v, "!")) && !strings.Contains(v, " ") {
		return true, -1
	}
	return false, -1
}

// stripComment drops a trailing " # comment" that is not inside quotes.
func stripComment(s string) string {
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case quote == 0 && c == '#' && i > 0 && s[i-1] == ' ':
			return strings.TrimRight(s[:i], " ")
		}
	}
	return strings.TrimRight(s, " ")
}

// unbalanced reports whether a line leaves a flow collection or a quoted scalar open.
func unbalanced(s string) bool {
	depth, quote := 0, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == '"' && c == '\\':
			i++
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			if i == 0 || strings.IndexByte(" :,[{-", s[i-1]) >= 0 {
				quote = c
			}
		case c == '#' && i > 0 && s[i-1] == ' ':
			return depth != 0
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			depth--
		}
	}
	return depth != 0 || quote != 0
}

package spec

import (
	"fmt"
	"sort"
	"strings"
)

// Pos is a place in a spec file. Line and Col are 1-based; 0 means unknown (a file-level problem has
// neither, a parse error may lack the column).
type Pos struct {
	File string
	Line int
	Col  int
}

// String renders the position as file:line:col, dropping the parts that are unknown.
func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	default:
		return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
	}
}

// IsZero reports whether the position is unset.
func (p Pos) IsZero() bool { return p == Pos{} }

// Severity says whether a diagnostic makes the spec invalid.
type Severity int

const (
	// Error makes the spec invalid: nothing may be planned or applied from it.
	Error Severity = iota
	// Warning is legal but suspicious; the spec stays valid.
	Warning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Diagnostic is one problem found in a spec, at the place that causes it.
type Diagnostic struct {
	Pos      Pos
	Severity Severity
	// Message says what is wrong, naming the offending value.
	Message string
	// Hint, when set, says what to do about it.
	Hint string
}

// String renders the diagnostic on one line: "file:line:col: message" for an error,
// "file:line:col: warning: message" for a warning, followed by " · hint: ..." when there is a hint.
// A diagnostic with no position (nothing was read) is only its message.
func (d Diagnostic) String() string {
	var b strings.Builder
	if !d.Pos.IsZero() {
		b.WriteString(d.Pos.String())
		b.WriteString(": ")
	}
	if d.Severity == Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(d.Message)
	if d.Hint != "" {
		b.WriteString(" · hint: ")
		b.WriteString(d.Hint)
	}
	return b.String()
}

// Diagnostics is a list of diagnostics, in the order they were found until Sort is called.
type Diagnostics []Diagnostic

// HasErrors reports whether any diagnostic is an Error.
func (ds Diagnostics) HasErrors() bool { return ds.Count(Error) > 0 }

// Count returns the number of diagnostics of severity s.
func (ds Diagnostics) Count(s Severity) int {
	n := 0
	for _, d := range ds {
		if d.Severity == s {
			n++
		}
	}
	return n
}

// Sort orders the diagnostics by file, line and column, keeping the order of equal positions.
func (ds Diagnostics) Sort() {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i].Pos, ds[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// Err returns nil when there is no error, else an error whose text lists every error, one per line.
func (ds Diagnostics) Err() error {
	if !ds.HasErrors() {
		return nil
	}
	return &InvalidError{Diagnostics: ds}
}

// InvalidError is returned by Diagnostics.Err when the spec has errors.
type InvalidError struct{ Diagnostics Diagnostics }

func (e *InvalidError) Error() string {
	var lines []string
	for _, d := range e.Diagnostics {
		if d.Severity == Error {
			lines = append(lines, d.String())
		}
	}
	return strings.Join(lines, "\n")
}

// maxSuggest is the most candidates closest compares a name with.
const maxSuggest = 1000

// closest returns the candidate nearest to s by edit distance, or "" when none is near enough to be a
// plausible typo (distance at most a third of the longer string, and at most 3), or one that s begins.
func closest(s string, candidates []string) string {
	if len(candidates) > maxSuggest {
		return "" // bound the work on huge specs
	}
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if len(s) >= 3 && strings.HasPrefix(strings.ToLower(c), strings.ToLower(s)) {
			return c // a truncated name
		}
	}
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), strings.ToLower(c))
		if d < bestD {
			best, bestD = c, d
		}
	}
	limit := max(len([]rune(s)), len([]rune(best))) / 3
	if limit < 1 {
		limit = 1
	}
	if best == "" || bestD > limit || bestD > 3 || bestD >= len([]rune(s)) {
		return ""
	}
	return best
}

// editDistance is the optimal-string-alignment distance between a and b, in runes: insertions,
// deletions, substitutions and transpositions of neighbours each cost 1.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		if a == b {
			return 0
		}
		return 1 << 20
	}
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// unknownName builds the message for a reference to an undeclared name of the given kind
// ("billing plan", "profile"): the closest name as a suggestion, then the declared names.
func unknownName(kind, name string, declared []string) string {
	sort.Strings(declared)
	msg := fmt.Sprintf("unknown %s %q", kind, name)
	if c := closest(name, declared); c != "" {
		msg += fmt.Sprintf("; did you mean %q?", c)
	}
	if len(declared) == 0 {
		return msg + fmt.Sprintf("; no %ss are declared", kind)
	}
	list := strings.Join(declared, ", ")
	if len(declared) > 10 {
		list = fmt.Sprintf("%s and %d more", strings.Join(declared[:10], ", "), len(declared)-10)
	}
	return msg + fmt.Sprintf("; %ss: %s", kind, list)
}

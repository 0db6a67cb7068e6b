package spec

import "testing"

func TestMisfit(t *testing.T) {
	tests := []struct {
		reason string
		yaml   string
		from   int
		line   int // 0: none found
	}{
		{"a list item's key one space too far", "a:\n  - b: 1\n   c: 2\n", 1, 3},
		{"a mapping's key one space too few", "a:\n  b: 1\n c: 2\n", 2, 3},
		{"a list at its parent key's indentation, or one deeper, fits", "a:\n- b: 1\n  c: 2\nd:\n - e\n", 1, 0},
		{"a block scalar's lines are not keys", "a: |\n   text\n  more\nb:\n  - c\n   d: 1\n", 1, 6},
		{"an anchor alone opens the block it names", "a: &x\n  b: 1\nc:\n  - d: 1\n   e: 2\n", 1, 5},
		{"every document starts at column 1", "a:\n  b: 1\n---\nc:\n    d: 1\n   e: 2\n", 1, 6},
		{"comments and blank lines do not count", "a:\n  b: 1\n\n      # note\n  c: 2\n   d: 3\n", 1, 6},
		{"a flow mapping over several lines is not modelled", "a: {b: 1,\n  c: 2}\n d: 1\n", 1, 0},
		{"a misfit above the reported line means the model is wrong", "a: 1\n  b: 2\nc:\n - d\n  e: 1\n", 3, 0},
		{"a well indented file has no misfit", "a:\n  - b: 1\n    c: [1, 2]\n  - d: \"x: y\"  # z\n", 1, 0},
	}
	for _, tt := range tests {
		line, _, ok := misfit([]byte(tt.yaml), tt.from)
		if !ok {
			line = 0
		}
		if line != tt.line {
			t.Errorf("%s: misfit at line %d, want %d", tt.reason, line, tt.line)
		}
	}
}

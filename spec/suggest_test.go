package spec

import "testing"

func TestSuggest(t *testing.T) {
	sites := []string{"宿迁A", "宿迁B", "襄阳A"}
	tests := []struct {
		reason string
		s      string
		cands  []string
		want   string
	}{
		{"one typo away from one name", "monthy", []string{"monthly", "on-demand"}, "monthly"},
		{"a truncation of exactly one name", "襄阳", sites, "襄阳A"},
		{"a truncation of two names is ambiguous", "宿迁", sites, ""},
		{"equally close to two names: no coin toss", "宿迁C", sites, ""},
		{"nothing close", "北京", sites, ""},
		{"no candidates", "x", nil, ""},
		{"case is ignored", "MONTHY", []string{"monthly"}, "monthly"},
	}
	for _, tt := range tests {
		if got := Suggest(tt.s, tt.cands); got != tt.want {
			t.Errorf("%s: Suggest(%q, %q) = %q, want %q", tt.reason, tt.s, tt.cands, got, tt.want)
		}
	}
}

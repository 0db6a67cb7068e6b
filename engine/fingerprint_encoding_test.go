package engine

import (
	"encoding/json"
	"testing"
)

// TestFingerprintEncodingIsJSON: the encoding fingerprint writes itself is json.Marshal's, byte for
// byte, and it leaves to json.Marshal every part it would write differently.
func TestFingerprintEncodingIsJSON(t *testing.T) {
	tests := []struct {
		parts  []any
		plain  bool // appendPlainJSON writes it
		reason string
	}{
		{[]any{"desktop/1", "9f3c-0001", "render_001", "site-a", 0, -12, "running"}, true, "a desktop's fields"},
		{[]any{}, true, "nothing"},
		{[]any{"", " ~!#$%'()*+,-./:;=?@[]^_`{|}"}, true, "empty, and the punctuation json.Marshal keeps"},
		{[]any{"a\"b"}, false, "a quote"},
		{[]any{`a\b`}, false, "a backslash"},
		{[]any{"<b>&"}, false, "HTML characters, which json.Marshal escapes"},
		{[]any{"a\nb\x01"}, false, "control characters"},
		{[]any{"\x7f"}, false, "DEL"},
		{[]any{"默认VPC"}, false, "not ASCII"},
		{[]any{"\xff"}, false, "invalid UTF-8"},
		{[]any{"a", true}, false, "a bool"},
		{[]any{"net/1", nil, [][]any{{"a", 1}}}, false, "null and nested arrays"},
		{[]any{int64(1)}, false, "another integer type"},
	}
	for _, tc := range tests {
		want, err := json.Marshal(tc.parts)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendPlainJSON(nil, tc.parts)
		if ok != tc.plain {
			t.Errorf("appendPlainJSON(%q) ok = %v, want %v (%s)", tc.parts, ok, tc.plain, tc.reason)
		}
		if ok && string(got) != string(want) {
			t.Errorf("appendPlainJSON(%q) = %s, json.Marshal %s (%s)", tc.parts, got, want, tc.reason)
		}
	}
}

package engine

import (
	"os"
	"path/filepath"
	"testing"
)

func TestIsSpecPath(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		reason string
		path   string
		want   bool
	}{
		{"a folder is a spec", dir, true},
		{"*.yaml is a spec, even when missing", filepath.Join(dir, "missing.yaml"), true},
		{"*.YML is a spec", write("a.YML", "{}"), true},
		{"a JSON object is a saved plan", write("plan.json", "\n  {\"format_version\": 1}"), false},
		{"a JSON object after a byte-order mark is a saved plan", write("plan.bin", "\xef\xbb\xbf{}"), false},
		{"YAML content with another name is a spec", write("fleet.spec", "# a comment\nversion: 1\n"), true},
		{"a missing file with another name is a PLANFILE (apply's error names it)", filepath.Join(dir, "plan.out"), false},
	}
	for _, tt := range tests {
		if got := IsSpecPath(tt.path); got != tt.want {
			t.Errorf("%s: IsSpecPath(%s) = %v, want %v", tt.reason, filepath.Base(tt.path), got, tt.want)
		}
	}
}

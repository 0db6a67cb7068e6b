package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestValidateHelpHasExamples(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"deskfleet", "validate", "--help"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit code %d", code)
	}
	for _, want := range []string{"deskfleet validate [-f PATH]...", "Examples:", "--file value, -f value"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, stdout.String())
		}
	}
}

package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	const data = "../../spec/testdata/cli/"
	tests := []struct {
		reason   string
		args     []string
		wantCode int
		wantOut  string
	}{
		{
			reason:   "a valid example: exit 0 and a count line naming the fleet",
			args:     []string{"-f", "../../examples/studio"},
			wantCode: exitOK,
			wantOut:  "0 errors, 0 warnings in 1 file: fleet studio is valid (6 desktops, 5 accounts)\n",
		},
		{
			reason:   "the render farm example",
			args:     []string{"-f", "../../examples/render-farm/fleet.yaml"},
			wantCode: exitOK,
			wantOut:  "0 errors, 0 warnings in 1 file: fleet render-farm is valid (40 desktops, 0 accounts)\n",
		},
		{
			reason:   "the classroom example",
			args:     []string{"--file", "../../examples/classroom"},
			wantCode: exitOK,
			wantOut:  "0 errors, 0 warnings in 1 file: fleet classroom-3d-2026 is valid (13 desktops, 13 accounts)\n",
		},
		{
			reason:   "an invalid spec: exit 1, every error on its own line as file:line:col: message, then the count",
			args:     []string{"-f", data + "invalid.yaml"},
			wantCode: exitError,
			wantOut: data + `invalid.yaml:7:13: malformed email "alice@"; want name@domain
` + data + `invalid.yaml:9:32: unknown power "maybe"; use on or off
` + data + `invalid.yaml:10:12: duplicate desktop name "a_001": also made by group "a" (count 2) at ` + data + `invalid.yaml:9:12 · hint: give each desktop group a distinct name
3 errors, 0 warnings in 1 file
`,
		},
		{
			reason:   "warnings are marked and do not fail validation",
			args:     []string{"-f", data + "warnings.yaml"},
			wantCode: exitOK,
			wantOut: data + `warnings.yaml:6:3: warning: profile "spare" is not used by any desktop
0 errors, 1 warning in 1 file: fleet cli is valid (1 desktop, 0 accounts)
`,
		},
		{
			reason:   "-f is repeatable and the files merge into one fleet",
			args:     []string{"-f", data + "warnings.yaml", "-f", data + "invalid.yaml"},
			wantCode: exitError,
			wantOut:  "", // checked by wantContains below
		},
		{
			reason:   "a missing path is an error naming it",
			args:     []string{"-f", "no-such-spec.yaml"},
			wantCode: exitError,
			wantOut:  "no-such-spec.yaml: cannot read: no such file or directory\n1 error, 0 warnings in 1 file\n",
		},
		{
			reason:   "the default is the current folder, which here holds no spec",
			args:     nil,
			wantCode: exitError,
			wantOut:  ".: no *.yaml or *.yml files in this folder · hint: pass the spec's file or folder with -f\n1 error, 0 warnings in 1 file\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"deskfleet", "validate"}, tt.args...), &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout.String(), stderr.String())
			}
			if tt.wantOut != "" && stdout.String() != tt.wantOut {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout.String(), tt.wantOut)
			}
			if tt.wantOut == "" && !strings.Contains(stdout.String(), `defaults.site is set twice`) {
				t.Errorf("want the two files merged (defaults set twice), got:\n%s", stdout.String())
			}
			if stderr.Len() != 0 {
				t.Errorf("want nothing on stderr, got %q", stderr.String())
			}
		})
	}
}

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

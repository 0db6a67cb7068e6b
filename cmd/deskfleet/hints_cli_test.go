package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// hintRe finds a hint: run prints "hint: ..." on the line after the error; a spec diagnostic ends its
// own line with " · hint: ..." (on stdout for validate, whose report it is).
var hintRe = regexp.MustCompile(`(?m)(?:^hint: | · hint: )(.+)$`)

// TestCLIMistakesEndWithHints runs the binary through the mistakes a newcomer makes and checks that the
// error says what to do next, and exits as README.md says (an unknown command is an error, exit 1, not
// urfave/cli's 3, which CI would read as "partly applied").
func TestCLIMistakesEndWithHints(t *testing.T) {
	studio, err := os.ReadFile(filepath.Join("..", "..", "examples", "studio", "fleet.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		reason string
		spec   string // written to fleet.yaml in the run's folder; "" writes nothing
		env    []string
		stdin  string // piped to the binary when set (runBin's stdin is /dev/null)
		args   []string
		code   int
		want   string // in the hint
	}{
		{"validate in a folder with no spec points at -f", "", nil, "",
			[]string{"validate"}, exitError, "with -f"},
		{"plan in a folder with no spec points at -f", "", nil, "",
			[]string{"plan", "--endpoint", "sim"}, exitError, "with -f"},
		{"an unknown site name lists the sites there are", strings.Replace(string(studio), "site: 宿迁A", "site: 北京Z", 1), nil, "",
			[]string{"plan", "--endpoint", "sim"}, exitError, "sites: 宿迁A"},
		{"the real endpoint without credentials says what to export, or to try the emulator", string(studio), nil, "",
			[]string{"plan"}, exitError, "--endpoint sim"},
		{"one credential of two is not enough either", string(studio), []string{"CDS_SECRET_ID=AKID-test"}, "",
			[]string{"plan"}, exitError, "export both variables"},
		{"apply with a pipe for stdin, nobody to confirm, points at --auto-approve", string(studio), nil, "yes\n",
			[]string{"apply", "--endpoint", "sim"}, exitError, "--auto-approve"},
		{"state show without a fleet name points at state list", "", nil, "",
			[]string{"state", "show"}, exitError, "state list"},
		{"completion of an unknown shell names the shells", "", nil, "",
			[]string{"completion", "tcsh"}, exitError, "bash, zsh or fish"},
		{"a YAML syntax error says the line it points at (line 5, where the mistake is: spec's TestLoadErrors) is out of line and how YAML wants indentation",
			"version: 1\nfleet: x\ndesktops:\n  - name: a\n   count: 2\n", nil, "",
			[]string{"validate"}, exitError, "this line is indented like no mapping or list above it; line up the keys of one mapping or list item, with spaces"},
		{"apply of a missing plan file says how to make one", "", nil, "",
			[]string{"apply", "--endpoint", "sim", "plan.bin"}, exitError, "plan --out FILE"},
		{"two plan files: say how to make one", "", nil, "",
			[]string{"apply", "a.bin", "b.bin", "--auto-approve"}, exitError, "plan --out FILE"},
		{"state show of a fleet not in an empty state says how a fleet gets there", "", nil, "",
			[]string{"state", "show", "studio"}, exitError, "first apply"},
		{"a misspelt command suggests the right one", "", nil, "",
			[]string{"plna"}, exitError, "did you mean `deskfleet plan`"},
		{"a misspelt subcommand suggests the right one", "", nil, "",
			[]string{"state", "hsitory"}, exitError, "deskfleet state history"},
		{"an unknown flag points at the command's help, not the whole help", "", nil, "",
			[]string{"state", "show", "--frob"}, exitError, "deskfleet state show --help"},
		{"apply with stdin at /dev/null (cron, CI) is not a terminal: nobody can confirm", string(studio), nil, "",
			[]string{"apply", "--endpoint", "sim"}, exitError, "--auto-approve"},
		{"a misspelt flag suggests the command's own flag", "", nil, "",
			[]string{"plan", "--endpont", "sim"}, exitError, "did you mean --endpoint?"},
		{"a misspelt flag after a positional argument too", "", nil, "",
			[]string{"state", "unlock", "studio", "--forse"}, exitError, "did you mean --force?"},
		{"a truncated flag is completed", "", nil, "",
			[]string{"apply", "--auto-app"}, exitError, "did you mean --auto-approve?"},
		{"a misspelt flag of the app itself", "", nil, "",
			[]string{"--versoin"}, exitError, "did you mean --version?"},
		{"an endpoint where nothing listens names --endpoint", string(studio), []string{"CDS_SECRET_ID=AKID-test", "CDS_SECRET_KEY=k"}, "",
			[]string{"catalog", "--endpoint", "http://127.0.0.1:1"}, exitError, "check --endpoint"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		if tt.spec != "" {
			if err := os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(tt.spec), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		var r result
		if tt.stdin != "" {
			r = runBinStdin(t, dir, tt.stdin, tt.env, tt.args...)
		} else {
			r = runBin(t, dir, tt.env, tt.args...)
		}
		m := hintRe.FindStringSubmatch(r.stderr + r.stdout)
		if r.code != tt.code || m == nil || !strings.Contains(m[1], tt.want) {
			t.Errorf("%s: deskfleet %s: exit %d, stderr:\n%s\nstdout:\n%s\nwant exit %d and a hint with %q",
				tt.reason, strings.Join(tt.args, " "), r.code, r.stderr, r.stdout, tt.code, tt.want)
		}
	}
}

// runBinStdin is runBin with stdin fed from a pipe.
func runBinStdin(t *testing.T, dir, stdin string, env []string, args ...string) result {
	t.Helper()
	return runBinWith(t, dir, strings.NewReader(stdin), env, args...)
}

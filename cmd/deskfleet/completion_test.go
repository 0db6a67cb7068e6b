package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// shellEnv is a PATH that finds the test binary as "deskfleet", as an installed one is found.
func shellEnv() []string {
	return cliEnv()
}

// needShell returns the path of shell, skipping the test when it is not installed.
func needShell(t *testing.T, shell string) string {
	t.Helper()
	p, err := exec.LookPath(shell)
	if err != nil {
		t.Skipf("%s is not installed", shell)
	}
	return p
}

func TestCompletionScripts(t *testing.T) {
	tests := []struct {
		reason string
		shell  string
		syntax []string // the shell's syntax check, run on the script's file
		want   string   // a line the script must hold
	}{
		{"bash: a function registered for deskfleet", "bash", []string{"bash", "-n"},
			"complete -o bashdefault -o default -F _deskfleet_complete deskfleet"},
		{"zsh: works from $fpath (#compdef) and when sourced", "zsh", []string{"zsh", "-n"}, "#compdef deskfleet"},
		{"fish: one dynamic rule for deskfleet", "fish", []string{"fish", "--no-execute"},
			"complete -c deskfleet -f -a '(__deskfleet_complete)'"},
	}
	for _, tt := range tests {
		t.Run(tt.shell, func(t *testing.T) {
			r := runBin(t, t.TempDir(), nil, "completion", tt.shell)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("%s: exit %d, stderr %q", tt.reason, r.code, r.stderr)
			}
			if strings.TrimSpace(r.stdout) == "" || !strings.Contains(r.stdout, "deskfleet") {
				t.Fatalf("%s: the script is empty or does not name the program:\n%s", tt.reason, r.stdout)
			}
			if !slices.Contains(strings.Split(r.stdout, "\n"), tt.want) {
				t.Errorf("%s: the script lacks the line %q:\n%s", tt.reason, tt.want, r.stdout)
			}
			if strings.Contains(r.stdout, "@PROG@") {
				t.Errorf("%s: the program name was not substituted everywhere:\n%s", tt.reason, r.stdout)
			}
			needShell(t, tt.syntax[0])
			f := filepath.Join(t.TempDir(), "completion."+tt.shell)
			if err := os.WriteFile(f, []byte(r.stdout), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(tt.syntax[0], append(tt.syntax[1:], f)...).CombinedOutput(); err != nil {
				t.Errorf("%s: %s rejects the script: %v\n%s", tt.reason, strings.Join(tt.syntax, " "), err, out)
			}
		})
	}
}

func TestCompletionBadShell(t *testing.T) {
	tests := []struct {
		reason string
		args   []string
		want   string // in the error line
	}{
		{"no shell named", []string{"completion"}, "name the shell"},
		{"a shell with no script", []string{"completion", "tcsh"}, `"tcsh"`},
		{"two shells", []string{"completion", "bash", "zsh"}, "one shell"},
	}
	for _, tt := range tests {
		r := runBin(t, t.TempDir(), nil, tt.args...)
		lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
		if r.code != exitError || r.stdout != "" || len(lines) != 2 || !strings.Contains(lines[0], tt.want) ||
			!strings.HasPrefix(lines[1], "hint: ") || !strings.Contains(lines[1], "bash, zsh or fish") {
			t.Errorf("%s: deskfleet %s: exit %d, stdout %q, stderr %q; want exit 1, an error with %q, then a hint naming the shells",
				tt.reason, strings.Join(tt.args, " "), r.code, r.stdout, r.stderr, tt.want)
		}
	}
}

// TestCompletionCandidates checks what the scripts rely on: the binary's own answer to
// --generate-bash-completion.
func TestCompletionCandidates(t *testing.T) {
	tests := []struct {
		reason string
		args   []string // before --generate-bash-completion
		want   []string
		absent []string
	}{
		{"top level: the commands, completion included", nil,
			[]string{"plan", "apply", "drift", "validate", "state", "completion"}, []string{"--format"}},
		{"after a command and a dash: its flags", []string{"plan", "-"},
			[]string{"--format", "--file", "-f", "--out", "--target", "--endpoint"}, []string{"--auto-approve"}},
		{"a flag prefix narrows the flags", []string{"plan", "--fo"}, []string{"--format"}, []string{"--file", "--out"}},
		{"apply has its own flags", []string{"apply", "--allow"},
			[]string{"--allow-delete", "--allow-replace", "--allow-rebuild", "--allow-prepay"}, []string{"--format"}},
		{"a command group: its subcommands", []string{"state"}, []string{"list", "show", "history", "unlock"}, nil},
		{"completion: the shells", []string{"completion"}, []string{"bash", "zsh", "fish"}, []string{"plan"}},
	}
	for _, tt := range tests {
		args := append(slices.Clone(tt.args), "--generate-bash-completion")
		r := runBin(t, t.TempDir(), nil, args...)
		got := strings.Fields(r.stdout)
		if r.code != 0 {
			t.Errorf("%s: deskfleet %s: exit %d, stderr %q", tt.reason, strings.Join(args, " "), r.code, r.stderr)
			continue
		}
		for _, w := range tt.want {
			if !slices.Contains(got, w) {
				t.Errorf("%s: deskfleet %s lists %q, want %q among them", tt.reason, strings.Join(args, " "), got, w)
			}
		}
		for _, w := range tt.absent {
			if slices.Contains(got, w) {
				t.Errorf("%s: deskfleet %s lists %q, want no %q", tt.reason, strings.Join(args, " "), got, w)
			}
		}
	}
}

// TestCompletionBash loads the script as the help says (source <(deskfleet completion bash)), then calls
// its function as bash does on Tab, with COMP_WORDS and COMP_CWORD set, and reads COMPREPLY.
func TestCompletionBash(t *testing.T) {
	bash := needShell(t, "bash")
	tests := []struct {
		reason string
		words  []string // the last one is the word being completed
		want   []string // COMPREPLY, sorted; empty: bash falls back to path completion
	}{
		{"a command prefix", []string{"deskfleet", "pl"}, []string{"plan"}},
		{"two commands share a prefix", []string{"deskfleet", "s"}, []string{"schema", "show", "sim", "state"}},
		{"a flag prefix after a command", []string{"deskfleet", "plan", "--fo"}, []string{"--format"}},
		{"a subcommand", []string{"deskfleet", "state", "sh"}, []string{"show"}},
		{"the shells", []string{"deskfleet", "completion", ""}, []string{"bash", "fish", "zsh"}},
		{"a flag's value is a path, not more flags", []string{"deskfleet", "plan", "-f", ""}, nil},
		{"apply PLANFILE: a path, not urfave's help subcommand", []string{"deskfleet", "apply", ""}, nil},
		{"the program called by a path", []string{binPath, "ap"}, []string{"apply"}},
	}
	for _, tt := range tests {
		script := `source <(deskfleet completion bash) || exit 1
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
_deskfleet_complete || exit 1
printf '%s\n' "${COMPREPLY[@]}" | sort`
		cmd := exec.Command(bash, append([]string{"-c", script, "bash"}, tt.words...)...)
		cmd.Env = append(shellEnv(), "HOME="+t.TempDir())
		out, err := cmd.Output()
		if err != nil {
			t.Errorf("%s: completing %q: %v", tt.reason, tt.words, err)
			continue
		}
		if got := strings.Fields(string(out)); !slices.Equal(got, tt.want) {
			t.Errorf("%s: completing %q gives COMPREPLY %q, want %q", tt.reason, tt.words, got, tt.want)
		}
	}
}

// TestCompletionFish asks fish what it would offer (complete -C) with the script loaded; skipped
// without fish.
func TestCompletionFish(t *testing.T) {
	fish := needShell(t, "fish")
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "fleet"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		reason string
		line   string
		want   []string // the candidates, before any tab and description
	}{
		{"a command prefix, with its usage beside it", "deskfleet pl", []string{"plan"}},
		{"a flag prefix", "deskfleet plan --fo", []string{"--format"}},
		{"a subcommand", "deskfleet state sh", []string{"show"}},
		{"a flag's value is a path", "deskfleet plan -f fl", []string{"fleet/"}},
	}
	for _, tt := range tests {
		r := runBin(t, dir, nil, "completion", "fish")
		cmd := exec.Command(fish, "--no-config", "-c", r.stdout+"\ncomplete -C $argv[1]", tt.line)
		cmd.Dir = dir
		cmd.Env = append(shellEnv(), "HOME="+dir)
		out, err := cmd.Output()
		if err != nil {
			t.Errorf("%s: completing %q: %v", tt.reason, tt.line, err)
			continue
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			name, desc, _ := strings.Cut(l, "\t")
			if tt.line == "deskfleet pl" && desc == "" {
				t.Errorf("%s: %q has no description", tt.reason, name)
			}
			got = append(got, name)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: completing %q gives %q, want %q", tt.reason, tt.line, got, tt.want)
		}
	}
}

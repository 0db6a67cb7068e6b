package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The README's tutorial is executable documentation: TestREADMETutorial runs its commands, in order,
// in one shell in an empty folder, against the in-process emulator, and checks that each prints what
// the README shows and exits as it says.
//
// The tutorial is the part of README.md between the markers below. In it:
//   - a ```yaml block whose first line is "# PATH" is written to PATH (a later block for the same
//     PATH replaces it: the reader edits the file);
//   - in a ```console block, a line "$ COMMAND" is run; "# exits N" at its end says the exit code
//     it must end with (0 when absent); the lines after it, up to the next "$", are an excerpt of its
//     output (stdout and stderr together): each must appear in the output, in order, as part of a
//     line; a line "..." stands for lines not shown.
const (
	tutorialBegin = "<!-- tutorial:begin -->"
	tutorialEnd   = "<!-- tutorial:end -->"
)

// tutorialStep is one thing the reader does: write a file, or run a command.
type tutorialStep struct {
	line     int    // in README.md
	file     string // a file to write, or ""
	content  string
	command  string
	exitCode int
	excerpt  []string
}

var exitsComment = regexp.MustCompile(`\s+#\s*exits\s+(\d+)\b.*$`)

// readTutorial parses the tutorial out of the README.
func readTutorial(t *testing.T, readme string) []tutorialStep {
	t.Helper()
	data, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	var (
		steps      []tutorialStep
		inTutorial bool
		fence      string // the open block's info string, "" outside blocks
		block      []string
		blockLine  int
	)
	flush := func() {
		switch fence {
		case "yaml":
			if len(block) > 0 && strings.HasPrefix(block[0], "# ") {
				steps = append(steps, tutorialStep{line: blockLine, file: strings.TrimPrefix(block[0], "# "),
					content: strings.Join(block, "\n") + "\n"})
			}
		case "console":
			for i, l := range block {
				if strings.HasPrefix(l, "$ ") {
					cmd := strings.TrimPrefix(l, "$ ")
					st := tutorialStep{line: blockLine + 1 + i, command: cmd}
					if m := exitsComment.FindStringSubmatch(cmd); m != nil {
						st.exitCode, _ = strconv.Atoi(m[1])
					}
					steps = append(steps, st)
					continue
				}
				if len(steps) == 0 || steps[len(steps)-1].command == "" {
					t.Fatalf("README.md:%d: output line before any command: %q", blockLine+1+i, l)
				}
				if strings.TrimSpace(l) != "" {
					steps[len(steps)-1].excerpt = append(steps[len(steps)-1].excerpt, strings.TrimRight(l, " "))
				}
			}
		}
	}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		switch {
		case strings.TrimSpace(l) == tutorialBegin:
			inTutorial = true
		case strings.TrimSpace(l) == tutorialEnd:
			inTutorial = false
		case !inTutorial:
		case strings.HasPrefix(l, "```") && fence == "" && len(l) > 3:
			fence, block, blockLine = strings.TrimPrefix(l, "```"), nil, n
		case strings.HasPrefix(l, "```") && fence != "":
			flush()
			fence = ""
		case fence != "":
			block = append(block, l)
		}
	}
	if len(steps) == 0 {
		t.Fatalf("README.md has no tutorial between %s and %s", tutorialBegin, tutorialEnd)
	}
	return steps
}

func TestREADMETutorial(t *testing.T) {
	steps := readTutorial(t, filepath.Join("..", "..", "README.md"))
	dir := t.TempDir()

	// One shell for the whole tutorial, so that cd and export carry over as they do for a reader;
	// each command's output and exit code are delimited by markers the shell prints.
	var script strings.Builder
	script.WriteString("set +e\n")
	var commands []tutorialStep
	for _, st := range steps {
		if st.file != "" {
			// Files are written by the shell at their turn, so a later block can replace one.
			fmt.Fprintf(&script, "mkdir -p %q && cat > %q <<'DESKFLEET_TUTORIAL_EOF'\n%sDESKFLEET_TUTORIAL_EOF\n",
				filepath.Dir(st.file), st.file, st.content)
			continue
		}
		fmt.Fprintf(&script, "echo '@@begin %d'\n%s\necho \"@@exit %d $?\"\n", len(commands), st.command, len(commands))
		commands = append(commands, st)
	}

	cmd := exec.Command("bash", "-c", script.String())
	cmd.Dir = dir
	cmd.Env = cliEnv(
		"HOME="+dir,
		"NO_COLOR=1",
		// The emulator's tasks take 2s for a reader; the test does not wait that long.
		"DESKFLEET_SIM_TASK_TIME=50ms", "DESKFLEET_POLL_INTERVAL=20ms",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the tutorial's shell failed: %v\n%s", err, out)
	}

	outputs, codes := splitTutorialOutput(t, string(out), len(commands))
	for i, st := range commands {
		got := outputs[i]
		if codes[i] != st.exitCode {
			t.Errorf("README.md:%d: %q exited %d, the README says %d; its output:\n%s", st.line, st.command, codes[i], st.exitCode, got)
			continue
		}
		if missing, ok := excerptIn(st.excerpt, got); !ok {
			t.Errorf("README.md:%d: %q: the README shows %q, not in its output (in that order):\n%s", st.line, st.command, missing, got)
		}
	}
}

// splitTutorialOutput cuts the shell's output at the markers into each command's output and exit code.
func splitTutorialOutput(t *testing.T, out string, n int) ([]string, []int) {
	t.Helper()
	outputs, codes := make([]string, n), make([]int, n)
	seen := make([]bool, n)
	cur := -1
	var b strings.Builder
	for _, l := range strings.SplitAfter(out, "\n") {
		var i, code int
		switch {
		case strings.HasPrefix(l, "@@begin "):
			if _, err := fmt.Sscanf(l, "@@begin %d", &i); err != nil {
				t.Fatal(err)
			}
			cur = i
			b.Reset()
		case strings.HasPrefix(l, "@@exit "):
			if _, err := fmt.Sscanf(l, "@@exit %d %d", &i, &code); err != nil || i != cur {
				t.Fatalf("tutorial output markers out of order at %q", l)
			}
			outputs[i], codes[i], seen[i] = b.String(), code, true
		default:
			b.WriteString(l)
		}
	}
	for i := range seen {
		if !seen[i] {
			t.Fatalf("tutorial command %d did not finish; the shell printed:\n%s", i, out)
		}
	}
	return outputs, codes
}

// excerptIn reports whether each excerpt line is part of an output line, in order ("..." skips);
// when not, it returns the first line not found.
func excerptIn(excerpt []string, output string) (string, bool) {
	lines := strings.Split(output, "\n")
	at := 0
	for _, want := range excerpt {
		if strings.TrimSpace(want) == "..." {
			continue
		}
		found := false
		for at < len(lines) {
			l := strings.TrimRight(lines[at], " ")
			at++
			if strings.Contains(l, want) {
				found = true
				break
			}
		}
		if !found {
			return want, false
		}
	}
	return "", true
}

func TestExcerptIn(t *testing.T) {
	cases := []struct {
		reason  string
		excerpt []string
		output  string
		want    bool
	}{
		{"every line present in order", []string{"a", "c"}, "a\nb\nc\n", true},
		{"a part of a line is enough", []string{"plan: 3"}, "Plan: 1\nplan: 3 to create\n", true},
		{"order matters", []string{"c", "a"}, "a\nb\nc\n", false},
		{"a missing line fails", []string{"a", "x"}, "a\nb\n", false},
		{"... stands for lines not shown", []string{"a", "...", "c"}, "a\nb\nc\n", true},
		{"each excerpt line takes its own output line", []string{"a", "a"}, "a\n", false},
	}
	for _, tc := range cases {
		if _, got := excerptIn(tc.excerpt, tc.output); got != tc.want {
			t.Errorf("%s: excerptIn(%q) = %v, want %v", tc.reason, tc.excerpt, got, tc.want)
		}
	}
}

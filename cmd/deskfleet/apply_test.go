package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/deskfleet/deskfleet/provider/sim"
)

// fastSim makes `--endpoint sim` tasks short and polling quick, so scenarios run in seconds.
var fastSim = []string{"DESKFLEET_SIM_TASK_TIME=50ms", "DESKFLEET_POLL_INTERVAL=20ms"}

// desktopCounts returns how many live desktops carry each name.
func desktopCounts(t *testing.T, dir string) map[string]int {
	counts := map[string]int{}
	simConsole(t, dir, func(s *sim.Sim) {
		for _, d := range s.Desktops() {
			if d.Status != "deleted" {
				counts[d.Name]++
			}
		}
	})
	return counts
}

func copyExample(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", name, "fleet.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "fleet.yaml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func mustRun(t *testing.T, dir string, wantCode int, args ...string) result {
	t.Helper()
	r := runBin(t, dir, fastSim, args...)
	if r.code != wantCode {
		t.Fatalf("deskfleet %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, wantCode, r.stdout, r.stderr)
	}
	return r
}

func planIsEmpty(t *testing.T, dir string, why string) {
	t.Helper()
	r := mustRun(t, dir, 0, "plan", "--endpoint", "sim", "--detailed-exitcode")
	if !strings.Contains(r.stdout, "No changes") {
		t.Fatalf("%s: plan again is not empty:\n%s", why, r.stdout)
	}
}

// TestCLIApplyExamples applies every example on the emulator, then plans again (no changes); then the
// state file is lost and the plan adopts everything by name and creates nothing twice.
func TestCLIApplyExamples(t *testing.T) {
	for _, ex := range []string{"studio", "render-farm", "classroom"} {
		t.Run(ex, func(t *testing.T) {
			t.Parallel()
			dir := copyExample(t, ex)
			r := mustRun(t, dir, 0, "apply", "--endpoint", "sim", "--auto-approve")
			if !strings.Contains(r.stdout, "to create") {
				t.Fatalf("apply printed no plan:\n%s", r.stdout)
			}
			planIsEmpty(t, dir, "after apply")
			before := desktopCounts(t, dir)
			for name, n := range before {
				if n != 1 {
					t.Errorf("%d desktops named %s", n, name)
				}
			}

			if err := os.Remove(filepath.Join(dir, ".deskfleet", "state.db")); err != nil {
				t.Fatal(err)
			}
			r = mustRun(t, dir, 0, "apply", "--endpoint", "sim", "--auto-approve")
			if strings.Contains(r.stdout, "to create") || !strings.Contains(r.stdout, "to adopt") {
				t.Fatalf("after losing the state, apply must adopt and create nothing:\n%s", r.stdout)
			}
			planIsEmpty(t, dir, "after adopting")
			after := desktopCounts(t, dir)
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("desktops changed by the adoption (-before +after):\n%s", diff)
			}
		})
	}
}

const oobSpec = `version: 1
fleet: oob
defaults: {site: 宿迁A, profile: win}
profiles:
  win: {product: {gpu: NVIDIA A5000, os: windows}, image: Windows10-公共镜像-图像处理型}
accounts:
  - {email: alice@example.com, name: alice}
  - {email: bob@example.com, name: bob}
desktops:
  - {name: cad, count: 2, label: team-a, power: on}
  - {name: vault, protect: true}
bindings:
  cad: alice@example.com
  cad_001: bob@example.com
`

// TestCLIConcurrentApplies starts two applies on one state: one proceeds, the other exits 4 at once
// (--lock-timeout 0) naming the holder; how long it took is logged.
func TestCLIConcurrentApplies(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(oobSpec), 0o644))
	env := cliEnv("HOME="+dir, "DESKFLEET_SIM_TASK_TIME=1s", "DESKFLEET_POLL_INTERVAL=50ms")
	first := exec.Command(binPath, "apply", "--endpoint", "sim", "--auto-approve")
	first.Dir, first.Env = dir, env
	var out1 lockedBuffer
	first.Stdout, first.Stderr = &out1, &out1
	must(t, first.Start())
	// Wait until the first holds the lock (its plan is printed).
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out1.String(), "Plan:") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	r := runBin(t, dir, []string{"DESKFLEET_SIM_TASK_TIME=1s"}, "apply", "--endpoint", "sim", "--auto-approve")
	took := time.Since(start)
	if err := first.Wait(); err != nil {
		t.Fatalf("the first apply failed: %v\n%s", err, out1.String())
	}
	if r.code != exitLockHeld || !regexp.MustCompile(`locked by \S+@\S+ \(pid \d+, deskfleet apply`).MatchString(r.stderr) {
		t.Fatalf("second apply: exit %d (want 4), stderr:\n%s", r.code, r.stderr)
	}
	// Reported, not asserted (no test fails on a wall-clock threshold): the lock is read once, without
	// waiting, so this is process start and reading the spec.
	t.Logf("the second apply gave up after %v", took.Round(time.Millisecond))
}

// TestCLICrashResume kills apply (SIGKILL, through the DESKFLEET_CRASH_AFTER_INTENT hook) right after
// each of the first ten intents it records, then applies again: it converges every time with no
// duplicate desktop, none deleted, and an empty plan after.
func TestCLICrashResume(t *testing.T) {
	// Ten mutating calls: accounts, three creates, a power-off, three binds, two labels.
	const spec = `version: 1
fleet: crash
defaults: {site: 宿迁A, profile: win}
profiles:
  win: {product: {gpu: NVIDIA A5000, os: windows}, image: Windows10-公共镜像-图像处理型}
accounts:
  - {email: a@example.com, name: a}
  - {email: b@example.com, name: b}
  - {email: c@example.com, name: c}
desktops:
  - {name: cad, count: 3, label: team-a, power: off}
  - {name: lab, count: 2, label: team-b, power: on}
  - {name: vault, protect: true}
bindings:
  cad: a@example.com
  cad_001: b@example.com
  cad_002: c@example.com
  lab: a@example.com
  lab_001: b@example.com
`
	for n := 1; n <= 10; n++ {
		t.Run(fmt.Sprintf("after-intent-%d", n), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			must(t, os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(spec), 0o644))
			r := runBin(t, dir, append([]string{fmt.Sprintf("DESKFLEET_CRASH_AFTER_INTENT=%d", n)}, fastSim...),
				"apply", "--endpoint", "sim", "--auto-approve")
			if r.code == 0 {
				t.Fatalf("the run ended before intent %d: the scenario has fewer intents than the test needs", n)
			}
			second := mustRun(t, dir, 0, "apply", "--endpoint", "sim", "--auto-approve")
			// Before waiting on the killed run's calls, apply says it does (a task can take minutes).
			notice, settled := strings.Index(second.stdout, " of an earlier run (waiting"), strings.Index(second.stdout, "settled ")
			if notice < 0 || settled < 0 || notice > settled {
				t.Errorf("the second apply did not say it was settling the earlier run's calls before settling them:\n%s", second.stdout)
			}
			planIsEmpty(t, dir, "after the crash and a second apply")
			counts := desktopCounts(t, dir)
			for _, name := range []string{"cad", "cad_001", "cad_002", "lab", "lab_001", "vault"} {
				if counts[name] != 1 {
					t.Errorf("%d live desktops named %s, want 1 (all: %v)", counts[name], name, counts)
				}
			}
			if len(counts) != 6 {
				t.Errorf("want exactly 6 desktops, live: %v", counts)
			}
		})
	}
}

// lockedBuffer is a buffer a child process writes to while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestCLIApplyEditedPlan: a saved plan is an approval of exactly its steps. A plan file edited by hand
// (a step's label changed, a guard removed), a spec changed since the plan, or -f naming another spec
// exits 7 naming what differs, and nothing is applied; the plan as saved still applies.
func TestCLIApplyEditedPlan(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(oobSpec), 0o644))
	mustRun(t, dir, 0, "apply", "--endpoint", "sim", "--auto-approve")
	relabelled := strings.Replace(oobSpec, "team-a", "team-b", 1)
	must(t, os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(relabelled), 0o644))
	mustRun(t, dir, 0, "plan", "--endpoint", "sim", "--out", "plan.json")
	raw, err := os.ReadFile(filepath.Join(dir, "plan.json"))
	must(t, err)
	cases := []struct {
		name, reason string
		edit         func(string) string
		args         []string
		want         string
	}{
		{name: "label edited", reason: "a step's label changed by hand is not the plan the spec gives",
			edit: func(s string) string { return strings.ReplaceAll(s, `"label": "team-b"`, `"label": "evil"`) }, want: "differs"},
		{name: "spec changed", reason: "a spec edited after the plan makes it stale",
			edit: func(s string) string { return s },
			args: nil, want: "the spec changed"},
		{name: "-f names another spec", reason: "-f with a PLANFILE must name the plan's spec",
			edit: func(s string) string { return s }, args: []string{"-f", "other.yaml"}, want: "not the one the plan was made from"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			must(t, os.WriteFile(filepath.Join(dir, "edited.json"), []byte(tc.edit(string(raw))), 0o600))
			spec := relabelled
			if tc.name == "spec changed" {
				spec = strings.Replace(relabelled, "team-b", "team-c", 1)
			}
			must(t, os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(spec), 0o644))
			must(t, os.WriteFile(filepath.Join(dir, "other.yaml"), []byte(relabelled+"\n# another file\n"), 0o644))
			args := append([]string{"apply", "--endpoint", "sim", "--auto-approve"}, tc.args...)
			r := mustRun(t, dir, exitStalePlan, append(args, "edited.json")...)
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("%s: want %q in:\n%s", tc.reason, tc.want, r.stderr)
			}
		})
	}
	must(t, os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(relabelled), 0o644))
	must(t, os.Remove(filepath.Join(dir, "other.yaml")))
	mustRun(t, dir, 0, "apply", "--endpoint", "sim", "--auto-approve", "plan.json")
	planIsEmpty(t, dir, "after applying the plan as saved")
}

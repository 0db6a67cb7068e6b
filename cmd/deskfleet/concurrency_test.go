package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/internal/pgtest"
)

// TestCLIManyConcurrentApplies starts 2 and then 16 applies of one fleet at once, on each kind of
// shared state (a file, PostgreSQL): exactly one proceeds and applies; every other exits 4 naming a
// holder (user@host, pid, command, since), and the fleet ends converged with each desktop made once.
// How long the losers took is logged, not asserted (no test fails on a wall-clock threshold).
func TestCLIManyConcurrentApplies(t *testing.T) {
	stores := []struct {
		name, reason string
		location     func(t *testing.T, dir string) string
	}{
		{"file", "one bbolt file on one machine: its lock record is taken in a write transaction",
			func(t *testing.T, dir string) string { return filepath.Join(dir, "state.db") }},
		{"postgres", "one database for every runner: its advisory lock decides",
			func(t *testing.T, dir string) string { return pgtest.DSN(t) }},
	}
	holderRe := regexp.MustCompile(`locked by \S+@\S+ \(pid \d+, deskfleet apply, since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)`)
	for _, st := range stores {
		for _, n := range []int{2, 16} {
			t.Run(fmt.Sprintf("%s/%d", st.name, n), func(t *testing.T) {
				dir := t.TempDir()
				must(t, os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(oobSpec), 0o644))
				stateEnv := "DESKFLEET_STATE=" + st.location(t, dir)
				env := cliEnv("HOME="+dir, stateEnv,
					// Tasks of 2s: the winner holds the lock for several seconds while every other process starts
					// and tries (they took at most 0.4s here; the margin is for a loaded machine).
					"DESKFLEET_SIM_TASK_TIME=2s", "DESKFLEET_POLL_INTERVAL=50ms")

				type outcome struct {
					code int
					out  string
					took time.Duration
				}
				outcomes := make([]outcome, n)
				start := make(chan struct{})
				var wg sync.WaitGroup
				for i := range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						cmd := exec.Command(binPath, "apply", "--endpoint", "sim", "--auto-approve")
						cmd.Dir, cmd.Env = dir, env
						var out bytes.Buffer
						cmd.Stdout, cmd.Stderr = &out, &out
						<-start
						began := time.Now()
						err := cmd.Run()
						o := outcome{out: out.String(), took: time.Since(began)}
						if ee, ok := err.(*exec.ExitError); ok {
							o.code = ee.ExitCode()
						} else if err != nil {
							o.code = -1
							o.out += err.Error()
						}
						outcomes[i] = o
					}()
				}
				close(start)
				wg.Wait()

				var winners int
				var losersTook []time.Duration
				for i, o := range outcomes {
					switch {
					case o.code == 0 && strings.Contains(o.out, "Apply done"):
						winners++
					case o.code == exitLockHeld && holderRe.MatchString(o.out):
						losersTook = append(losersTook, o.took)
					default:
						t.Errorf("%s: apply %d of %d: exit %d, want 0 (the one that proceeds) or 4 naming the holder:\n%s",
							st.reason, i, n, o.code, o.out)
					}
				}
				if winners != 1 {
					t.Fatalf("%s: %d of %d concurrent applies proceeded, want exactly 1", st.reason, winners, n)
				}
				sort.Slice(losersTook, func(i, j int) bool { return losersTook[i] < losersTook[j] })
				if len(losersTook) > 0 {
					t.Logf("%d losers exited 4 after %v (fastest) to %v (slowest), process start included",
						len(losersTook), losersTook[0].Round(time.Millisecond), losersTook[len(losersTook)-1].Round(time.Millisecond))
				}
				counts := desktopCounts(t, dir)
				for _, name := range []string{"cad", "cad_001", "vault"} {
					if counts[name] != 1 {
						t.Errorf("%d live desktops named %s, want 1 (all: %v)", counts[name], name, counts)
					}
				}
				r := runBin(t, dir, append([]string{stateEnv}, fastSim...), "plan", "--endpoint", "sim", "--detailed-exitcode")
				if r.code != 0 || !strings.Contains(r.stdout, "No changes") {
					t.Fatalf("plan after the concurrent applies: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
				}
			})
		}
	}
}

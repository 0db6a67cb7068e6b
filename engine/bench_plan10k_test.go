//go:build linux

package engine_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/engine/render"
	"github.com/deskfleet/deskfleet/provider/gcw"
	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/bolt"
)

// The child process of BenchmarkPlan10000 is this test binary, run with planChildEnv set to the
// emulator's endpoint and planChildDirEnv to the folder of the spec (fleet.yaml) and the state file
// (state.db).
const (
	planChildEnv    = "DESKFLEET_BENCH_PLAN_ENDPOINT"
	planChildDirEnv = "DESKFLEET_BENCH_PLAN_DIR"
)

// BenchmarkPlan10000 measures a whole plan of 10,000 in-sync desktops as a process: a child process
// (this test binary, TestPlanProcessChild) loads the spec from its file, opens the state file,
// reads the catalog and the 10,000 desktops from the emulator (served by this process, over
// loopback, without latency), resolves, diffs, prices and renders the plan as text, and exits. Its
// CPU time (user + system, from the kernel's rusage of the child: every goroutine and the garbage
// collector, the emulator not included) and its peak resident memory are docs/performance.md's
// figures: under 1 s of CPU (cpu) and under 200 MiB (memory). Linux only (ru_maxrss in KiB).
func BenchmarkPlan10000(b *testing.B) {
	const n = 10000
	_, s, _, rec := benchFleet(b, n, 0, 16)
	src, _ := inSyncSource(n)
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(src), 0o600); err != nil {
		b.Fatal(err)
	}
	writeState(b, filepath.Join(dir, "state.db"), rec)
	srv := httptest.NewServer(s)
	b.Cleanup(srv.Close)
	run := func(b *testing.B) (cpu time.Duration, rss int64) {
		for range b.N {
			c, r := planChild(b, srv.URL, dir)
			cpu += c
			rss = max(rss, r)
		}
		return cpu / time.Duration(b.N), rss
	}
	b.Run("cpu", func(b *testing.B) {
		cpu, rss := run(b)
		b.ReportMetric(cpu.Seconds(), "cpu_s/op")
		b.ReportMetric(float64(rss)/(1<<20), "MiB_peak_rss")
		b.ReportMetric(cpu.Seconds()/1, "x_bound")
		b.ReportMetric(1, "limit_x")
	})
	b.Run("memory", func(b *testing.B) {
		_, rss := run(b)
		b.ReportMetric(float64(rss)/(1<<20), "MiB_peak_rss")
		b.ReportMetric(float64(rss)/float64(200<<20), "x_bound")
		b.ReportMetric(1, "limit_x")
	})
}

// planChild runs one plan as a child process and returns its CPU time and peak resident memory
// (bytes). It fails unless the child planned no change.
func planChild(b *testing.B, endpoint, dir string) (time.Duration, int64) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestPlanProcessChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), planChildEnv+"="+endpoint, planChildDirEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("plan process: %v\n%s", err, out)
	}
	if testing.Verbose() {
		b.Logf("%s", out)
	}
	if !strings.Contains(string(out), "planned 0 steps") {
		b.Fatalf("the plan process did not plan an in-sync fleet:\n%s", out)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		b.Fatal("no rusage for the plan process")
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return cpu, ru.Maxrss << 10
}

// TestPlanProcessChild is BenchmarkPlan10000's child process; skipped otherwise. It does what
// `deskfleet plan` does: load the spec, open the state file, plan, render the plan as text.
func TestPlanProcessChild(t *testing.T) {
	endpoint := os.Getenv(planChildEnv)
	if endpoint == "" {
		t.Skip("run by BenchmarkPlan10000 as its child process")
	}
	dir := os.Getenv(planChildDirEnv)
	ctx := context.Background()
	sp, err := engine.LoadSpec([]string{filepath.Join(dir, "fleet.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	st, err := bolt.Open(filepath.Join(dir, "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := gcw.New(gcw.Config{Endpoint: endpoint, AccessKeyID: "bench", Secret: "bench-secret", MaxConcurrent: 8})
	if err != nil {
		t.Fatal(err)
	}
	s := &engine.Session{Client: c, Store: st, Parallelism: 8, Calls: c.Requests}
	p, err := s.Plan(ctx, sp, engine.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(io.Discard)
	if err := render.Text(w, p, render.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("planned %d steps, %d desktops read in %d calls\n", len(p.Steps), p.Reads.Desktops, p.Reads.Calls)
}

// writeState writes rec as fleet bench's record in a new state file at path.
func writeState(tb testing.TB, path string, rec *state.Record) {
	tb.Helper()
	st, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	seedRecord(tb, st, rec)
}

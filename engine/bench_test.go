package engine_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/provider/gcw"
	"github.com/deskfleet/deskfleet/provider/sim"
	"github.com/deskfleet/deskfleet/spec"
	"github.com/deskfleet/deskfleet/state"
)

// inSyncSource is the spec of n desktops in groups of at most spec.MaxCount (ws0, ws0_001, ..., ws1,
// ...), one label, powered on, and the desktops' names.
func inSyncSource(n int) (string, []string) {
	src := `version: 1
fleet: bench
defaults: {site: 宿迁A}
profiles:
  win: {product: {gpu: NVIDIA A5000, os: windows}, image: Windows10-公共镜像-图像处理型}
desktops:
`
	var names []string
	for g := 0; g*spec.MaxCount < n; g++ {
		count := min(spec.MaxCount, n-g*spec.MaxCount)
		src += fmt.Sprintf("  - {name: ws%d, count: %d, profile: win, label: lab, power: on}\n", g, count)
		for i := range count {
			names = append(names, spec.DesktopName(fmt.Sprintf("ws%d", g), i))
		}
	}
	return src, names
}

// benchFleet is an in-sync fleet of n desktops: a spec of one group, the emulator holding exactly those
// desktops, and a state record that manages them.
func benchFleet(b testing.TB, n int, latency time.Duration, parallelism int) (*spec.Fleet, *sim.Sim, provider.Client, *state.Record) {
	b.Helper()
	src, names := inSyncSource(n)
	fl, diags := spec.Parse("bench.yaml", []byte(src))
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	s, err := sim.New(sim.Options{Latency: latency, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	net, _ := s.DefaultNet(sim.SiteSuqianA)
	rec := &state.Record{Fleet: "bench", Desktops: map[string]state.Desktop{}}
	label := "lab"
	for i, name := range names {
		id, err := s.AddDesktop(sim.Desktop{ID: fmt.Sprintf("vm-%05d", i), Name: name, SiteID: sim.SiteSuqianA,
			ProductID: sim.ProductA5000Win, ImageID: sim.ImageWin10, VPCID: net.ID, Qos: 5, Label: label,
			Status: sim.StatusRunning})
		if err != nil {
			b.Fatal(err)
		}
		rec.Desktops[id] = state.Desktop{VmID: id, Name: name, ImageID: sim.ImageWin10, Label: &label, Power: "on"}
	}
	srv := httptest.NewServer(s)
	b.Cleanup(srv.Close)
	c, err := gcw.New(gcw.Config{Endpoint: srv.URL, AccessKeyID: "bench", Secret: "bench-secret", Rate: -1,
		MaxConcurrent: parallelism})
	if err != nil {
		b.Fatal(err)
	}
	s.ResetCalls()
	return fl, s, c, rec
}

// readPlan is the planner's read path and decision: catalog, observe, resolve, diff.
func readPlan(tb testing.TB, fl *spec.Fleet, c provider.Client, rec *state.Record, parallelism int) *engine.Plan {
	tb.Helper()
	ctx := context.Background()
	cat, err := engine.ReadCatalog(ctx, c, fl)
	if err != nil {
		tb.Fatal(err)
	}
	snap, err := engine.Observe(ctx, c, engine.ObserveOptions{SiteIDs: cat.SiteIDs(fl), Parallelism: parallelism})
	if err != nil {
		tb.Fatal(err)
	}
	d, diags := engine.Resolve(fl, cat, snap)
	if diags.HasErrors() {
		tb.Fatal(diags)
	}
	return engine.Diff(d, snap, rec, engine.Options{})
}

// readFloor is the least wall time reading n desktops can take, from the workload alone: one read
// per desktop, parallelism at a time, each one request of latency.
func readFloor(n, parallelism int, latency time.Duration) time.Duration {
	return time.Duration((n+parallelism-1)/parallelism) * latency
}

// maxPlanCalls is the most requests a plan of n in-sync desktops may make (docs/performance.md): one
// read per desktop, plus 8 for the catalog and the lists.
func maxPlanCalls(n int) int { return n + 8 }

// BenchmarkPlanInSync plans 1,000 in-sync desktops on the emulator with 20 ms per request and reports
// the wall time as a ratio to docs/performance.md's bound, readFloor (1,000 reads / parallelism x
// latency), within 1.5x; it fails when a plan makes more than maxPlanCalls requests.
func BenchmarkPlanInSync(b *testing.B) {
	const n, parallelism, latency = 1000, 8, 20 * time.Millisecond
	fl, s, c, rec := benchFleet(b, n, latency, parallelism)
	var cpu0, cpu1 runtime.MemStats
	runtime.ReadMemStats(&cpu0)
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if p := readPlan(b, fl, c, rec, parallelism); !p.Empty() {
			b.Fatalf("an in-sync fleet planned %d changes, %d steps", len(p.Changes), len(p.Steps))
		}
	}
	elapsed := time.Since(start) / time.Duration(b.N)
	b.StopTimer()
	runtime.ReadMemStats(&cpu1)
	reads := 0
	for _, k := range s.Calls() {
		reads += k
	}
	reads /= b.N
	if reads > maxPlanCalls(n) {
		b.Fatalf("a plan of %d in-sync desktops made %d requests, at most %d allowed", n, reads, maxPlanCalls(n))
	}
	bound := readFloor(n, parallelism, latency)
	b.ReportMetric(float64(reads), "reads/op")
	b.ReportMetric(float64(cpu1.TotalAlloc-cpu0.TotalAlloc)/float64(b.N)/(1<<20), "MiB_alloc/op")
	b.ReportMetric(float64(elapsed)/float64(bound), "x_bound")
	b.ReportMetric(1.5, "limit_x")
}

// observed10000 is an in-sync fleet of 10,000 desktops read once (catalog and snapshot), with a
// changed label on every tenth desktop so the diff has work to batch.
func observed10000(b *testing.B) (*spec.Fleet, *engine.Catalog, *provider.Snapshot, *state.Record) {
	fl, _, c, rec := benchFleet(b, 10000, 0, 16)
	ctx := context.Background()
	cat, err := engine.ReadCatalog(ctx, c, fl)
	if err != nil {
		b.Fatal(err)
	}
	snap, err := engine.Observe(ctx, c, engine.ObserveOptions{SiteIDs: cat.SiteIDs(fl), Parallelism: 16})
	if err != nil {
		b.Fatal(err)
	}
	for i := range snap.Desktops {
		if i%10 == 0 {
			snap.Desktops[i].Label = "old"
		}
	}
	return fl, cat, provider.NewSnapshot(snap.TakenAt, snap.Desktops, snap.Accounts, snap.Networks, snap.Expiring), rec
}

// BenchmarkDiff10000 plans 10,000 desktops from a snapshot already read (resolve and diff: the
// planner's own work, without reading, pricing or rendering), for profiling (-cpuprofile). It has no
// bound: docs/performance.md's figure is the whole process's CPU and memory, BenchmarkPlan10000.
func BenchmarkDiff10000(b *testing.B) {
	fl, cat, snap, rec := observed10000(b)
	// 1,000 labels to change: UpdateVmLabels steps of at most the batch limit.
	want := (1000 + engine.DefaultBatchLimits.UpdateVmLabels - 1) / engine.DefaultBatchLimits.UpdateVmLabels
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	b.ResetTimer()
	var p *engine.Plan
	for range b.N {
		d, diags := engine.Resolve(fl, cat, snap)
		if diags.HasErrors() {
			b.Fatal(diags)
		}
		p = engine.Diff(d, snap, rec, engine.Options{})
	}
	b.StopTimer()
	runtime.ReadMemStats(&m1)
	if len(p.Steps) != want {
		b.Fatalf("want %d batched UpdateVmLabels steps, got %d steps", want, len(p.Steps))
	}
	b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/float64(b.N)/(1<<20), "MiB_alloc/op")
}

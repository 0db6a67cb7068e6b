package contract_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/provider/gcw"
	"github.com/deskfleet/deskfleet/provider/sim"
)

// BenchmarkListAndRead measures what the planner's observe step will cost: QueryVms, then QueryVm for
// every desktop with bounded parallelism, through the real client against the emulator with a fixed
// latency per request. It reports the wall time as a ratio to the bound of docs/performance.md
// (reads / parallelism x latency); at 1.0 the client adds nothing to the network's own cost.
func BenchmarkListAndRead(b *testing.B) {
	for _, tc := range []struct {
		desktops, parallelism int
		latency               time.Duration
	}{
		{1000, 8, 20 * time.Millisecond},
		{200, 16, 20 * time.Millisecond},
		{10000, 8, 0}, // no latency: the cost of client and emulator themselves (docs/emulator.md: scale)
	} {
		b.Run(fmt.Sprintf("desktops=%d/parallelism=%d/latency=%s", tc.desktops, tc.parallelism, tc.latency), func(b *testing.B) {
			benchListAndRead(b, tc.desktops, tc.parallelism, tc.latency)
		})
	}
}

func benchListAndRead(b *testing.B, desktops, parallelism int, latency time.Duration) {
	s, err := sim.New(sim.Options{Keys: map[string]string{"benchAK": "bench-secret"}, Latency: latency, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	for i := range desktops {
		if _, err := s.AddDesktop(sim.Desktop{Name: fmt.Sprintf("ws-%04d", i), SiteID: sim.SiteSuqianA,
			ProductID: sim.ProductA5000Win, ImageID: sim.ImageWin10, Status: sim.StatusRunning, Qos: 5}); err != nil {
			b.Fatal(err)
		}
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c, err := gcw.New(gcw.Config{Endpoint: srv.URL + "/gcw", AccessKeyID: "benchAK", Secret: "bench-secret",
		Rate: -1, MaxConcurrent: parallelism})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		list, err := c.QueryVms(ctx, provider.QueryVmsRequest{})
		if err != nil {
			b.Fatal(err)
		}
		if len(list.VmIDs) != desktops {
			b.Fatalf("QueryVms listed %d desktops, want %d", len(list.VmIDs), desktops)
		}
		ids := make(chan string)
		var wg sync.WaitGroup
		var failed error
		var once sync.Once
		for range parallelism {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for id := range ids {
					if _, err := c.QueryVm(ctx, provider.QueryVmRequest{VmID: id}); err != nil {
						once.Do(func() { failed = err })
					}
				}
			}()
		}
		for _, id := range list.VmIDs {
			ids <- id
		}
		close(ids)
		wg.Wait()
		if failed != nil {
			b.Fatal(failed)
		}
	}
	elapsed := time.Since(start) / time.Duration(b.N)
	reads := desktops + 1
	b.ReportMetric(float64(reads), "reads/op")
	b.ReportMetric(float64(elapsed.Microseconds())/float64(reads), "µs/read")
	if latency > 0 {
		bound := time.Duration((reads+parallelism-1)/parallelism) * latency
		b.ReportMetric(float64(elapsed)/float64(bound), "x_bound")
		b.ReportMetric(1.5, "limit_x") // docs/performance.md: within 1.5x of reads / parallelism x latency
	}
}

package statetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/state"
)

// BenchUpdate is BenchmarkStateUpdate for a store: open returns a fresh, empty store. It fills a
// fleet of 1,000 and one of 10,000 managed desktops (each in a store of its own, with 2,000 journal
// intents), then measures Updates that each close one intent, change one desktop and add the step's
// outcome to the run (a step's record of its finished task), in batches alternating between the two
// fleets so that the machine's noise (fsync, other processes) falls on both alike. It reports the
// median ns per update of each (ns_1000, ns_10000) and their ratio as x_bound, with limit_x 1.5: an
// update that writes what it changed costs the same in both.
func BenchUpdate(b *testing.B, open func(b *testing.B) state.Store) {
	b.Helper()
	b.StopTimer()
	ctx := context.Background()
	sizes := []int{1000, 10000}
	stores := make([]state.Store, len(sizes))
	locks := make([]*state.Lock, len(sizes))
	for i, n := range sizes {
		stores[i] = open(b)
		l, err := stores[i].Lock(ctx, "bench", Holder("bench"), 0)
		if err != nil {
			b.Fatal(err)
		}
		locks[i] = l
		fill(b, stores[i], l, n)
		step(b, stores[i], l, n, 0) // the store may keep the record of a held lock between Updates
	}
	const batch = 10
	samples := make([][]float64, len(sizes))
	// At least 50 batches of each, whatever b.N: the median needs them on a shared machine.
	for round := range max(b.N*5, 50) {
		for i, n := range sizes {
			start := time.Now()
			b.StartTimer()
			for k := range batch {
				step(b, stores[i], locks[i], n, 1+round*batch+k)
			}
			b.StopTimer()
			samples[i] = append(samples[i], float64(time.Since(start).Nanoseconds())/batch)
		}
	}
	for i := range sizes {
		stores[i].Unlock(ctx, locks[i]) //nolint:errcheck // closing
		stores[i].Close()
	}
	med := make([]float64, len(sizes))
	for i, n := range sizes {
		slices.Sort(samples[i])
		med[i] = samples[i][len(samples[i])/2]
		b.ReportMetric(med[i], fmt.Sprintf("ns_%d", n))
	}
	b.ReportMetric(med[1]/med[0], "x_bound")
	b.ReportMetric(1.5, "limit_x")
}

const benchIntents = 2000

func benchID(i int) string { return fmt.Sprintf("vm-%06d", i) }

func fill(b *testing.B, s state.Store, l *state.Lock, n int) {
	b.Helper()
	label, now := "gpu", time.Now().UTC()
	err := s.Update(context.Background(), l, func(r *state.Record) error {
		for i := range n {
			r.PutDesktop(state.Desktop{VmID: benchID(i), Name: fmt.Sprintf("render-%06d", i), ImageID: "img-win10",
				Label: &label, Power: "on", AppliedAt: now})
		}
		r.AppendRun(state.Run{ID: "run-1", User: "bench", Command: "deskfleet apply", StartedAt: now, Outcome: "running"})
		for i := range benchIntents {
			r.AppendIntent(state.Intent{ID: fmt.Sprintf("run-1/%d", i), RunID: "run-1", Step: i, Op: "power_desktops",
				Action: "StopVm", RequestID: fmt.Sprintf("req-%d", i), Targets: []string{fmt.Sprintf("render-%06d", i%n)},
				VmIDs: []string{benchID(i % n)}, Params: []byte(`{"step":{"id":1,"op":{"kind":"power_desktops"}}}`),
				Status: state.IntentSent, TaskID: fmt.Sprintf("task-%d", i), StartedAt: now})
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// step closes intent i (of the journal's) and records desktop i's new power state.
func step(b *testing.B, s state.Store, l *state.Lock, n, i int) {
	err := s.Update(context.Background(), l, func(r *state.Record) error {
		in, ok := r.Intent(fmt.Sprintf("run-1/%d", i%benchIntents))
		if !ok {
			return fmt.Errorf("no intent %d", i)
		}
		in.Status, in.EndedAt = state.IntentDone, time.Now()
		r.SetIntent(in)
		d := r.Desktops[benchID(i%n)]
		d.Power = []string{"on", "off"}[i%2]
		r.PutDesktop(d)
		r.AppendRunStep("run-1", state.StepOutcome{Step: i, Action: "StopVm", Targets: d.Name, Status: "done"})
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

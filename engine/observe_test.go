package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/provider/sim"
)

// withDesktops seeds n desktops at 宿迁A (ids chosen so that creation order is not id order).
func withDesktops(n int) func(*sim.Options) {
	return func(o *sim.Options) {
		c := sim.DefaultCatalog()
		for i := range n {
			c.Desktops = append(c.Desktops, sim.Desktop{
				ID: fmt.Sprintf("vm-%04d", (i*7919)%n), Name: fmt.Sprintf("d%d", i), SiteID: sim.SiteSuqianA,
				ProductID: sim.ProductA5000Win, ImageID: sim.ImageWin10, VPCID: sim.VPCDefaultSuqianA,
				SubnetID: "73d2c7ec-cdcb-11ec-a318-ee97882ecf7d", Qos: 5, Status: sim.StatusRunning,
				PrivateIP: fmt.Sprintf("vlan1704:10.1.%d.%d", i/200, i%200+10),
			})
		}
		o.Catalog = &c
	}
}

// hookClient is a provider.Client whose QueryVm (and QueryVms) can be intercepted.
type hookClient struct {
	provider.Client
	queryVms func(ctx context.Context, req provider.QueryVmsRequest) (*provider.QueryVmsResponse, error)
	queryVm  func(ctx context.Context, req provider.QueryVmRequest) (*provider.Desktop, error)
	defNet   func(ctx context.Context, req provider.GetDefaultNetRequest) (*provider.Network, error)
}

func (h *hookClient) QueryVms(ctx context.Context, req provider.QueryVmsRequest) (*provider.QueryVmsResponse, error) {
	if h.queryVms != nil {
		return h.queryVms(ctx, req)
	}
	return h.Client.QueryVms(ctx, req)
}

func (h *hookClient) QueryVm(ctx context.Context, req provider.QueryVmRequest) (*provider.Desktop, error) {
	if h.queryVm != nil {
		return h.queryVm(ctx, req)
	}
	return h.Client.QueryVm(ctx, req)
}

func (h *hookClient) GetDefaultNet(ctx context.Context, req provider.GetDefaultNetRequest) (*provider.Network, error) {
	if h.defNet != nil {
		return h.defNet(ctx, req)
	}
	return h.Client.GetDefaultNet(ctx, req)
}

func TestObserve(t *testing.T) {
	taken := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		reason    string
		opt       ObserveOptions
		desktops  int
		wantCalls map[provider.Action]int
	}{
		{
			reason:   "every desktop once, accounts, both networks of each site (the sites deduplicated), expiring desktops",
			opt:      ObserveOptions{SiteIDs: []string{sim.SiteXiangyang, sim.SiteSuqianA, sim.SiteXiangyang}},
			desktops: 25,
			wantCalls: map[provider.Action]int{provider.ActionQueryVms: 1, provider.ActionQueryVm: 25,
				provider.ActionQuerySubAccounts: 1, provider.ActionQueryExpireVms: 1,
				provider.ActionGetDefaultNet: 2, provider.ActionGetCustomNet: 2},
		},
		{
			reason:   "parallelism 1 reads the same, one call at a time",
			opt:      ObserveOptions{SiteIDs: []string{sim.SiteSuqianA}, Parallelism: 1},
			desktops: 5,
			wantCalls: map[provider.Action]int{provider.ActionQueryVms: 1, provider.ActionQueryVm: 5,
				provider.ActionQuerySubAccounts: 1, provider.ActionQueryExpireVms: 1,
				provider.ActionGetDefaultNet: 1, provider.ActionGetCustomNet: 1},
		},
		{
			reason:   "SkipDesktops reads accounts and networks only",
			opt:      ObserveOptions{SiteIDs: []string{sim.SiteSuqianA}, SkipDesktops: true},
			desktops: 5,
			wantCalls: map[provider.Action]int{provider.ActionQuerySubAccounts: 1,
				provider.ActionGetDefaultNet: 1, provider.ActionGetCustomNet: 1},
		},
		{
			reason:    "an empty account: no desktops, no sites",
			wantCalls: map[provider.Action]int{provider.ActionQueryVms: 1, provider.ActionQuerySubAccounts: 1, provider.ActionQueryExpireVms: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			e := newReadEnv(t, withDesktops(tt.desktops))
			tt.opt.Now = func() time.Time { return taken }
			snap, err := Observe(t.Context(), e.client, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if got := e.sim.Calls(); !mapsEqual(got, tt.wantCalls) {
				t.Errorf("calls %v, want %v", got, tt.wantCalls)
			}
			if !snap.TakenAt.Equal(taken) {
				t.Errorf("TakenAt %v, want the Now option's %v", snap.TakenAt, taken)
			}
			wantDesktops := tt.desktops
			if tt.opt.SkipDesktops {
				wantDesktops = 0
			}
			if len(snap.Desktops) != wantDesktops {
				t.Fatalf("want %d desktops, got %d", wantDesktops, len(snap.Desktops))
			}
			if !slices.IsSortedFunc(snap.Desktops, func(a, b provider.Desktop) int { return strings.Compare(a.ID, b.ID) }) {
				t.Errorf("desktops must be sorted by id")
			}
			for _, d := range snap.Desktops {
				if d.ID == "" || d.Name == "" || d.SiteID != sim.SiteSuqianA || d.Status != provider.StatusRunning {
					t.Errorf("desktop not read whole: %+v", d)
				}
			}
			if len(snap.Accounts) != 1 || snap.Accounts[0].Email != "17716313367@163.com" {
				t.Errorf("want the seeded account, got %+v", snap.Accounts)
			}
			sites := slices.Compact(slices.Sorted(slices.Values(tt.opt.SiteIDs)))
			if len(snap.Networks) != len(sites) {
				t.Errorf("want one Networks entry per site, got %d", len(snap.Networks))
			}
			for _, s := range sites {
				n, ok := snap.SiteNetworks(s)
				if !ok {
					t.Errorf("no networks for site %s", s)
				}
				switch s {
				case sim.SiteSuqianA:
					if n.Default == nil || n.Default.VpcID != sim.VPCDefaultSuqianA || len(n.Custom) != 1 || n.Custom[0].VpcID != sim.VPCCustomSuqianA {
						t.Errorf("宿迁A: want its default and custom VPC, got %+v", n)
					}
				case sim.SiteXiangyang:
					if n.Default != nil || len(n.Custom) != 0 {
						t.Errorf("襄阳A has no network: want an entry with Default nil, got %+v", n)
					}
				}
			}
		})
	}
}

func TestObserveSkipsVanishedDesktops(t *testing.T) {
	e := newReadEnv(t, withDesktops(10))
	var gone []string
	h := &hookClient{Client: e.client}
	h.queryVms = func(ctx context.Context, req provider.QueryVmsRequest) (*provider.QueryVmsResponse, error) {
		res, err := e.client.QueryVms(ctx, req)
		if err == nil {
			// Deleted by someone else between the listing and the reads: QueryVm answers 10006.
			gone = []string{res.VmIDs[3], res.VmIDs[7]}
			for _, id := range gone {
				if err := e.sim.ConsoleDelete(id); err != nil {
					t.Fatal(err)
				}
			}
		}
		return res, err
	}
	snap, err := Observe(t.Context(), h, ObserveOptions{})
	if err != nil {
		t.Fatalf("a desktop deleted meanwhile is not an error: %v", err)
	}
	if len(snap.Desktops) != 8 {
		t.Fatalf("want the 8 desktops still there, got %d", len(snap.Desktops))
	}
	for _, id := range gone {
		if _, ok := snap.Desktop(id); ok {
			t.Errorf("vanished desktop %s is in the snapshot", id)
		}
	}
	if got := e.sim.Calls()[provider.ActionQueryVm]; got != 10 {
		t.Errorf("want a QueryVm for each listed id (10), got %d", got)
	}
}

func TestObserveErrors(t *testing.T) {
	apiErr := &provider.APIError{Code: provider.CodeQueryNetFailed, Message: "查询失败", Action: provider.ActionGetDefaultNet}
	tests := []struct {
		reason  string
		hook    func(h *hookClient, e *readEnv)
		want    []string
		wantAPI string
	}{
		{
			reason: "a failed network read ends the observation, naming the action and the site",
			hook: func(h *hookClient, e *readEnv) {
				h.defNet = func(context.Context, provider.GetDefaultNetRequest) (*provider.Network, error) { return nil, apiErr }
			},
			want:    []string{"observe: GetDefaultNet site " + sim.SiteSuqianA, "code 13502"},
			wantAPI: provider.CodeQueryNetFailed,
		},
		{
			reason: "a QueryVm failure other than 10006 is an error naming the desktop",
			hook: func(h *hookClient, e *readEnv) {
				h.queryVm = func(ctx context.Context, req provider.QueryVmRequest) (*provider.Desktop, error) {
					if req.VmID == "vm-0004" {
						return nil, &provider.APIError{Code: provider.CodeBadParameters, Action: provider.ActionQueryVm}
					}
					return e.client.QueryVm(ctx, req)
				}
			},
			want:    []string{"observe: QueryVm desktop vm-0004", "code 10003"},
			wantAPI: provider.CodeBadParameters,
		},
		{
			reason: "a failed listing stops before any QueryVm",
			hook: func(h *hookClient, e *readEnv) {
				h.queryVms = func(context.Context, provider.QueryVmsRequest) (*provider.QueryVmsResponse, error) {
					return nil, &provider.APIError{Code: provider.CodeBadParameters, Action: provider.ActionQueryVms}
				}
			},
			want:    []string{"observe: QueryVms"},
			wantAPI: provider.CodeBadParameters,
		},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			e := newReadEnv(t, withDesktops(10))
			h := &hookClient{Client: e.client}
			tt.hook(h, e)
			snap, err := Observe(t.Context(), h, ObserveOptions{SiteIDs: []string{sim.SiteSuqianA}})
			if err == nil || snap != nil {
				t.Fatalf("want an error and no snapshot, got %v, %v", snap, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if ae, ok := provider.AsAPIError(err); !ok || ae.Code != tt.wantAPI {
				t.Errorf("want the API error (code %s) in the chain, got %v", tt.wantAPI, err)
			}
		})
	}
}

// TestObserveBoundedParallelism holds every QueryVm until as many as the bound are in flight: Observe
// must reach the bound (it reads in parallel) and never pass it.
func TestObserveBoundedParallelism(t *testing.T) {
	for _, par := range []int{1, 3, 8} {
		t.Run(fmt.Sprint(par), func(t *testing.T) {
			e := newReadEnv(t, withDesktops(40))
			var inFlight, peak atomic.Int32
			full := make(chan struct{})
			var once sync.Once
			h := &hookClient{Client: e.client}
			h.queryVm = func(ctx context.Context, req provider.QueryVmRequest) (*provider.Desktop, error) {
				n := inFlight.Add(1)
				defer inFlight.Add(-1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				if int(n) == par {
					once.Do(func() { close(full) })
				}
				select {
				case <-full:
				case <-time.After(10 * time.Second):
					return nil, errors.New("the bound was never reached: reads are not parallel")
				case <-ctx.Done():
					return nil, ctx.Err()
				}
				return e.client.QueryVm(ctx, req)
			}
			snap, err := Observe(t.Context(), h, ObserveOptions{Parallelism: par})
			if err != nil {
				t.Fatal(err)
			}
			if len(snap.Desktops) != 40 {
				t.Errorf("want 40 desktops, got %d", len(snap.Desktops))
			}
			if got := peak.Load(); int(got) != par {
				t.Errorf("want at most and at best %d QueryVm in flight, saw %d", par, got)
			}
		})
	}
}

func TestObserveCancel(t *testing.T) {
	e := newReadEnv(t, withDesktops(200))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var calls atomic.Int32
	h := &hookClient{Client: e.client}
	h.queryVm = func(c context.Context, req provider.QueryVmRequest) (*provider.Desktop, error) {
		if calls.Add(1) == 5 {
			cancel()
		}
		return e.client.QueryVm(c, req)
	}
	snap, err := Observe(ctx, h, ObserveOptions{Parallelism: 2})
	if !errors.Is(err, context.Canceled) || snap != nil {
		t.Fatalf("want context.Canceled and no snapshot, got %v, %v", snap, err)
	}
	if n := calls.Load(); n > 10 {
		t.Errorf("cancelling must stop the reads: %d of 200 QueryVm were still made", n)
	}
}

// BenchmarkObserve1000 observes 1000 desktops with 20 ms of latency per call at parallelism 8: about
// one QueryVms and 1000/8 rounds, 2.5 s per observation.
func BenchmarkObserve1000(b *testing.B) {
	e := newReadEnv(b, func(o *sim.Options) {
		withDesktops(1000)(o)
		o.Latency = 20 * time.Millisecond
	})
	for b.Loop() {
		snap, err := Observe(b.Context(), e.client, ObserveOptions{SiteIDs: []string{sim.SiteSuqianA}, Parallelism: 8})
		if err != nil || len(snap.Desktops) != 1000 {
			b.Fatal(len(snap.Desktops), err)
		}
	}
}

package engine

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/deskfleet/deskfleet/provider"
)

// DefaultParallelism is the number of reads Observe keeps in flight when ObserveOptions.Parallelism
// is not set.
const DefaultParallelism = 8

// ObserveOptions say what Observe reads and how many reads it keeps in flight.
type ObserveOptions struct {
	// SiteIDs are the sites whose networks are read (GetDefaultNet and GetCustomNet each); usually
	// Catalog.SiteIDs of the fleet. Duplicates are read once.
	SiteIDs []string
	// Parallelism bounds the reads in flight at once (default DefaultParallelism). The client's own
	// rate limit and concurrency bound apply on top.
	Parallelism int
	// SkipDesktops leaves out QueryVms, QueryVm and QueryExpireVms: the snapshot then has accounts
	// and networks only (enough to resolve a spec, as `validate --online` does).
	SkipDesktops bool
	// Now gives the snapshot's TakenAt, read before the first call; default time.Now.
	Now func() time.Time
}

// Observe reads the live account into a Snapshot: QueryVms (every desktop, no filter), then QueryVm
// for each id, together with QuerySubAccounts, GetDefaultNet and GetCustomNet for each of
// opt.SiteIDs, and QueryExpireVms, at most opt.Parallelism calls in flight. So 1000 desktops at 20 ms
// a call with parallelism 8 take about one QueryVms plus 1000/8 rounds: 2.5 s.
//
// Contract:
//   - Reads only: it never calls a mutating action.
//   - Snapshot.Desktops are sorted by id (whatever order QueryVms used), without duplicates.
//     Accounts and Expiring keep the API's order. Networks has an entry for every site of
//     opt.SiteIDs, with Default nil when the site has no default network.
//   - A desktop listed by QueryVms that is gone by the time of its QueryVm (10006) is left out: it
//     was deleted meanwhile, which is not an error.
//   - Any other error ends the observation: the reads in flight are cancelled and the first error is
//     returned, wrapped with the action (and the desktop or site) that failed. ctx cancels every
//     read; Observe then returns ctx's error.
func Observe(ctx context.Context, c provider.Client, opt ObserveOptions) (*provider.Snapshot, error) {
	par := opt.Parallelism
	if par < 1 {
		par = DefaultParallelism
	}
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	snap := &provider.Snapshot{TakenAt: now(), Networks: map[string]provider.SiteNetworks{}}

	var ids []string
	if !opt.SkipDesktops {
		res, err := c.QueryVms(ctx, provider.QueryVmsRequest{})
		if err != nil {
			return nil, fmt.Errorf("observe: %s: %w", provider.ActionQueryVms, err)
		}
		ids = uniqueSorted(res.VmIDs)
	}
	sites := uniqueSorted(opt.SiteIDs)

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(par)
	// Every read writes only its own slot; nothing is shared until Wait returns.
	desktops := make([]*provider.Desktop, len(ids))
	defaults := make([]*provider.Network, len(sites))
	customs := make([][]provider.Network, len(sites))
	var accounts []provider.SubAccount
	var expiring []provider.ExpiringDesktop

	g.Go(func() (err error) {
		accounts, err = c.QuerySubAccounts(gctx, provider.QuerySubAccountsRequest{})
		return observeErr(provider.ActionQuerySubAccounts, "", err)
	})
	if !opt.SkipDesktops {
		g.Go(func() (err error) {
			expiring, err = c.QueryExpireVms(gctx, provider.QueryExpireVmsRequest{})
			return observeErr(provider.ActionQueryExpireVms, "", err)
		})
	}
	for i, site := range sites {
		g.Go(func() (err error) {
			defaults[i], err = c.GetDefaultNet(gctx, provider.GetDefaultNetRequest{SiteID: site})
			return observeErr(provider.ActionGetDefaultNet, "site "+site, err)
		})
		g.Go(func() (err error) {
			customs[i], err = c.GetCustomNet(gctx, provider.GetCustomNetRequest{SiteID: site})
			return observeErr(provider.ActionGetCustomNet, "site "+site, err)
		})
	}
	// The desktops are read by at most par workers, each taking the next id in order: as many reads
	// in flight as a goroutine per id would keep, without starting (and growing the stack of) a
	// goroutine for each of 10,000 desktops.
	var next atomic.Int64
	read := func() error {
		for {
			i := int(next.Add(1)) - 1
			if i >= len(ids) {
				return nil
			}
			if err := gctx.Err(); err != nil {
				return err // a read failed or ctx ended: read nothing more
			}
			id := ids[i]
			d, err := c.QueryVm(gctx, provider.QueryVmRequest{VmID: id})
			if provider.IsNotFound(err) {
				continue // deleted since QueryVms
			}
			if err != nil {
				return observeErr(provider.ActionQueryVm, "desktop "+id, err)
			}
			if d.ID == "" {
				d.ID = id
			}
			desktops[i] = d
		}
	}
	for range min(par, len(ids)) {
		g.Go(read)
	}
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}

	snap.Desktops = make([]provider.Desktop, 0, len(ids))
	for _, d := range desktops {
		if d != nil {
			snap.Desktops = append(snap.Desktops, *d)
		}
	}
	snap.Accounts, snap.Expiring = accounts, expiring
	for i, site := range sites {
		snap.Networks[site] = provider.SiteNetworks{Default: defaults[i], Custom: customs[i]}
	}
	return snap, nil
}

func observeErr(a provider.Action, what string, err error) error {
	if err == nil {
		return nil
	}
	if what != "" {
		return fmt.Errorf("observe: %s %s: %w", a, what, err)
	}
	return fmt.Errorf("observe: %s: %w", a, err)
}

// uniqueSorted returns a sorted copy of ss without duplicates or empty strings.
func uniqueSorted(ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

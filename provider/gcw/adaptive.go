package gcw

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"
)

// The adaptive rate (AIMD). The API documents no rate limit, so the client sends as fast as its
// concurrency bound allows (or at Config.Rate, when set) until the server answers a throttle (HTTP 429
// or a ThrottleCodes envelope). Then:
//
//   - decrease: the rate becomes rateDecrease x the rate in force, never below rateFloor. At the
//     first throttle, without a bound, it is rateDecrease x the rate of accepted answers over the
//     last rateWindow (at least half the rate of requests sent) instead. Only a throttle of
//     a request that took its slot after the last decrease lowers it again: the requests in flight
//     when the server started refusing answer one throttle, not one each; those still waiting for a
//     slot take a new one at the new rate.
//   - increase: each accepted answer to a request that had to wait for the limiter (the limit, not the
//     work, was what held the client back) adds step/rate, so the rate climbs by step requests/s per
//     second. The step is rateStepShare of the rate the last decrease set, doubled after every
//     rateStepDoubling without a throttle, so that a server that recovers from a deep cut is found
//     again within a minute.
//
// The rate never exceeds Config.Rate. Near a server that accepts R requests/s the rate saws between
// about rateDecrease x R and R: one decrease every few seconds, each costing the few requests that were
// already on their way.
const (
	rateDecrease      = 0.8
	rateStepShare     = 0.1
	rateStepDoubling  = 10 * time.Second
	rateStepMaxDouble = 10
	rateFloor         = 1.0 // requests/s
	rateWindow        = time.Second
)

// RateStats is what the client's rate control did: for a plan's or an apply's summary.
type RateStats struct {
	// Requests is the number of HTTP requests sent, retries included (as Client.Requests).
	Requests int
	// Throttled is the number of answers that were a throttle: HTTP 429, or an envelope whose Code is
	// one of Config.ThrottleCodes.
	Throttled int
	// Decreases is the number of times a throttle lowered the rate.
	Decreases int
	// Limit is the rate in force, requests per second: the rate the client settled at after a
	// throttle, or Bound. 0: no limit (never throttled, no Bound).
	Limit float64
	// Refused is the rate (requests per second) at which the server last throttled: the rate in force
	// at the last decrease (at the first, without a bound: the rate of accepted answers over the last
	// second, at least half the rate sent). 0: never throttled.
	Refused float64
	// Bound is Config.Rate, the rate never exceeded; 0: none.
	Bound float64
	// Adaptive is false when Config.Rate is negative: no limit, nothing learned.
	Adaptive bool
}

// pacer is the client's rate control, shared by all its calls.
type pacer struct {
	now   func() time.Time
	sleep func(context.Context, time.Duration) error

	mu       sync.Mutex
	adaptive bool
	lim      *slots  // nil: no limit in force
	bound    float64 // Config.Rate; +Inf: none
	burst    int     // the limiter's burst while at the bound
	cur      float64 // the rate in force; +Inf: none
	learned  bool    // a throttle set cur below the bound
	step     float64 // additive increase, requests/s per second
	lastCut  time.Time
	epoch    int       // decreases so far
	start    time.Time // when the first request was sent
	accepted window    // accepted answers within rateWindow
	sent     window    // slots taken within rateWindow
	stats    RateStats
}

// ticket is one pass through the pacer.
type ticket struct {
	taken  time.Time // when the request took its slot: the rate in force then is the one it tests
	epoch  int       // the pacer's decreases when it was taken
	waited bool      // the limit held the request back
}

// newPacer returns the rate control of Config.Rate r and Config.Burst burst: r < 0 no limit and no
// adaptation; r == 0 adaptive without a bound; r > 0 adaptive, never above r.
func newPacer(r float64, burst int) *pacer {
	p := &pacer{now: time.Now, sleep: sleepTimer, adaptive: r >= 0, bound: math.Inf(1), cur: math.Inf(1)}
	if r > 0 {
		if burst <= 0 {
			burst = max(1, int(math.Ceil(r)))
		}
		p.bound, p.cur, p.burst = r, r, burst
		p.lim = newSlots(r, burst)
	}
	p.stats = RateStats{Adaptive: p.adaptive}
	if r > 0 {
		p.stats.Bound = r
	}
	return p
}

// sleepTimer waits d or until ctx ends.
func sleepTimer(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// reserve takes the next request slot at now: the delay before sending (0: at once), the slot, to give
// back when the request is not sent after all (nil when no limit is in force), and the ticket.
func (p *pacer) reserve(now time.Time) (time.Duration, *slot, ticket) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.start.IsZero() {
		p.start = now
	}
	tk := ticket{taken: now, epoch: p.epoch}
	if p.adaptive {
		p.sent.add(now)
	}
	if p.lim == nil {
		return 0, nil, tk
	}
	s := p.lim.reserve(now)
	d := s.at.Sub(now)
	tk.waited = d > 0
	return d, s, tk
}

// stale reports a ticket taken before the last decrease: its slot was scheduled at a rate the server
// refused, and it should take a new one.
func (p *pacer) stale(t ticket) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return t.epoch != p.epoch
}

// cancel gives a slot back, if no later one was taken since.
func (p *pacer) cancel(s *slot) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lim != nil {
		p.lim.cancel(s)
	}
}

// wait blocks until the rate in force lets one more request go. It refuses at once when ctx's
// deadline comes first. A request still waiting when a throttle lowers the rate takes a new slot at
// the new rate.
func (p *pacer) wait(ctx context.Context) (ticket, error) {
	for {
		now := p.now()
		d, s, tk := p.reserve(now)
		if d <= 0 {
			return tk, ctx.Err()
		}
		if dl, ok := ctx.Deadline(); ok && dl.Before(now.Add(d)) {
			p.cancel(s)
			return ticket{}, fmt.Errorf("waiting %v for the next request slot would exceed the context deadline", d.Round(time.Millisecond))
		}
		if err := p.sleep(ctx, d); err != nil {
			p.cancel(s)
			return ticket{}, err
		}
		if !p.stale(tk) {
			return tk, nil
		}
	}
}

// done reports the answer to a request the pacer let go: a throttle, or an accepted answer (any answer
// that is not a throttle). Transport failures are neither and are not reported. It returns the new
// rate when the answer lowered it, else 0.
func (p *pacer) done(t ticket, throttled bool) (lowered float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if throttled {
		p.stats.Throttled++
		if p.adaptive && t.epoch == p.epoch {
			p.decrease(now)
			return p.cur
		}
		return 0
	}
	if !p.adaptive {
		return 0
	}
	p.accepted.add(now)
	if !t.waited || !p.learned {
		return 0
	}
	doublings := min(rateStepMaxDouble, int(now.Sub(p.lastCut)/rateStepDoubling))
	next := p.cur + p.step*float64(int(1)<<doublings)/p.cur
	if next >= p.bound {
		// Back at the bound: its burst again, nothing learned in force.
		p.cur, p.learned = p.bound, false
		p.lim.set(p.bound, p.burst)
		return 0
	}
	p.cur = next
	p.lim.set(next, 1)
	return 0
}

// window holds the times of events within rateWindow, oldest first.
type window []time.Time

func (w *window) add(now time.Time) {
	*w = append(*w, now)
	w.trim(now)
}

// trim drops the events older than rateWindow.
func (w *window) trim(now time.Time) {
	i := 0
	for i < len(*w) && now.Sub((*w)[i]) > rateWindow {
		i++
	}
	// Resliced, not copied down: at thousands of requests a second, copying the window on every
	// request costs a copy of thousands of times. append moves the live part once the array is full.
	*w = (*w)[i:]
}

// decrease lowers the rate after a throttle. Caller holds p.mu.
func (p *pacer) decrease(now time.Time) {
	p.accepted.trim(now)
	p.sent.trim(now)
	span := min(rateWindow, now.Sub(p.start))
	span = max(span, 10*time.Millisecond)
	// What the server accepted; at least half what was sent (a throttle of the very first requests
	// says the server is busy, not that it accepts nothing).
	est := max(float64(len(p.accepted)), float64(len(p.sent))/2) / span.Seconds()
	// Nothing learnt yet: lower from what the server accepted. Once a rate is learnt, from that rate
	// (what was accepted over the last second also reflects the callers sleeping before a retry,
	// Retry-After: 1 s, so it says little about the server).
	base := p.cur
	if math.IsInf(base, 1) {
		base = est
	}
	next := max(min(rateFloor, p.bound), rateDecrease*base)
	p.stats.Decreases++
	p.stats.Refused = base
	p.cur, p.learned, p.lastCut = next, true, now
	p.epoch++
	p.step = max(rateFloor*rateStepShare, rateStepShare*next)
	if p.lim == nil {
		p.lim = newSlots(next, 1)
	}
	p.lim.set(next, 1)
	// A new schedule: the first slot one interval from now (the server has just refused; the requests
	// waiting for a slot of the old schedule take new ones).
	p.lim.next, p.lim.last = now.Add(p.lim.interval), nil
}

// snapshot returns the stats so far (without Requests, which the client counts).
func (p *pacer) snapshot() RateStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	if !math.IsInf(p.cur, 1) {
		s.Limit = p.cur
	}
	return s
}

// RateStats reports what the rate control did so far. Safe for concurrent use.
func (c *Client) RateStats() RateStats {
	s := c.pace.snapshot()
	s.Requests = c.Requests()
	return s
}

// Throttling reports the answers that were throttles so far and the rate in force, requests per second
// (0: no limit): what a plan's or an apply's summary says (engine.Throttle).
func (c *Client) Throttling() (throttled int, rate float64) {
	s := c.pace.snapshot()
	return s.Throttled, s.Limit
}

// slots is a rate limit as a schedule (GCRA, virtual scheduling): each request takes the next slot,
// one interval after the previous one, or at once when the schedule has fallen behind now (up to burst
// at once after an idle spell). A new rate applies to the slots not yet taken: those taken keep their
// time (a rate lowered with eight requests queued does not push the ninth back by eight intervals of
// the new rate). Not safe for concurrent use: the pacer holds its lock.
type slots struct {
	interval time.Duration
	burst    int
	next     time.Time // the theoretical time of the next slot
	last     *slot     // the latest slot taken
}

// slot is one request's place in the schedule.
type slot struct {
	at   time.Time
	next time.Time // the schedule's next before this slot was taken
}

func newSlots(r float64, burst int) *slots {
	s := &slots{}
	s.set(r, burst)
	return s
}

// set changes the rate (requests/s, > 0) and the burst (>= 1).
func (s *slots) set(r float64, burst int) {
	s.interval = time.Duration(min(float64(time.Second)/r, float64(365*24*time.Hour)))
	s.burst = max(1, burst)
}

func (s *slots) reserve(now time.Time) *slot {
	tolerance := time.Duration(s.burst-1) * s.interval
	at := s.next.Add(-tolerance)
	if at.Before(now) {
		at = now
	}
	sl := &slot{at: at, next: s.next}
	base := s.next
	if base.Before(now) {
		base = now
	}
	s.next = base.Add(s.interval)
	s.last = sl
	return sl
}

// cancel gives sl back when it is the latest slot taken.
func (s *slots) cancel(sl *slot) {
	if sl != nil && s.last == sl {
		s.next, s.last = sl.next, nil
	}
}

package gcw

import (
	"math"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// rateServer is a server's throttle on a simulated clock: a token bucket of limit requests/s and burst
// (limit 0: never throttles), whose limit may change at a time.
type rateServer struct {
	limit  float64
	burst  int
	change time.Duration // when limit becomes then (0: never)
	then   float64
}

// rateRun is what a simulated run did: every send, and whether the server accepted it.
type rateRun struct {
	sent     []time.Duration // since the start, in order
	accepted []bool
	stats    RateStats
}

// retryAfter is how long a worker waits after a throttle: the Retry-After of the emulator's throttles,
// which the client honours before retrying.
const retryAfter = time.Second

// simulateRate runs workers clients in parallel through one pacer for dur of simulated time: each
// worker takes the next slot, sends, and gets the answer rtt later, then starts again at once (after
// retryAfter when it was a throttle). No real time passes; the pacer and the server read the
// simulated clock.
func simulateRate(bound float64, srv rateServer, workers int, rtt, dur time.Duration) rateRun {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	now := t0
	p := newPacer(bound, 0)
	p.now = func() time.Time { return now }
	var bucket *rate.Limiter
	if srv.limit > 0 {
		bucket = rate.NewLimiter(rate.Limit(srv.limit), srv.burst)
	}
	changed := false
	type worker struct {
		at      time.Time // when its next event happens
		sending bool      // the event is the send (else: the answer, or ready to reserve)
		tk      ticket
		ok      bool
		waiting bool // the event is the answer
	}
	ws := make([]worker, workers)
	for i := range ws {
		ws[i].at = t0
	}
	var run rateRun
	for {
		// The earliest event; ties in worker order.
		w := &ws[0]
		for i := range ws {
			if ws[i].at.Before(w.at) {
				w = &ws[i]
			}
		}
		if w.at.Sub(t0) > dur {
			break
		}
		now = w.at
		if srv.change > 0 && !changed && now.Sub(t0) >= srv.change {
			changed = true
			bucket = nil
			if srv.then > 0 {
				bucket = rate.NewLimiter(rate.Limit(srv.then), srv.burst)
			}
		}
		switch {
		case w.waiting: // the answer arrives
			p.done(w.tk, !w.ok)
			w.waiting = false
			if !w.ok {
				w.at = now.Add(retryAfter) // the client's backoff before the retry
			}
		case w.sending && p.stale(w.tk): // the slot came, but the rate was lowered since: a new slot
			w.sending = false
		case w.sending: // the slot came: send
			w.ok = bucket == nil || bucket.AllowN(now, 1)
			run.sent = append(run.sent, now.Sub(t0))
			run.accepted = append(run.accepted, w.ok)
			w.sending, w.waiting = false, true
			w.at = now.Add(rtt)
		default: // ready: take the next slot
			d, _, tk := p.reserve(now)
			w.tk = tk
			w.sending = true
			w.at = now.Add(d)
		}
	}
	run.stats = p.snapshot()
	return run
}

// window returns the sends and the refused among them in [from, to).
func (r rateRun) window(from, to time.Duration) (sends, refused int) {
	for i, t := range r.sent {
		if t >= from && t < to {
			sends++
			if !r.accepted[i] {
				refused++
			}
		}
	}
	return sends, refused
}

// maxInWindow is the most sends in any window of length d (ending at a send).
func (r rateRun) maxInWindow(d time.Duration) int {
	most, j := 0, 0
	for i, t := range r.sent {
		for r.sent[j] <= t-d {
			j++
		}
		most = max(most, i-j+1)
	}
	return most
}

func TestAdaptiveRate(t *testing.T) {
	const rtt = 20 * time.Millisecond
	tests := []struct {
		name    string
		bound   float64 // Config.Rate
		srv     rateServer
		workers int
		// Over the last 30 s of 60: the accepted rate at least minShare of what the server (or the
		// bound) allows, and at most maxRefused of the requests refused.
		minShare, maxRefused float64
		reason               string
	}{
		{"server-40", 0, rateServer{limit: 40, burst: 4}, 8, 0.8, 0.05,
			"no bound: from 400 requests/s unthrottled, settles near the 40/s the server accepts"},
		{"server-40-burst-40", 0, rateServer{limit: 40, burst: 40}, 8, 0.8, 0.05,
			"a server with a burst lets the rate overshoot before the first throttle; it still settles"},
		{"server-200", 0, rateServer{limit: 200, burst: 20}, 8, 0.8, 0.05,
			"a fast server: settles near 200/s, below the 400/s eight workers could send"},
		{"server-5", 0, rateServer{limit: 5, burst: 1}, 8, 0.75, 0.1,
			"a slow server: settles near 5/s"},
		{"server-40-bound-100", 100, rateServer{limit: 40, burst: 4}, 8, 0.8, 0.05,
			"a bound above the server's limit: the server's limit is learnt"},
		{"server-40-bound-20", 20, rateServer{limit: 40, burst: 40}, 8, 0.95, 0,
			"a bound below the server's limit: never throttled, the client runs at the bound"},
		{"no-throttle", 0, rateServer{}, 8, 0.95, 0,
			"a server that never throttles: no limit at all, eight workers at 20 ms each"},
		{"one-worker", 0, rateServer{limit: 20, burst: 2}, 1, 0.65, 0.05,
			"one request at a time (50/s at most) against 20/s: each throttle (one every few seconds) idles the only worker for its 1 s Retry-After"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			run := simulateRate(tc.bound, tc.srv, tc.workers, rtt, 60*time.Second)
			allowed := float64(tc.workers) / rtt.Seconds()
			if tc.srv.limit > 0 {
				allowed = min(allowed, tc.srv.limit)
			}
			if tc.bound > 0 {
				allowed = min(allowed, tc.bound)
			}
			sends, refused := run.window(30*time.Second, 60*time.Second)
			got := float64(sends-refused) / 30
			t.Logf("accepted %.1f/s of %.1f allowed, %d/%d refused; stats %+v", got, allowed, refused, sends, run.stats)
			if got < tc.minShare*allowed {
				t.Errorf("accepted %.1f requests/s over the last 30 s, want at least %.0f%% of %.1f (%s)", got, tc.minShare*100, allowed, tc.reason)
			}
			if frac := float64(refused) / float64(sends); frac > tc.maxRefused {
				t.Errorf("%d of %d requests refused (%.1f%%), want at most %.0f%% (%s)", refused, sends, frac*100, tc.maxRefused*100, tc.reason)
			}
			if tc.bound > 0 {
				// Never above the bound: at most its burst (ceil(bound)) more than bound x time, in any window.
				for _, d := range []time.Duration{time.Second, 10 * time.Second} {
					if most, limit := run.maxInWindow(d), int(math.Ceil(tc.bound))+int(tc.bound*d.Seconds()); most > limit {
						t.Errorf("%d sends within %v, above the bound's %d (%s)", most, d, limit, tc.reason)
					}
				}
				if run.stats.Limit > tc.bound {
					t.Errorf("Limit %.1f above the bound %.1f (%s)", run.stats.Limit, tc.bound, tc.reason)
				}
			}
			if tc.srv.limit > 0 && tc.maxRefused > 0 {
				if run.stats.Throttled == 0 || run.stats.Decreases == 0 || run.stats.Refused == 0 {
					t.Errorf("stats %+v: want the throttles counted (%s)", run.stats, tc.reason)
				}
				// The rate it settled at is near the server's limit.
				if l := run.stats.Limit; l < 0.6*tc.srv.limit || l > 1.2*tc.srv.limit {
					t.Errorf("settled at %.1f requests/s, want near the server's %.0f (%s)", l, tc.srv.limit, tc.reason)
				}
			}
			if tc.maxRefused == 0 && run.stats.Throttled != 0 {
				t.Errorf("stats %+v: throttled without a throttling server (%s)", run.stats, tc.reason)
			}
		})
	}
}

func TestAdaptiveRateRecovers(t *testing.T) {
	const rtt = 20 * time.Millisecond
	tests := []struct {
		name   string
		bound  float64
		then   float64 // the server's limit after 30 s (0: none)
		want   float64 // the accepted rate over the last 10 s of 120, at least
		reason string
	}{
		{"to-the-bound", 200, 0, 0.95 * 200,
			"throttling stops: the rate climbs back to the bound and stays there"},
		{"unbounded", 0, 0, 0.95 * 400,
			"throttling stops without a bound: the rate climbs until the workers, not the limit, hold it"},
		{"to-a-higher-limit", 0, 150, 0.8 * 150,
			"the server's limit rises from 40 to 150/s: the rate follows it up"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := rateServer{limit: 40, burst: 4, change: 30 * time.Second, then: tc.then}
			run := simulateRate(tc.bound, srv, 8, rtt, 120*time.Second)
			sends, _ := run.window(20*time.Second, 30*time.Second)
			if r := float64(sends) / 10; r > 60 {
				t.Fatalf("sent %.1f requests/s while the server allowed 40: never converged (%s)", r, tc.reason)
			}
			sends, refused := run.window(110*time.Second, 120*time.Second)
			got := float64(sends-refused) / 10
			t.Logf("accepted %.1f/s at the end; stats %+v", got, run.stats)
			if got < tc.want {
				t.Errorf("accepted %.1f requests/s 80 s after the throttling eased, want at least %.1f (%s)", got, tc.want, tc.reason)
			}
			if tc.bound > 0 && run.stats.Limit != tc.bound {
				t.Errorf("Limit %.1f, want back at the bound %.1f (%s)", run.stats.Limit, tc.bound, tc.reason)
			}
		})
	}
}

// A throttle of a request that took its slot before the last decrease does not lower the rate again:
// the requests in flight when the server started refusing count as one throttle.
func TestAdaptiveRateOneDecreasePerThrottleEpisode(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newPacer(100, 0)
	p.now = func() time.Time { return now }
	var tickets []ticket
	for range 8 {
		_, _, tk := p.reserve(now)
		tickets = append(tickets, tk)
		now = now.Add(time.Millisecond)
	}
	for _, tk := range tickets {
		p.done(tk, true)
	}
	s := p.snapshot()
	if s.Throttled != 8 || s.Decreases != 1 {
		t.Fatalf("stats %+v: want 8 throttles and 1 decrease", s)
	}
	_, _, tk := p.reserve(now)
	p.done(tk, true)
	if s := p.snapshot(); s.Decreases != 2 {
		t.Errorf("stats %+v: a throttle of a request scheduled after the decrease lowers the rate again", s)
	}
}

func TestNegativeRateIsUnlimited(t *testing.T) {
	p := newPacer(-1, 0)
	for range 3 {
		_, _, tk := p.reserve(p.now())
		p.done(tk, true)
	}
	if d, _, _ := p.reserve(p.now()); d != 0 {
		t.Fatalf("reserve = %v: want no wait", d)
	}
	if s := p.snapshot(); s.Adaptive || s.Throttled != 3 || s.Decreases != 0 || s.Limit != 0 {
		t.Errorf("stats %+v: want the throttles counted, no limit learnt", s)
	}
}

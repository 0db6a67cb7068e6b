package sim

import (
	"time"

	"github.com/deskfleet/deskfleet/provider"
)

// FaultKind is one kind of injected fault.
type FaultKind int

const (
	// FaultNone: no fault.
	FaultNone FaultKind = iota
	// Fault5xx: HTTP 503 {"Code":"ServiceUnavailable"} before anything is done.
	Fault5xx
	// FaultThrottle: HTTP 429 {"Code":"Throttling"} (Retry-After: 1), nothing done.
	FaultThrottle
	// FaultDropBefore: the connection is closed without a response (hijacked and closed; where the
	// ResponseWriter cannot be hijacked, the handler panics with http.ErrAbortHandler); nothing done.
	FaultDropBefore
	// FaultDropAfter: the request is fully served (the work is done and saved), then the connection
	// is closed without a response.
	FaultDropAfter
	// FaultSlow: the response is delayed by Faults.SlowDelay (real time), then served normally.
	FaultSlow
	// FaultTaskFailed: the request succeeds but its work fails later: a task ends Failed (CreateVm
	// and OperateVm keep the first half of their desktops, others change nothing), new
	// sub-accounts end in status "error", UpdateOrder/RenewalOrder report the second half of their
	// desktops in failedVmIds. No effect on reads.
	FaultTaskFailed
)

// String names the kind.
func (k FaultKind) String() string {
	return [...]string{"none", "5xx", "throttle", "drop-before", "drop-after", "slow", "task-failed"}[k]
}

// Faults are per-request probabilities (0..1) of each kind, drawn from the Sim's seeded generator:
// every request draws exactly two numbers, so the same seed and the same request sequence give the
// same faults. The request-level kinds (5xx, throttle, drop before/after, slow) are exclusive;
// TaskFailed is drawn independently.
type Faults struct {
	HTTP5xx, Throttle, DropBefore, DropAfter, Slow, TaskFailed float64
	// SlowDelay is the delay of a slow response (default 2 s).
	SlowDelay time.Duration
}

func (f Faults) slowDelay() time.Duration {
	if f.SlowDelay > 0 {
		return f.SlowDelay
	}
	return 2 * time.Second
}

// SetFaults replaces the fault rates. The generator's position is kept.
func (s *Sim) SetFaults(f Faults) {
	s.mu.Lock()
	s.opt.Faults = f
	s.mu.Unlock()
}

// FailNext makes the next n calls of action suffer kind, whatever the rates (the random draws still
// happen, so the seeded sequence is not shifted). Calls of FailNext add up in order.
func (s *Sim) FailNext(action provider.Action, kind FaultKind, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.targeted[action] = append(s.targeted[action], kind)
	}
}

// drawFault picks the request-level fault and whether the work fails later. Caller holds s.mu.
func (s *Sim) drawFault(action provider.Action) (FaultKind, bool) {
	u, v := s.faultR.Float64(), s.faultR.Float64()
	f := s.opt.Faults
	kind := FaultNone
	acc := 0.0
	for _, c := range []struct {
		rate float64
		kind FaultKind
	}{{f.HTTP5xx, Fault5xx}, {f.Throttle, FaultThrottle}, {f.DropBefore, FaultDropBefore}, {f.DropAfter, FaultDropAfter}, {f.Slow, FaultSlow}} {
		acc += c.rate
		if u < acc {
			kind = c.kind
			break
		}
	}
	taskFail := v < f.TaskFailed
	if q := s.targeted[action]; len(q) > 0 {
		k := q[0]
		s.targeted[action] = q[1:]
		if k == FaultTaskFailed {
			kind, taskFail = FaultNone, true
		} else {
			kind, taskFail = k, false
		}
	}
	return kind, taskFail
}

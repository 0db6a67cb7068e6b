package sim

import (
	"net/http"
	"strconv"
	"time"

	"github.com/deskfleet/deskfleet/provider"
)

// FaultKind is one kind of injected fault.
type FaultKind int

const (
	// FaultNone: no fault.
	FaultNone FaultKind = iota
	// Fault5xx (also Fault503): HTTP 503 {"Code":"ServiceUnavailable"} before anything is done.
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
	// FaultTaskFailed: the request succeeds but its work fails later: a task ends Failed (a CreateVm
	// as Faults.FailedCreate says, an OperateVm keeps the first half of its desktops, the others
	// change nothing), new sub-accounts end in status "error", UpdateOrder/RenewalOrder report the
	// second half of their desktops in failedVmIds. No effect on reads.
	FaultTaskFailed
	// Fault500: HTTP 500 {"Code":"InternalError"} before anything is done.
	Fault500
	// Fault502: HTTP 502 with a gateway's HTML page (no envelope), before anything is done.
	Fault502
	// Fault504: HTTP 504 with a gateway's HTML page (no envelope), before anything is done.
	Fault504
	// Fault500After, Fault502After, Fault503After, Fault504After: the request is fully served (the
	// work done and saved), then answered with that status and body instead of its result.
	Fault500After
	Fault502After
	Fault503After
	Fault504After
	// FaultThrottleEnvelope: HTTP 200 with the error envelope {"Code":"Throttling",...} (code/msg
	// for the lower-case actions), nothing done.
	FaultThrottleEnvelope
	// FaultTaskFailedError: like FaultTaskFailed, except that a failed CreateVm leaves every desktop
	// it made in status "error" whatever Faults.FailedCreate says.
	FaultTaskFailedError
)

// Fault503 is Fault5xx: HTTP 503 before anything is done.
const Fault503 = Fault5xx

var faultNames = [...]string{"none", "503", "throttle", "drop-before", "drop-after", "slow", "task-failed",
	"500", "502", "504", "500-after", "502-after", "503-after", "504-after", "throttle-envelope", "task-failed-error"}

// String names the kind.
func (k FaultKind) String() string {
	if k < 0 || int(k) >= len(faultNames) {
		return "unknown"
	}
	return faultNames[k]
}

// serverError describes the 5xx kinds: the status, whether the work is done first, and the body.
func (k FaultKind) serverError() (status int, after bool, ok bool) {
	switch k {
	case Fault500, Fault500After:
		status = http.StatusInternalServerError
	case Fault502, Fault502After:
		status = http.StatusBadGateway
	case Fault5xx, Fault503After:
		status = http.StatusServiceUnavailable
	case Fault504, Fault504After:
		status = http.StatusGatewayTimeout
	default:
		return 0, false, false
	}
	return status, k == Fault500After || k == Fault502After || k == Fault503After || k == Fault504After, true
}

// serverErrorReply is the body of an injected 5xx: the API's envelope for 500 and 503, a gateway's
// HTML page for 502 and 504 (the reference documents no error body; a proxy in front of it would
// answer the latter two).
func serverErrorReply(status int) reply {
	switch status {
	case http.StatusInternalServerError:
		return plainError(status, "InternalError", "internal error (injected)")
	case http.StatusServiceUnavailable:
		return plainError(status, "ServiceUnavailable", "service unavailable (injected)")
	}
	line := strconv.Itoa(status) + " " + http.StatusText(status)
	return reply{status: status, contentType: "text/html",
		body: []byte("<html><head><title>" + line + "</title></head><body><center><h1>" + line +
			"</h1></center><hr><center>nginx</center></body></html>\n")}
}

// FailedCreate says what a CreateVm task failed by an injected fault leaves behind.
type FailedCreate int

const (
	// FailedCreateDefault is DefaultFailedCreate.
	FailedCreateDefault FailedCreate = iota
	// FailedCreateError: every desktop the task made stays, in status "error" (the worst case a
	// cloud could take: the desktops exist, count against the quotas, and must be deleted).
	FailedCreateError
	// FailedCreateHalf: the first half (rounded down) of the desktops end running, the others are
	// removed (the emulator's default before FailedCreateError).
	FailedCreateHalf
)

// DefaultFailedCreate is what FailedCreateDefault means.
const DefaultFailedCreate = FailedCreateError

// Faults are per-request probabilities (0..1) of each kind, drawn from the Sim's seeded generator:
// every request draws exactly two numbers, so the same seed and the same request sequence give the
// same faults. The request-level kinds (5xx, throttle, drop before/after, slow) are exclusive;
// TaskFailed (AccountFailed for the creation of sub-accounts) is drawn independently. Where a rate covers several kinds (HTTP5xx, Throttle), the
// same first number picks among them, so the count of draws does not change.
type Faults struct {
	// HTTP5xx is the rate of server errors: HTTP 500, 502, 503 or 504 in equal parts, a share
	// (HTTP5xxAfter) of them answered after the work was done and saved, the rest before any work.
	HTTP5xx float64
	// HTTP5xxAfter is the share (0..1) of HTTP5xx answered after the work; 0 means one half,
	// negative means none.
	HTTP5xxAfter float64
	// Throttle is the rate of throttling: HTTP 429 with Retry-After, or (a share ThrottleEnvelope of
	// them) HTTP 200 with the error envelope Code "Throttling"; nothing done either way.
	Throttle float64
	// ThrottleEnvelope is the share (0..1) of Throttle answered as an HTTP-200 envelope; 0 means
	// one half, negative means none (every throttle is a 429).
	ThrottleEnvelope            float64
	DropBefore, DropAfter, Slow float64
	// TaskFailed is the rate of work that fails after the request succeeded (FaultTaskFailed): a
	// task ends Failed, an order reports failed desktops.
	TaskFailed float64
	// AccountFailed is the rate of CreateSubAccount(s) calls whose new sub-accounts end in status
	// "error" instead of "create" (the reference's 创建失败). It is apart from TaskFailed because the
	// call has no task and the API can neither delete nor create again a sub-account: no client can
	// repair it, so a figure of convergence states it on its own.
	AccountFailed float64
	// FailedCreate says what a CreateVm failed by TaskFailed leaves (default DefaultFailedCreate).
	FailedCreate FailedCreate
	// SlowDelay is the delay of a slow response (default 2 s).
	SlowDelay time.Duration
}

func (f Faults) slowDelay() time.Duration {
	if f.SlowDelay > 0 {
		return f.SlowDelay
	}
	return 2 * time.Second
}

func share(v float64) float64 {
	switch {
	case v == 0:
		return 0.5
	case v < 0:
		return 0
	}
	return min(v, 1)
}

func (f Faults) failError() bool {
	m := f.FailedCreate
	if m == FailedCreateDefault {
		m = DefaultFailedCreate
	}
	return m == FailedCreateError
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

// taskFault is how the work of a request fails later.
type taskFault struct {
	fail  bool // the task fails (see FaultTaskFailed)
	error bool // a failed CreateVm leaves its desktops in "error"
}

// drawFault picks the request-level fault and whether the work fails later. Caller holds s.mu.
func (s *Sim) drawFault(action provider.Action) (FaultKind, taskFault) {
	u, v := s.faultR.Float64(), s.faultR.Float64()
	f := s.opt.Faults
	kind := FaultNone
	acc := 0.0
	for _, c := range []struct {
		rate float64
		kind FaultKind
	}{{f.HTTP5xx, Fault5xx}, {f.Throttle, FaultThrottle}, {f.DropBefore, FaultDropBefore}, {f.DropAfter, FaultDropAfter}, {f.Slow, FaultSlow}} {
		if c.rate <= 0 {
			continue
		}
		if u < acc+c.rate {
			kind = c.kind
			// Where in its slot u fell, as a fresh uniform number: it picks the variant.
			w := (u - acc) / c.rate
			switch kind {
			case Fault5xx:
				after := w < share(f.HTTP5xxAfter)
				if after {
					w /= share(f.HTTP5xxAfter)
				} else if sh := share(f.HTTP5xxAfter); sh < 1 {
					w = (w - sh) / (1 - sh)
				}
				i := min(int(w*4), 3)
				if after {
					kind = [...]FaultKind{Fault500After, Fault502After, Fault503After, Fault504After}[i]
				} else {
					kind = [...]FaultKind{Fault500, Fault502, Fault5xx, Fault504}[i]
				}
			case FaultThrottle:
				if w < share(f.ThrottleEnvelope) {
					kind = FaultThrottleEnvelope
				}
			}
			break
		}
		acc += c.rate
	}
	failRate := f.TaskFailed
	if action == provider.ActionCreateSubAccount || action == provider.ActionCreateSubAccounts {
		failRate = f.AccountFailed
	}
	tf := taskFault{fail: v < failRate, error: f.failError()}
	if q := s.targeted[action]; len(q) > 0 {
		k := q[0]
		s.targeted[action] = q[1:]
		switch k {
		case FaultTaskFailed:
			kind, tf.fail = FaultNone, true
		case FaultTaskFailedError:
			kind, tf.fail, tf.error = FaultNone, true, true
		default:
			kind, tf.fail = k, false
		}
	}
	return kind, tf
}

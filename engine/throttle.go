package engine

// Throttle is how the API throttled a command's requests: Throttled answers were throttles (HTTP 429,
// or a throttle code in the envelope), and the client's rate settled at SettledRate requests per
// second (0: the client does not adapt its rate, --rate below 0). A plan's Reads and an apply's
// Result carry one only when the API throttled at least one request.
type Throttle struct {
	Throttled   int     `json:"throttled"`
	SettledRate float64 `json:"settled_rate"`
}

// throttleReporter is a client that tells how the API throttled it so far (provider/gcw's Client):
// the answers that were throttles and the rate in force, requests per second (0: no limit).
type throttleReporter interface {
	Throttling() (throttled int, rate float64)
}

// throttleOf is c's Throttle so far, nil when c cannot tell or was never throttled.
func throttleOf(c any) *Throttle {
	tr, ok := c.(throttleReporter)
	if !ok {
		return nil
	}
	n, rate := tr.Throttling()
	if n == 0 {
		return nil
	}
	return &Throttle{Throttled: n, SettledRate: rate}
}

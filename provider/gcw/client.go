package gcw

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/deskfleet/deskfleet/provider"
)

// maxErrorBody is how much of a response body an APIError keeps.
const maxErrorBody = 2048

// maxBody bounds how much of a response is read.
const maxBody = 32 << 20

// Client is the HTTP implementation of provider.Client. It is safe for concurrent use; the rate
// limit and the concurrency bound are shared by all its calls.
type Client struct {
	endpoint    string // base URL, no trailing slash
	accessKeyID string
	secret      string
	signer      *provider.Signer // of secret
	http        *http.Client
	timeout     time.Duration
	pace        *pacer
	sem         chan struct{} // nil: unbounded
	maxRetries  int
	baseBackoff time.Duration
	maxBackoff  time.Duration
	clock       func() time.Time
	nonce       func() string
	newReqID    func() string
	log         *slog.Logger
	rand        func() float64
	sleep       func(context.Context, time.Duration) error
	userAgent   string
	throttle    []string // envelope Codes that mean "throttled, nothing done"
	maxUnknown  int      // QueryTask answers in a row with an unrecognised status before an error

	taskMu       sync.Mutex
	unknownTasks map[string]int // task id -> unrecognised statuses in a row

	requests atomic.Int64 // HTTP requests sent (every attempt)

	// header is the header of every GET request and postHeader of every POST one, shared by all
	// requests when the client made its own http.Client (whose Transport, as a RoundTripper must, and
	// whose http.Client, without a cookie jar, never modify a request's header); nil otherwise: each
	// request then has its own.
	header, postHeader http.Header
}

// newTransport is the transport of a client that builds its own http.Client: http.DefaultTransport's
// settings, keeping as many idle connections to the endpoint as requests may be in flight (the
// default keeps 2: with 8 in flight, most requests would open a new connection, a TLS handshake
// each). With a concurrency bound, no more connections than the bound are opened either: a request
// whose predecessor's connection is on its way back to the idle pool waits for it instead of dialing.
func newTransport(maxConcurrent int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	n := maxConcurrent
	if n == 0 {
		n = 8
	}
	if n > 0 {
		t.MaxIdleConnsPerHost = max(n, http.DefaultMaxIdleConnsPerHost)
		t.MaxConnsPerHost = n
	} else {
		t.MaxIdleConnsPerHost = 64
	}
	t.MaxIdleConns = max(t.MaxIdleConns, t.MaxIdleConnsPerHost)
	return t
}

// refuseRedirect is every http.Client's CheckRedirect here: the 3xx itself is the answer.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Requests returns the number of HTTP requests sent so far, retries included: what a plan reports as
// its API calls. Safe for concurrent use.
func (c *Client) Requests() int { return int(c.requests.Load()) }

// CloseIdleConnections closes the connections kept open for reuse (before stopping a server the
// client talked to, say).
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

var _ provider.Client = (*Client)(nil)

// Local reports whether the client's endpoint is on this machine (an emulator): the engine then
// allows a poll interval below the real API's floor (engine.MinLocalPollInterval).
func (c *Client) Local() bool { return Loopback(c.endpoint) }

// New returns a client for cfg. It fails when the credentials are missing or the endpoint is not an
// absolute http(s) URL.
func New(cfg Config) (*Client, error) {
	if cfg.AccessKeyID == "" || cfg.Secret == "" {
		return nil, ErrMissingCredentials
	}
	ep := cfg.Endpoint
	if ep == "" {
		ep = DefaultEndpoint
	}
	u, err := url.Parse(ep)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("gcw: endpoint %q is not an absolute http(s) URL without a query", ep)
	}
	c := &Client{
		endpoint:    strings.TrimRight(ep, "/"),
		accessKeyID: cfg.AccessKeyID,
		secret:      cfg.Secret,
		signer:      provider.NewSigner(cfg.Secret),
		http:        cfg.HTTPClient,
		timeout:     cfg.Timeout,
		maxRetries:  cfg.MaxRetries,
		baseBackoff: cfg.BaseBackoff,
		maxBackoff:  cfg.MaxBackoff,
		clock:       cfg.Clock,
		nonce:       cfg.Nonce,
		newReqID:    cfg.NewRequestID,
		log:         cfg.Logger,
		rand:        cfg.Rand,
		sleep:       cfg.Sleep,
		userAgent:   cfg.UserAgent,
		throttle:    cfg.ThrottleCodes,
		maxUnknown:  cfg.MaxUnknownTaskStatus,
	}
	// Redirects are never followed, whoever made the http.Client: a redirected POST would be re-sent
	// as a GET, and the signed query (with a Referer of the whole signed URL) would travel to wherever
	// the redirect points. A 3xx becomes an *APIError naming where it pointed.
	hc := http.Client{}
	if c.http != nil {
		hc = *c.http
	} else {
		hc.Transport = newTransport(cfg.MaxConcurrent)
	}
	hc.CheckRedirect = refuseRedirect
	c.http = &hc
	if c.timeout <= 0 {
		c.timeout = 30 * time.Second
	}
	c.pace = newPacer(cfg.Rate, cfg.Burst)
	switch {
	case cfg.MaxConcurrent == 0:
		c.sem = make(chan struct{}, 8)
	case cfg.MaxConcurrent > 0:
		c.sem = make(chan struct{}, cfg.MaxConcurrent)
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = 3
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if c.baseBackoff <= 0 {
		c.baseBackoff = 200 * time.Millisecond
	}
	if c.maxBackoff <= 0 {
		c.maxBackoff = 10 * time.Second
	}
	if c.clock == nil {
		c.clock = time.Now
	}
	if c.nonce == nil {
		c.nonce = uuid.NewString
	}
	if c.newReqID == nil {
		c.newReqID = uuid.NewString
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.rand == nil {
		c.rand = rand.Float64
	}
	if c.sleep == nil {
		c.sleep = provider.SleepContext
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	if c.throttle == nil {
		c.throttle = DefaultThrottleCodes
	}
	switch {
	case c.maxUnknown == 0:
		c.maxUnknown = 5
	case c.maxUnknown < 0:
		c.maxUnknown = 1
	}
	c.unknownTasks = map[string]int{}
	if cfg.HTTPClient == nil {
		c.header, c.postHeader = c.newHeader(false), c.newHeader(true)
	}
	return c, nil
}

// String describes the client without its secret.
func (c *Client) String() string {
	return fmt.Sprintf("gcw.Client{endpoint:%q accessKeyId:%q}", c.endpoint, c.accessKeyID)
}

// GoString is String, so that %#v does not print the secret.
func (c *Client) GoString() string { return c.String() }

// requestID returns id, or a fresh one when empty.
func (c *Client) requestID(id string) string {
	if id != "" {
		return id
	}
	return c.newReqID()
}

// call performs one action and decodes its envelope's Data into out (see decodeData; a nil out
// ignores the Data). params are the action's own parameters (string values, or []string /
// []map[string]string where the reference has arrays): signed in the query for GET actions, the JSON
// body for POST ones. requestID is reported in errors and logs.
func (c *Client) call(ctx context.Context, action provider.Action, params map[string]any, requestID string, out any) error {
	_, err := c.callScrub(ctx, action, params, requestID, out)
	return err
}

// callScrub is call, also returning the scrubber of the attempt that answered (for the caller's own
// errors quoting the answer).
func (c *Client) callScrub(ctx context.Context, action provider.Action, params map[string]any, requestID string, out any) (func(string) string, error) {
	info, ok := provider.LookupAction(action)
	if !ok {
		return noScrub, fmt.Errorf("gcw: unknown action %q", action)
	}
	var payload []byte
	var query []queryParam
	if info.Method == http.MethodPost {
		if params == nil {
			params = map[string]any{}
		}
		var err error
		if payload, err = json.Marshal(params); err != nil {
			return noScrub, fmt.Errorf("gcw %s: encoding body: %w", action, err)
		}
	} else {
		query = make([]queryParam, 0, len(params))
		for k, v := range params {
			s, ok := v.(string)
			if !ok {
				return noScrub, fmt.Errorf("gcw %s: parameter %s of a GET action must be a string", action, k)
			}
			query = append(query, queryParam{k, s})
		}
	}
	return c.send(ctx, info, query, payload, requestID, out)
}

// send performs one action whose query (GET) or body (POST) is ready: the attempts, their verdicts
// and the retries of callScrub.
func (c *Client) send(ctx context.Context, info provider.ActionInfo, query []queryParam, payload []byte, requestID string, out any) (func(string) string, error) {
	action := info.Name
	for attempt := 0; ; attempt++ {
		res := c.attempt(ctx, info, query, payload, requestID, attempt)
		v := c.classify(ctx, info, requestID, res, out)
		if res.answered {
			if r := c.pace.done(res.ticket, v.throttled); r > 0 {
				c.log.DebugContext(ctx, "gcw throttled: rate lowered", "action", action, "requestId", requestID,
					"rate", math.Round(r*100)/100)
			}
		}
		if v.err == nil {
			if out == nil || v.decoded {
				return res.scrub, nil
			}
			// A server may echo the signed query back: an error quoting the Data is scrubbed with
			// the scrubber of the attempt that produced it.
			return res.scrub, decodeData(info, requestID, v.data, res.scrub, out)
		}
		if !v.retry || attempt >= c.maxRetries || ctx.Err() != nil {
			return res.scrub, v.err
		}
		d := c.backoff(attempt)
		if res.retryAfter > d {
			d = min(res.retryAfter, c.maxBackoff)
		}
		c.log.DebugContext(ctx, "gcw retry", "action", action, "attempt", attempt+1, "requestId", requestID,
			"backoff", d, "err", v.err)
		if serr := c.sleep(ctx, d); serr != nil {
			return res.scrub, fmt.Errorf("%w (gave up retrying: %w)", v.err, serr)
		}
	}
}

// backoff is full jitter: rand(0, min(max, base*2^retry)). A Retry-After header, when longer, wins
// (still capped by MaxBackoff).
func (c *Client) backoff(retry int) time.Duration {
	ceil := c.maxBackoff
	if retry < 62 {
		if b := c.baseBackoff << uint(retry); b > 0 && b < ceil {
			ceil = b
		}
	}
	return time.Duration(c.rand() * float64(ceil))
}

// result is what one HTTP attempt produced.
type result struct {
	status     int
	location   string // a 3xx's Location host, for the error
	body       []byte
	retryAfter time.Duration // from a 429/503 Retry-After header (seconds), capped by MaxBackoff
	err        error         // transport error, already scrubbed of credentials
	notSent    bool          // certain that no byte of the request reached the server
	final      bool          // failed before sending for a reason a retry cannot fix (limiter, ctx, bad request)
	answered   bool          // the server's whole answer was read (status and body)
	ticket     ticket        // the rate control's pass
	scrub      func(string) string
	// date is the reply's Date header; sent and received the client's clock at the signing and when
	// the exchange ended (what a doctor compares with the API's clock).
	date           string
	sent, received time.Time
}

// attempt signs and sends one HTTP request (fresh nonce and timestamp), waiting for the rate limiter
// and the concurrency bound first, and reads the whole response within the per-attempt timeout.
func (c *Client) attempt(ctx context.Context, info provider.ActionInfo, query []queryParam, payload []byte, requestID string, n int) result {
	tk, err := c.pace.wait(ctx)
	if err != nil {
		return result{err: fmt.Errorf("rate limiter: %w", ctxErr(ctx, err)), notSent: true, final: true, scrub: noScrub}
	}
	if c.sem != nil {
		select {
		case c.sem <- struct{}{}:
			defer func() { <-c.sem }()
		case <-ctx.Done():
			return result{err: ctx.Err(), notSent: true, final: true, scrub: noScrub}
		}
	}
	canonical, sent := c.canonical(info, query)
	sig := c.signer.SignCanonical(info.Method, canonical)
	scrub := c.scrubber(sig)

	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	// Whether any of the request reached the server: net/http reports no "not sent" error of its own,
	// but its trace does. Without a connection (dial, proxy or TLS handshake failed) nothing was sent;
	// with one, nothing the server could act on was sent until the whole header block was written
	// (WroteHeaders fires once it is in the connection's buffer, before any flush completes it).
	tr := newSendTrace()
	actx = httptrace.WithClientTrace(actx, &tr.ClientTrace)
	var bodyReader io.Reader
	if payload != nil {
		bodyReader = bytes.NewReader(payload)
	}
	// The endpoint is parsed, not the whole signed URL: the query is already encoded.
	req, err := http.NewRequestWithContext(actx, info.Method, c.endpoint+"/", bodyReader)
	if err != nil {
		return result{err: errors.New("building request: invalid endpoint or parameters"), notSent: true, final: true, scrub: scrub}
	}
	req.URL.RawQuery = canonical + "&Signature=" + provider.PercentEncode(sig)
	if info.Method == http.MethodGet {
		// net/http silently re-sends a GET whose reused connection dropped before the response: for
		// RebuildVm that could rebuild twice, and for any GET the replay reuses the signed nonce, which
		// a server that saw the first copy refuses (403). Every attempt must come from the retry loop,
		// freshly signed. A body without GetBody makes the request non-replayable; being empty, no
		// body goes on the wire.
		req.Body = emptyBody{}
		req.GetBody = nil
	}
	req.Header = c.header
	if payload != nil {
		req.Header = c.postHeader
	}
	if req.Header == nil {
		req.Header = c.newHeader(payload != nil)
	}

	debug := c.log.Enabled(ctx, slog.LevelDebug) // the log's arguments alone cost allocations
	var start time.Time
	if debug {
		start = time.Now()
	}
	c.requests.Add(1)
	resp, err := c.http.Do(req)
	res := result{scrub: scrub, ticket: tk}
	if err != nil {
		res.err = redactTransportError(err, c.endpoint, info.Name, scrub)
		res.notSent = isDialError(err) || (tr.getConn.Load() && (!tr.gotConn.Load() || !tr.wroteHeaders.Load()))
	} else {
		c.readResponse(resp, info, &res)
	}
	res.sent, res.received = sent, c.clock()
	if debug {
		c.log.DebugContext(ctx, "gcw attempt", "action", info.Name, "method", info.Method, "attempt", n+1,
			"requestId", requestID, "status", res.status, "duration", time.Since(start), "err", errString(res.err))
	}
	return res
}

// newHeader returns the header of a request, with a JSON body or without.
func (c *Client) newHeader(body bool) http.Header {
	h := http.Header{"Accept": {"application/json"}, "User-Agent": {c.userAgent}}
	if body {
		h["Content-Type"] = []string{"application/json"}
	}
	return h
}

// readResponse reads resp (status, the headers that matter and the whole body, up to maxBody) into
// res, and closes its body.
func (c *Client) readResponse(resp *http.Response, info provider.ActionInfo, res *result) {
	res.status, res.date = resp.StatusCode, resp.Header.Get("Date")
	if res.status >= 300 && res.status < 400 {
		if loc, err := resp.Location(); err == nil {
			res.location = loc.Host
		}
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if secs, err := strconv.Atoi(strings.TrimSpace(ra)); err == nil && secs > 0 {
			res.retryAfter = time.Duration(secs) * time.Second
		}
	}
	var err error
	res.body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	if err != nil {
		res.err = redactTransportError(fmt.Errorf("reading response: %w", err), c.endpoint, info.Name, res.scrub)
	} else {
		res.answered = true
	}
}

// queryParam is one of a GET action's own parameters (each key once).
type queryParam struct{ key, value string }

// canonical returns the canonical query of an attempt (the common parameters with a fresh nonce and
// the time of signing, and for a GET action its own parameters) and that time.
func (c *Client) canonical(info provider.ActionInfo, query []queryParam) (string, time.Time) {
	common := [...][2]string{
		{"Action", string(info.Name)},
		{"AccessKeyId", c.accessKeyID},
		{"SignatureMethod", provider.SignatureMethod},
		{"SignatureVersion", provider.SignatureVersion},
		{"SignatureNonce", c.nonce()},
		{"Version", provider.APIVersion},
		{"Timestamp", ""},
	}
	sent := c.clock()
	common[len(common)-1][1] = sent.UTC().Format(provider.TimestampLayout)
	n := len(common)
	if info.Method == http.MethodGet {
		n += len(query)
	}
	// One array holds every value: a parameter is one value.
	vals := make([]string, 0, n)
	params := make(url.Values, n)
	set := func(k, v string) {
		vals = append(vals, v)
		params[k] = vals[len(vals)-1 : len(vals) : len(vals)]
	}
	for _, kv := range common {
		set(kv[0], kv[1])
	}
	if info.Method == http.MethodGet {
		for _, p := range query {
			set(p.key, p.value)
		}
	}
	return provider.CanonicalQuery(params), sent
}

// sendTrace records how far a request went: whether it asked for a connection, got one, and wrote its
// whole header block.
type sendTrace struct {
	httptrace.ClientTrace
	getConn, gotConn, wroteHeaders atomic.Bool
}

func newSendTrace() *sendTrace {
	t := &sendTrace{}
	t.GetConn = func(string) { t.getConn.Store(true) }
	t.GotConn = func(httptrace.GotConnInfo) { t.gotConn.Store(true) }
	t.WroteHeaders = func() { t.wroteHeaders.Store(true) }
	return t
}

// emptyBody is the body of a GET request: empty, but not http.NoBody, so that net/http never replays
// the request itself (see attempt).
type emptyBody struct{}

func (emptyBody) Read([]byte) (int, error) { return 0, io.EOF }
func (emptyBody) Close() error             { return nil }

// verdict is what one attempt means for the call.
type verdict struct {
	data      json.RawMessage // the Data of a Success envelope, when not decoded yet
	decoded   bool            // the Data is already in out
	err       error
	retry     bool // sending again is safe (MaxRetries and ctx permitting)
	throttled bool // the server said "too many requests": HTTP 429 or a throttle Code
}

// classify turns an attempt's result into data or an error, and says whether a retry is safe.
//
// An attempt provably not processed is one that never left (no connection, header block never
// written), or that the server refused in an envelope: a 429 whose body is an error envelope, or a
// throttle Code (ThrottleCodes) in the envelope of a 200 or 4xx. Any other failure (a 5xx of any
// kind, whatever its body; a 429 without an envelope; a connection dropped, timed out or cancelled
// after sending; a 200 whose body is not an envelope) may follow the work: a read retries it, a
// mutation (provider.ActionInfo.Mutating, every action but the reads) ends with an
// *provider.UnknownOutcomeError and is never sent again. A 3xx or a 4xx other than 429 is the server's
// refusal of the request itself: an *provider.APIError, not retried.
//
// A 200 answer is parsed once, its Data straight into out (see decodeOnce); only when that fails is
// it parsed again, envelope first, to say what is wrong.
func (c *Client) classify(ctx context.Context, info provider.ActionInfo, requestID string, res result, out any) verdict {
	// maybe is a failure after which the server may have done the work; transient: worth retrying.
	maybe := func(e error, transient bool) verdict {
		if info.Mutating {
			return verdict{err: &provider.UnknownOutcomeError{Action: info.Name, RequestID: requestID, Err: e}}
		}
		return verdict{err: e, retry: transient}
	}
	if res.err != nil {
		err := fmt.Errorf("gcw %s: %w", info.Name, res.err)
		if res.notSent {
			// Nothing reached the server: safe to retry any action, unless the caller gave up.
			return verdict{err: err, retry: !res.final && ctx.Err() == nil}
		}
		return maybe(err, ctx.Err() == nil)
	}
	apiErr := func(msg string) *provider.APIError {
		return &provider.APIError{Action: info.Name, RequestID: requestID, HTTPStatus: res.status,
			Message: res.scrub(msg), Body: truncate(res.scrub(string(res.body)), maxErrorBody)}
	}
	if res.status != http.StatusOK {
		e := apiErr(http.StatusText(res.status))
		if res.status >= 300 && res.status < 400 {
			e.Message = fmt.Sprintf("%s to %q: deskfleet never follows a redirect (a signed request goes to the configured endpoint only); check the endpoint",
				http.StatusText(res.status), res.location)
		}
		refused := fillEnvelopeCode(e, res.body, res.scrub)
		switch {
		case res.status >= 500:
			// The reference gives HTTP statuses no meaning: a 503 may follow the work as well as a 500.
			return maybe(e, true)
		case res.status == http.StatusTooManyRequests && refused:
			return verdict{err: e, retry: true, throttled: true}
		case res.status == http.StatusTooManyRequests:
			// No envelope: a proxy's or a server's page, not the API's word that nothing was done. Still
			// a throttle for the rate control.
			v := maybe(e, true)
			v.throttled = true
			return v
		case refused && c.isThrottle(e.Code):
			e.Throttled = true
			return verdict{err: e, retry: true, throttled: true}
		default:
			return verdict{err: e}
		}
	}
	refusal := func(env envelope) verdict {
		e := apiErr(env.message)
		e.Code = res.scrub(env.code)
		t := c.isThrottle(env.code)
		e.Throttled = t
		return verdict{err: e, retry: t, throttled: t}
	}
	if env, ok := decodeOnce(res.body, out); ok {
		if !strings.EqualFold(env.code, "Success") {
			return refusal(env)
		}
		return verdict{decoded: true}
	}
	env, err := decodeEnvelope(res.body)
	if err != nil {
		e := apiErr("malformed response: " + err.Error())
		return maybe(e, false) // a read's garbage is an answer: not retried
	}
	if !strings.EqualFold(env.code, "Success") {
		return refusal(env)
	}
	return verdict{data: env.data}
}

// isThrottle reports an envelope Code that means "too many requests": one of the throttle codes, in
// any case, alone or followed by "." and a detail ("Throttling.User").
func (c *Client) isThrottle(code string) bool {
	code = strings.TrimSpace(code)
	for _, t := range c.throttle {
		if t == "" || len(code) < len(t) || !strings.EqualFold(code[:len(t)], t) {
			continue
		}
		if len(code) == len(t) || code[len(t)] == '.' {
			return true
		}
	}
	return false
}

// fillEnvelopeCode copies code and message from a non-200 body that happens to be an envelope, and
// reports whether it is one with a Code other than Success (the server's own refusal).
func fillEnvelopeCode(e *provider.APIError, body []byte, scrub func(string) string) bool {
	env, err := decodeEnvelope(body)
	if err != nil || strings.EqualFold(env.code, "Success") || strings.TrimSpace(env.code) == "" {
		return false
	}
	e.Code = scrub(env.code)
	if env.message != "" {
		e.Message = scrub(env.message)
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "...(truncated)"
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

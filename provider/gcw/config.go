package gcw

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"
)

// DefaultEndpoint is the vendor's API base URL; requests go to DefaultEndpoint + "/?<query>".
const DefaultEndpoint = "https://cdsapi.capitalonline.net/gcw"

// Environment variables holding the credentials (the names the vendor's own tools use).
const (
	EnvAccessKeyID = "CDS_SECRET_ID"
	EnvSecret      = "CDS_SECRET_KEY"
)

// Config configures a Client. Zero values take the defaults noted. The rate limit, concurrency bound
// and timeouts are settings because the API documents none of them.
type Config struct {
	// Endpoint is the API base URL, any scheme/host/path (an emulator's httptest URL works).
	Endpoint    string
	AccessKeyID string
	Secret      string // never logged, never in an error
	// HTTPClient sends the requests; default a new http.Client with no overall timeout (Timeout below
	// bounds each attempt instead) whose transport is http.DefaultTransport's settings keeping
	// MaxConcurrent idle connections to the endpoint and opening no more than MaxConcurrent. New uses
	// a copy whose CheckRedirect refuses every redirect.
	HTTPClient *http.Client
	// Timeout bounds each HTTP attempt (request, response and body). Default 30s.
	Timeout time.Duration
	// Rate bounds the request rate, in requests per second, shared by all calls of the client, retries
	// included. Below it the rate adapts to the server (see adaptive.go, Client.RateStats): as fast as
	// MaxConcurrent allows until the server throttles (HTTP 429 or a ThrottleCodes envelope), then a
	// rate that converges near what the server accepts: lowered by a fifth on a throttle, raised
	// step by step while none comes. 0: no bound but the learnt rate; negative: no limit at all,
	// nothing learnt (tests, emulators).
	Rate float64
	// Burst is how many requests may go at once after an idle spell while the rate is at Rate.
	// Default max(1, ceil(Rate)). A rate learnt from throttles has a burst of 1.
	Burst int
	// MaxConcurrent bounds the HTTP requests in flight. 0: default 8; negative: unbounded.
	MaxConcurrent int
	// MaxRetries is the number of retries after the first attempt, for failures safe to retry.
	// 0: default 3; negative: none.
	MaxRetries int
	// BaseBackoff and MaxBackoff shape full-jitter backoff: sleep = Rand() * min(MaxBackoff,
	// BaseBackoff * 2^retry). Defaults 200ms and 10s. A longer Retry-After (seconds) on a 429/503 is
	// used instead, still capped by MaxBackoff.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// Clock gives the Timestamp signed into each attempt. Default time.Now.
	Clock func() time.Time
	// Nonce gives the SignatureNonce of each attempt (must be fresh per attempt). Default a random UUID.
	Nonce func() string
	// NewRequestID gives the requestId of calls made without one. Default a random UUID.
	NewRequestID func() string
	// Logger receives debug lines per attempt (action, attempt, status, duration, requestId) and never
	// a credential. Default: discard.
	Logger *slog.Logger
	// Rand returns a number in [0,1) for backoff jitter; must be safe for concurrent use.
	// Default math/rand/v2.Float64.
	Rand func() float64
	// Sleep waits between retries; it must return early with ctx.Err() when ctx ends. Default a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// UserAgent is the User-Agent header of every request. Default DefaultUserAgent; the command sets
	// "deskfleet/" + its version.
	UserAgent string
	// ThrottleCodes are the envelope Codes (compared case-insensitively; a code followed by "." and
	// more, as in "Throttling.User", matches too) that mean "too many requests, nothing done" when
	// they come in an answer of any HTTP status. The reference documents none. Default
	// DefaultThrottleCodes.
	ThrottleCodes []string
	// MaxUnknownTaskStatus is how many QueryTask answers in a row for one task may carry a status other
	// than Running, Completed or Failed (any case) before QueryTask returns an error instead, which ends
	// provider.WaitTask (and any poll that stops on a non-transient *provider.APIError). 0: default 5;
	// negative: the first such answer is the error.
	MaxUnknownTaskStatus int
}

// DefaultUserAgent is the User-Agent of a Config that sets none.
const DefaultUserAgent = "deskfleet/dev"

// DefaultThrottleCodes are the envelope Codes read as a throttle when Config.ThrottleCodes is nil: the
// spellings of the vendor family's RPC APIs and of common gateways.
var DefaultThrottleCodes = []string{"Throttling", "Throttled", "TooManyRequests", "RequestLimitExceeded",
	"RateLimitExceeded", "LimitExceeded"}

// String describes the configuration without the secret.
func (c Config) String() string {
	return fmt.Sprintf("gcw.Config{Endpoint:%q AccessKeyID:%q Secret:REDACTED}", c.Endpoint, c.AccessKeyID)
}

// GoString is String, so that %#v does not print the secret either.
func (c Config) GoString() string { return c.String() }

// LogValue keeps the secret out of structured logs.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("endpoint", c.Endpoint), slog.String("accessKeyId", c.AccessKeyID))
}

// ErrMissingCredentials is returned (wrapped) when CDS_SECRET_ID or CDS_SECRET_KEY is unset.
var ErrMissingCredentials = errors.New("missing credentials: set " + EnvAccessKeyID + " and " + EnvSecret)

// CredentialsFromEnv reads the access key id and secret from CDS_SECRET_ID and CDS_SECRET_KEY.
// The error names both variables and which one is missing; it never contains a value.
func CredentialsFromEnv() (accessKeyID, secret string, err error) {
	return credentialsFrom(os.Getenv)
}

func credentialsFrom(getenv func(string) string) (string, string, error) {
	id, secret := getenv(EnvAccessKeyID), getenv(EnvSecret)
	var missing []string
	if id == "" {
		missing = append(missing, EnvAccessKeyID)
	}
	if secret == "" {
		missing = append(missing, EnvSecret)
	}
	if len(missing) > 0 {
		return "", "", fmt.Errorf("%w (unset: %v)", ErrMissingCredentials, missing)
	}
	return id, secret, nil
}

// Loopback reports whether endpoint is a URL on this machine (localhost or a loopback address): an
// emulator, never the API.
func Loopback(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

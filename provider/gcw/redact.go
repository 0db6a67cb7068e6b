package gcw

import (
	"errors"
	"net"
	"net/url"
	"strings"

	"github.com/deskfleet/deskfleet/provider"
)

// redacted replaces credential material in errors, logs and kept bodies.
const redacted = "REDACTED"

func noScrub(s string) string { return s }

// scrubber returns a function that removes the secret and this attempt's signature (raw and
// percent-encoded forms) from a string. The encoded forms are computed when it is called: every
// attempt has a scrubber, few (an error, a log line) use it.
func (c *Client) scrubber(sig string) func(string) string {
	secret := c.secret
	return func(s string) string {
		for _, o := range [...]string{secret, sig, url.QueryEscape(sig), url.PathEscape(sig)} {
			if o != "" {
				s = strings.ReplaceAll(s, o, redacted)
			}
		}
		return s
	}
}

// redactedError keeps the chain of the original error (errors.Is/As still work on, e.g.,
// context.DeadlineExceeded or *net.OpError) while its text is scrubbed, and replaces any *url.Error,
// whose text embeds the signed URL, by one naming only the endpoint and the action.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func redactTransportError(err error, endpoint string, action provider.Action, scrub func(string) string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		safe := &url.Error{Op: ue.Op, URL: endpoint + "/?Action=" + string(action) + "&Signature=" + redacted, Err: ue.Err}
		// ue.Err itself does not carry the URL, but scrub its text anyway.
		return &redactedError{msg: scrub(safe.Error()), err: &url.Error{Op: ue.Op, URL: safe.URL, Err: ue.Err}}
	}
	return &redactedError{msg: scrub(err.Error()), err: errors.Unwrap(err)}
}

// isDialError reports a failure to establish the connection (refused, unreachable, DNS): the request
// certainly did not reach the server.
func isDialError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

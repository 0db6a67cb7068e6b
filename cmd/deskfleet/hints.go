package main

import (
	"errors"

	"github.com/deskfleet/deskfleet/provider"
)

// hintedError is an error that carries the suggestion run prints after it.
type hintedError struct {
	err  error
	hint string
}

func (e *hintedError) Error() string { return e.err.Error() }
func (e *hintedError) Unwrap() error { return e.err }

// withHint attaches a one-line suggestion to err; run prints it as "hint: ..." after the error.
func withHint(err error, hint string) error { return &hintedError{err: err, hint: hint} }

// hintFor returns a one-line suggestion for errors whose cause a user can act on: the hint attached
// with withHint, else one derived from the API error's kind, else "".
func hintFor(err error) string {
	var h *hintedError
	if errors.As(err, &h) {
		return h.hint
	}
	var unknown *provider.UnknownOutcomeError
	if errors.As(err, &unknown) {
		return "the call may or may not have taken effect; check the desktop in the console or re-run a read-only command before retrying"
	}
	apiErr, ok := provider.AsAPIError(err)
	if !ok {
		return ""
	}
	switch {
	case apiErr.HTTPStatus == 401 || apiErr.HTTPStatus == 403:
		return "check CDS_SECRET_ID and CDS_SECRET_KEY, and that this machine's clock is right (signed requests carry the time)"
	case provider.IsThrottled(err):
		return "the API kept throttling after deskfleet slowed down to what it seemed to accept; try again later, or lower --parallelism or --rate"
	case provider.IsPermission(err):
		return "this access key lacks the permission; ask the account owner"
	case provider.IsQuota(err):
		return "the account's desktop quota is reached; switch billing or ask the vendor's sales team for more"
	case provider.IsNoCapacity(err):
		return "the site has no capacity left for this product; try another site or product"
	}
	return ""
}

package main

import (
	"errors"
	"strings"

	"github.com/deskfleet/deskfleet/provider"
)

// hintFor returns a one-line suggestion for errors whose cause a user can act on, or "" when the
// error already says what to do (or nothing useful can be added).
func hintFor(err error) string {
	if strings.Contains(err.Error(), "\nhint: ") {
		return ""
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
		return "the API is throttling requests; lower --rate or --parallelism"
	case provider.IsPermission(err):
		return "this access key lacks the permission; ask the account owner"
	case provider.IsQuota(err):
		return "the account's desktop quota is reached; switch billing or ask the vendor's sales team for more"
	case provider.IsNoCapacity(err):
		return "the site has no capacity left for this product; try another site or product"
	}
	return ""
}

package connect

import (
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/provider/gcw"
)

// Hint returns a one-line suggestion for an error of the API whose cause a user can act on: from the
// API error's kind (credentials, throttling, permission, quota, capacity), an unknown outcome, or a
// connection that failed; "" when none is known.
func Hint(err error) string {
	var unknown *provider.UnknownOutcomeError
	if errors.As(err, &unknown) {
		return "the call may or may not have taken effect; check the desktop in the console or re-run a read-only command before retrying"
	}
	apiErr, ok := provider.AsAPIError(err)
	if !ok {
		return connectionHint(err)
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

// connectionHint names --endpoint when the API could not be reached at all: its host name does not
// resolve, nothing listens at its address, or it did not answer in time.
func connectionHint(err error) string {
	var (
		dns *net.DNSError
		op  *net.OpError
		ne  net.Error
	)
	const check = "check --endpoint (or DESKFLEET_ENDPOINT; default " + gcw.DefaultEndpoint + ")"
	switch {
	case errors.As(err, &dns):
		return fmt.Sprintf("the API's host %s was not found: %s and this machine's DNS; --endpoint sim runs the emulator instead", dns.Name, check)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "nothing answers at the API's address (connection refused): " + check + ", and any proxy (HTTPS_PROXY)"
	case errors.As(err, &ne) && ne.Timeout():
		return "the API did not answer in time: " + check + ", the network, any proxy (HTTPS_PROXY) or firewall, then try again"
	case errors.As(err, &op):
		return "the API could not be reached: " + check + " and the network"
	}
	return ""
}

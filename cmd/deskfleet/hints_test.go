package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/deskfleet/deskfleet/provider"
)

func TestHintFor(t *testing.T) {
	tests := []struct {
		reason string
		err    error
		want   string // a substring of the hint; "" means no hint
	}{
		{"an attached hint is printed", withHint(errors.New("x"), "do this"), "do this"},
		{"an attached hint survives wrapping", fmt.Errorf("site A: %w", withHint(errors.New("x"), "do that")), "do that"},
		{"a signature failure points at the credentials", &provider.APIError{HTTPStatus: 403, Code: "SignatureDoesNotMatch"}, "CDS_SECRET_KEY"},
		{"throttling points at --rate", &provider.APIError{HTTPStatus: 429}, "--rate"},
		{"a quota error says what to do", &provider.APIError{Code: provider.CodeMonthlyQuota}, "quota"},
		{"an unknown outcome says to check before retrying", &provider.UnknownOutcomeError{Action: provider.ActionCreateVm}, "before retrying"},
		{"connection refused names --endpoint", fmt.Errorf("gcw QuerySites: %w", &url.Error{Op: "Get", URL: "http://127.0.0.1:1/",
			Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}), "--endpoint"},
		{"a host name that does not resolve names --endpoint and DNS", fmt.Errorf("gcw QuerySites: %w", &url.Error{Op: "Get", URL: "http://nosuch.invalid/",
			Err: &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "nosuch.invalid", IsNotFound: true}}}), "nosuch.invalid was not found: check --endpoint"},
		{"a timeout names --endpoint and the network", fmt.Errorf("gcw QuerySites: %w", &url.Error{Op: "Get", URL: "http://10.0.0.1/",
			Err: &net.OpError{Op: "dial", Net: "tcp", Err: timeoutError{}}}), "did not answer in time: check --endpoint"},
		{"a plain error gets no hint", errors.New("boom"), ""},
		{"an API error with nothing to suggest gets none", &provider.APIError{Code: provider.CodeNotFound}, ""},
	}
	for _, tt := range tests {
		got := hintFor(tt.err)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: hintFor(%v) = %q, want one containing %q", tt.reason, tt.err, got, tt.want)
		}
	}
}

// timeoutError is a net.Error that timed out, as a dial or read deadline gives.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

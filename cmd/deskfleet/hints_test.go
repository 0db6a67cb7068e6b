package main

import (
	"errors"
	"fmt"
	"strings"
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

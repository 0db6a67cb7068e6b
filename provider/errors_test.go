package provider

import (
	"errors"
	"fmt"
	"testing"
)

func TestErrorHelpers(t *testing.T) {
	api := func(code string) error { return &APIError{Code: code, Action: "X"} }
	wrapped := func(err error) error { return fmt.Errorf("step: %w", err) }
	tests := []struct {
		name   string
		err    error
		check  func(error) bool
		want   bool
		reason string
	}{
		{"notfound", api(CodeNotFound), IsNotFound, true, "10006"},
		{"notfound-wrapped", wrapped(api(CodeNotFound)), IsNotFound, true, "helpers use errors.As"},
		{"notfound-other", api(CodeBadParameters), IsNotFound, false, "10003 is not 10006"},
		{"bad", api(CodeBadParameters), IsBadParameters, true, "10003"},
		{"wrongstate-13004", api(CodeRebuildNotStopped), IsWrongState, true, "rebuild needs stopped"},
		{"wrongstate-13011", api(CodeChangeAccountState), IsWrongState, true, "re-bind needs stopped"},
		{"wrongstate-13012", api(CodeUnbindNotStopped), IsWrongState, true, "unbind needs stopped"},
		{"wrongstate-13002", api(CodeOperationFailed), IsWrongState, true, "busy"},
		{"quota-month", api(CodeMonthlyQuota), IsQuota, true, "12501"},
		{"quota-minute", api(CodeOnDemandQuota), IsQuota, true, "12502"},
		{"capacity", api(CodeNoCapacity), IsNoCapacity, true, "13000"},
		{"billing-12503", api(CodeAlreadyMonthly), IsBillingDirection, true, "no way back to per-minute"},
		{"billing-12504", api(CodeNotMonthly), IsBillingDirection, true, "renewal of per-minute"},
		{"permission", api(CodePermission), IsPermission, true, "10007"},
		{"plain-error", errors.New("boom"), IsNotFound, false, "not an APIError"},
		{"nil", nil, IsNotFound, false, "nil is no error"},
		{"unknown", wrapped(&UnknownOutcomeError{Action: "CreateVm", RequestID: "r", Err: errors.New("EOF")}), IsUnknownOutcome, true, "wrapped unknown outcome"},
		{"throttled", &APIError{HTTPStatus: 429}, IsThrottled, true, "HTTP 429"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.check(tc.err); got != tc.want {
				t.Errorf("got %v, want %v (%s)", got, tc.want, tc.reason)
			}
		})
	}
}

func TestAPIErrorText(t *testing.T) {
	tests := []struct {
		err    *APIError
		want   string
		reason string
	}{
		{&APIError{Code: "10006", Message: "参数错误", Action: "QueryVm", RequestID: "r1"},
			"gcw QueryVm: code 10006: 参数错误 (requestId r1)", "envelope error"},
		{&APIError{HTTPStatus: 502, Message: "Bad Gateway", Action: "QueryVms"},
			"gcw QueryVms: HTTP 502: Bad Gateway", "HTTP error without code"},
		{&APIError{Code: "13000", HTTPStatus: 503, Action: "CreateVm"},
			"gcw CreateVm: code 13000 (HTTP 503)", "both"},
	}
	for _, tc := range tests {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q (%s)", got, tc.want, tc.reason)
		}
	}
}

func TestActionsTable(t *testing.T) {
	if len(Actions) != 30 {
		t.Fatalf("Actions has %d entries, want 30", len(Actions))
	}
	seen := map[Action]bool{}
	for _, a := range Actions {
		if seen[a.Name] {
			t.Errorf("duplicate action %s", a.Name)
		}
		seen[a.Name] = true
		if a.Async && !a.Mutating {
			t.Errorf("%s: async actions are mutations", a.Name)
		}
	}
	if a, _ := LookupAction(ActionRebuildVm); a.Method != "GET" || !a.Mutating {
		t.Errorf("RebuildVm is a mutation sent as GET: %+v", a)
	}
	if a, _ := LookupAction(ActionQueryVmPrice); a.Method != "POST" || a.Mutating {
		t.Errorf("QueryVmPrice is a POST without side effect: %+v", a)
	}
}

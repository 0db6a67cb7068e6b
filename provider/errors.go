package provider

import (
	"errors"
	"fmt"
	"strings"
)

// Documented API error codes (the API reference's table of codes), as the numeric strings the envelope's
// Code carries.
const (
	CodeBadParameters        = "10003" // 传入参数不符合要求: a parameter is missing or invalid
	CodeAccountData          = "10005" // 账户数据异常: the caller's account data is inconsistent
	CodeNotFound             = "10006" // 参数错误: the referenced task/site/product/desktop/account does not exist
	CodePermission           = "10007" // 当前账户权限不足: insufficient permission
	CodeInternalData         = "10008" // 系统内数据错误: internal data error (product lookup)
	CodeRenameAccountFailed  = "10211" // ChangeSubAccountName failed
	CodeCreateAccountFailed  = "11000" // CreateSubAccount failed
	CodeCreateAccountsFailed = "11003" // CreateSubAccounts failed
	CodeRemarkFailed         = "11013" // ChangeSubAccountRemark failed
	CodeQueryProductsFailed  = "12000" // QueryProducts failed
	CodeRenewalFailed        = "12500" // RenewalOrder failed
	CodeMonthlyQuota         = "12501" // monthly purchase quota reached
	CodeOnDemandQuota        = "12502" // per-minute purchase quota reached
	CodeAlreadyMonthly       = "12503" // UpdateOrder on a desktop that is not per-minute
	CodeNotMonthly           = "12504" // RenewalOrder on a desktop that is not monthly
	CodeQueryPriceFailed     = "12505" // QueryVmPrice failed
	CodeUpdateOrderFailed    = "12506" // UpdateOrder failed
	CodeNoCapacity           = "13000" // 当前资源不足: no resources left at the site
	CodeCreateVmFailed       = "13001" // CreateVm failed
	CodeOperationFailed      = "13002" // 执行操作失败: the desktop could not do it now (busy / wrong state)
	CodeRebuildNotStopped    = "13004" // RebuildVm on a desktop that is not stopped
	CodeChangeAccountState   = "13011" // ChangeAccount re-bind on a desktop that is not stopped
	CodeUnbindNotStopped     = "13012" // UnbindAccounts on a desktop that is not stopped
	CodeBindFailed           = "13013" // BindAccounts failed
	CodeLabelFailed          = "13015" // UpdateVmLabels failed
	CodeCreateNetFailed      = "13500" // CreateDefaultNet failed
	CodeQueryNetFailed       = "13502" // GetDefaultNet/GetCustomNet failed
	CodeEipPriceFailed       = "13503" // GetEipPrice failed
	CodeBillingSchemeFailed  = "13504" // GetLineBillingScheme failed
	CodeNetworkCheckFailed   = "13505" // CreateVm network validation failed
	CodeSupplyNetFailed      = "13506" // SupplyDefaultNet failed
)

// APIError is a failure the server reported: an envelope whose Code is not "Success", or an HTTP
// status other than 200 (then HTTPStatus is set and Code may be empty). Body is the raw response body,
// truncated, with any credential material removed.
type APIError struct {
	Code       string
	Message    string
	Action     Action
	RequestID  string
	HTTPStatus int
	Body       string
	// Throttled is set by the client when the answer is a throttle in any of its forms (HTTP 429, or
	// a throttle Code inside an envelope, whatever the HTTP status).
	Throttled bool
}

// Error returns "gcw Action: code CODE: message (requestId ...)" or the HTTP status form.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("gcw ")
	b.WriteString(string(e.Action))
	b.WriteString(": ")
	switch {
	case e.Code != "":
		fmt.Fprintf(&b, "code %s", e.Code)
		if e.Message != "" {
			b.WriteString(": ")
			b.WriteString(e.Message)
		}
		if e.HTTPStatus != 0 && e.HTTPStatus != 200 {
			fmt.Fprintf(&b, " (HTTP %d)", e.HTTPStatus)
		}
	case e.HTTPStatus != 0:
		fmt.Fprintf(&b, "HTTP %d", e.HTTPStatus)
		if e.Message != "" {
			b.WriteString(": ")
			b.WriteString(e.Message)
		}
	default:
		b.WriteString(e.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (requestId %s)", e.RequestID)
	}
	return b.String()
}

// UnknownOutcomeError is returned by a mutating call that may or may not have taken effect: the request
// was sent and then the connection dropped, the response timed out or was cut short, or the server
// answered anything but an API envelope (a 5xx of any kind, 503 included: the reference gives HTTP
// statuses no meaning, and a cloud may answer one after the work). The client never resends such a
// call; the caller must observe (by RequestID, ids, names) before deciding to call again.
type UnknownOutcomeError struct {
	Action    Action
	RequestID string
	Err       error
}

func (e *UnknownOutcomeError) Error() string {
	return fmt.Sprintf("gcw %s: outcome unknown (requestId %s): %v", e.Action, e.RequestID, e.Err)
}

func (e *UnknownOutcomeError) Unwrap() error { return e.Err }

// TaskFailedError is returned by WaitTask when the task ends Failed.
type TaskFailedError struct {
	Task Task
}

func (e *TaskFailedError) Error() string {
	return fmt.Sprintf("task %s failed: %s", e.Task.TaskID, e.Task.FailReason)
}

// AsAPIError returns the *APIError in err's chain, if any.
func AsAPIError(err error) (*APIError, bool) {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae, true
	}
	return nil, false
}

func hasCode(err error, codes ...string) bool {
	ae, ok := AsAPIError(err)
	if !ok {
		return false
	}
	for _, c := range codes {
		if ae.Code == c {
			return true
		}
	}
	return false
}

// IsNotFound reports a 10006 (the referenced object does not exist).
func IsNotFound(err error) bool { return hasCode(err, CodeNotFound) }

// IsBadParameters reports a 10003 (invalid parameters: do not retry unchanged).
func IsBadParameters(err error) bool { return hasCode(err, CodeBadParameters) }

// IsWrongState reports that the desktop is not in a state that allows the operation: 13004 (rebuild
// needs stopped), 13011 (re-bind needs stopped), 13012 (unbind needs stopped) and 13002 (operation
// failed, typically busy). Observe, reorder or wait, then try again.
func IsWrongState(err error) bool {
	return hasCode(err, CodeRebuildNotStopped, CodeChangeAccountState, CodeUnbindNotStopped, CodeOperationFailed)
}

// IsQuota reports 12501 (monthly) or 12502 (per-minute) quota reached.
func IsQuota(err error) bool { return hasCode(err, CodeMonthlyQuota, CodeOnDemandQuota) }

// IsNoCapacity reports 13000 (no resources left at the site).
func IsNoCapacity(err error) bool { return hasCode(err, CodeNoCapacity) }

// IsBillingDirection reports 12503 (UpdateOrder on a monthly desktop) or 12504 (RenewalOrder on a
// per-minute one): there is no API from monthly back to per-minute.
func IsBillingDirection(err error) bool { return hasCode(err, CodeAlreadyMonthly, CodeNotMonthly) }

// IsPermission reports 10007 (insufficient permission).
func IsPermission(err error) bool { return hasCode(err, CodePermission) }

// IsUnknownOutcome reports whether err is (or wraps) an *UnknownOutcomeError.
func IsUnknownOutcome(err error) bool {
	var ue *UnknownOutcomeError
	return errors.As(err, &ue)
}

// transient reports an error of the server's side that says nothing about the request itself (HTTP
// 429 or 5xx): asking again later may succeed.
func (e *APIError) transient() bool { return e.Throttled || e.HTTPStatus == 429 || e.HTTPStatus >= 500 }

// IsThrottled reports a throttle that outlasted the client's own retries: an HTTP 429, or a throttle
// Code in an envelope (APIError.Throttled).
func IsThrottled(err error) bool {
	ae, ok := AsAPIError(err)
	return ok && (ae.Throttled || ae.HTTPStatus == 429)
}

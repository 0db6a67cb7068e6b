// Package gcw is the HTTP client of the GCW cloud-desktop API: signing, envelope decoding, mapping
// between the wire and the provider types, retries of what is safe to retry, rate limiting and
// bounded concurrency. It makes no decisions: planning and recovery belong to its callers.
//
// # Wire
//
// Every HTTP attempt is signed afresh (new SignatureNonce and Timestamp) with provider.Sign. GET
// actions carry their parameters in the signed query; POST actions send a JSON body of strings
// (arrays where the reference has arrays) and only the common parameters in the URL. Responses are
// accepted with Code/Message/Data or code/msg/data; Code is compared to "Success" case-insensitively;
// numbers sent as strings (and the reverse) are tolerated.
//
// # Retries
//
// Reads are the GET actions except RebuildVm, plus QueryVmPrice (a POST without side effects).
// Mutations are every other action (provider.ActionInfo.Mutating): CreateVm, OperateVm, RebuildVm,
// DeleteVm, CreateDefaultNet, SupplyDefaultNet, CreateSubAccount(s), UpdateOrder, RenewalOrder,
// ChangeAccount, BindAccounts, UnbindAccounts, ChangeVmName, UpdateVmLabels, ChangeSubAccountName and
// ChangeSubAccountRemark. The reference gives HTTP statuses no meaning and documents no de-duplication
// by requestId, so a mutation is sent again only when the previous attempt provably was not processed;
// anything else is an *provider.UnknownOutcomeError for the caller to settle by observing. Each attempt
// first waits for the shared token bucket and a slot of the shared concurrency bound; retries sleep
// rand(0, min(MaxBackoff, BaseBackoff*2^retry)), or a longer Retry-After (seconds, capped by MaxBackoff).
//
//	failure                                                  read          mutation
//	not sent: dial/DNS error, no connection (TLS handshake
//	  or proxy failed), header block never written           retry         retry
//	HTTP 429 whose body is an error envelope                 retry         retry
//	throttle Code (ThrottleCodes) in a 200 or 4xx envelope   retry         retry
//	HTTP 429 without an envelope                             retry         UnknownOutcomeError
//	any 5xx (503 included, whatever the body)                retry         UnknownOutcomeError
//	connection dropped / EOF / timeout after sending         retry         UnknownOutcomeError
//	200 whose body cannot be read or decoded                 APIError      UnknownOutcomeError
//	ctx cancelled while in flight                            ctx error     UnknownOutcomeError
//	ctx cancelled, limiter refusal before sending            error, final  error, final
//	3xx, 4xx other than 429 (no throttle Code)               APIError      APIError
//	envelope Code other than Success and the throttle codes  APIError      APIError
//
// "Not sent" comes from the request's httptrace events (net/http returns no error type for it): no
// GotConn, or no WroteHeaders. Retries stop at MaxRetries or when ctx ends; the last failure is
// returned (a throttle still refused after the retries is an *provider.APIError carrying its Code and
// HTTP status). A mutation sent as GET (RebuildVm) is made non-replayable so that net/http itself never
// re-sends it on a reused connection. Errors from a custom http.Client transport that does not report
// connection events are treated as "maybe sent" unless they are dial errors.
//
// Setters (ChangeVmName, UpdateVmLabels, ChangeSubAccountName/Remark) would leave the same state if
// sent twice, but they follow the same rule: the caller learns that its change may have landed, and
// the engine settles a repeatable call by observing and planning again rather than by a blind resend.
//
// # Tasks
//
// QueryTask sends the requestId it is given (the one of the call that made the task) and none when
// given none. Its status is matched case-insensitively to Running, Completed or Failed. Another value
// is returned as it came until MaxUnknownTaskStatus answers in a row for the same task carried one; that
// answer is an *provider.APIError (HTTP 200, no Code) instead, which ends provider.WaitTask at once:
// the task's outcome stays unknown, never a poll until the wait's timeout.
//
// # User-Agent
//
// Every request carries User-Agent: Config.UserAgent (default "deskfleet/dev").
//
// # Secrets
//
// The secret and the Signature values never appear in an error, a log line (debug included) or a
// String/GoString/LogValue of Config or Client: net/http errors, which embed the URL, are rebuilt with
// the URL reduced to the endpoint, the action and Signature=REDACTED, and any text coming back from the
// server (message, code, body) is scrubbed of the secret and the attempt's signature.
package gcw

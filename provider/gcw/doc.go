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
// Mutations are every other action. Each attempt first waits for the shared token bucket and a slot of
// the shared concurrency bound; retries sleep rand(0, min(MaxBackoff, BaseBackoff*2^retry)).
//
//	failure                                              read            mutation
//	dial error / no connection obtained (not sent)       retry           retry
//	HTTP 429 or 503 (assumed: refused before any work)   retry           retry
//	other 5xx                                            retry           UnknownOutcomeError
//	connection dropped / EOF / timeout after sending     retry           UnknownOutcomeError
//	200 whose body cannot be read or decoded             APIError        UnknownOutcomeError
//	ctx cancelled while in flight                        ctx error       UnknownOutcomeError
//	ctx cancelled, limiter refusal before sending        error, final    error, final
//	4xx other than 429, 3xx                              APIError        APIError
//	envelope Code other than Success                     APIError        APIError
//
// Retries stop at MaxRetries or when ctx ends; the last failure is returned. A mutation sent as GET
// (RebuildVm) is made non-replayable so that net/http itself never re-sends it on a reused connection.
// Errors from a custom http.Client transport that does not report connection events are treated as
// "maybe sent" unless they are dial errors.
//
// # Secrets
//
// The secret and the Signature values never appear in an error, a log line (debug included) or a
// String/GoString/LogValue of Config or Client: net/http errors, which embed the URL, are rebuilt with
// the URL reduced to the endpoint, the action and Signature=REDACTED, and any text coming back from the
// server (message, code, body) is scrubbed of the secret and the attempt's signature.
package gcw

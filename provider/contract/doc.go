// Package contract holds the contract test suite between the real GCW client (provider/gcw) and the
// API emulator (provider/sim), which were written independently from the vendor's API reference and
// docs/api-readings.md.
//
// The tests run the gcw client against the sim over HTTP on loopback, with signatures checked and the
// emulator's clock under the test's control, and prove that:
//
//   - every one of the 30 actions travels, is accepted and decodes into the typed results of
//     package provider with its fields mapped (not merely "no error");
//   - every rule docs/api-readings.md lists under "Rules the reference states" reaches the caller
//     as the documented error code, through the provider.Is* helpers, while the call that respects
//     the rule succeeds;
//   - the emulator rejects bad signatures (wrong secret, reused nonce, stale timestamp, unknown key)
//     and the client surfaces each as a typed *provider.APIError;
//   - injected faults are reproducible from a seed, and the client reacts to each fault kind as the
//     provider.Client contract says: reads and refused requests are retried, a mutation whose outcome
//     is unknown is reported as *provider.UnknownOutcomeError and never retried, failed tasks end in
//     *provider.TaskFailedError;
//   - a canary secret and the signatures sent never appear in errors or debug logs.
//
// Where the two sides disagreed, the side contradicting the reference was fixed in its own package
// with a unit test there; the tests here name the reading of the reference they rely on.
package contract

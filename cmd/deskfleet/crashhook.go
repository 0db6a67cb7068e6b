package main

import "github.com/deskfleet/deskfleet/state"

// withCrashHook wraps the state store that apply records its intents in. In deskfleet it returns the
// store unchanged; the CLI tests, which run their test binary as deskfleet, set it to a fault-injection
// hook of their own (crashhook_test.go), so a release build has no hook and reads no variable for one.
var withCrashHook = func(st state.Store) state.Store { return st }

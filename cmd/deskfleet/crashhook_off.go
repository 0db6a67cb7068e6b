//go:build !deskfleet_testhooks

package main

import "github.com/deskfleet/deskfleet/state"

// withCrashHook returns st unchanged: the crash-test hook (crashhook.go) exists only in binaries built
// with the deskfleet_testhooks build tag, so a release build ignores DESKFLEET_CRASH_AFTER_INTENT.
func withCrashHook(st state.Store) state.Store { return st }

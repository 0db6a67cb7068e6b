//go:build !race

package engine_test

// raceEnabled: the tests run under the race detector (go test -race), several times slower; the
// reliability figures then run on fewer seeds.
const raceEnabled = false

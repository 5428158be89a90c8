//go:build race

package transform

// raceEnabled reports whether the tests run under the race detector, which
// slows goja several times over.
const raceEnabled = true

//go:build race

package e2e

// raceEnabled makes TestMain build the sluice binary with the race
// detector when the tests themselves run with -race (as CI does).
const raceEnabled = true

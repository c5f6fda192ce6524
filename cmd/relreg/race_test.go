//go:build race

package main

// raceEnabled is set when the tests run under the race detector, whose
// binaries start slowly; tests that start many processes start fewer.
const raceEnabled = true

//go:build race

package hardening

// raceEnabled: the test binary runs under the race detector, so the settle binary is built
// with -race too (it reuses the race-built packages of `go test -race ./...`).
const raceEnabled = true

//go:build race

package dialect

// raceEnabled: the race detector slows allocation-heavy tests tenfold and changes what the
// heap holds, so memory measurements are not taken under it.
const raceEnabled = true

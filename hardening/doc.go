// Package hardening holds settle's end-to-end hardening tests (issue 7). They build the real
// binary once per test binary (TestMain) and run it as a child process, so that SIGKILL, two
// runs at once, a full disk and hostile input are real:
//
//   - reproducible runs: SOURCE_DATE_EPOCH gives byte-identical run directories;
//   - crash safety: a run killed at any moment leaves the store consistent;
//   - locks: a second run of a date waits, naming the holder, or fails after --lock-timeout;
//   - hostile input: path-like ids, formulas, non-BMP text, huge fields, garbage, zip bombs;
//   - secrets and permissions: the BOSS token never leaks, outputs are ordinary files in the store.
//
// The package has no code of its own; see the _test.go files.
package hardening

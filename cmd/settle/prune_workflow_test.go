package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"settle/workflow"
)

// TestPruneWorkflowPins: sign-offs in the workflow database pin runs as the sign-off log's
// did: a run certified and then returned (its certification is in the event log only) and a
// run certified now both stay; the unsigned one goes. A database that cannot be read stops
// the prune, and prune creates no database where there is none.
func TestPruneWorkflowPins(t *testing.T) {
	st := t.TempDir()
	var ids []string
	for range 4 {
		code, out, errs := settle(t, "run", "--date", "2026-10-01", "--store", st, "--source", "demo?outlets=1&counters=1&seed=2",
			"--formats", "", "--quiet")
		if code != exitOK {
			t.Fatalf("run: exit %d: %s", code, errs)
		}
		ids = append(ids, strings.Fields(out)[0])
	}
	runDir := func(id string) string { return filepath.Join(st, "2026-10-01", "runs", id) }
	// Without a database: prune makes none.
	if code, _, errs := settle(t, "prune", "--store", st, "--keep-days", "0", "--keep-runs", "0", "--dry-run"); code != exitOK {
		t.Fatalf("prune: %s", errs)
	}
	if _, err := os.Stat(filepath.Join(st, workflow.FileName)); !os.IsNotExist(err) {
		t.Fatalf("prune created the workflow database: %v", err)
	}
	ctx := context.Background()
	db, err := workflow.Open(st, workflow.Options{})
	if err != nil {
		t.Fatal(err)
	}
	clerk := workflow.Actor{User: "zhang", Role: "clerk"}
	rev := workflow.Actor{User: "li", Role: "reviewer"}
	sign := func(a workflow.Actor, action, run string) {
		t.Helper()
		if _, err := db.Sign(ctx, a, workflow.Signoff{Action: action, Date: "2026-10-01", Outlet: "TY0001", Counter: "TY0001-01", RunID: run, PDFSHA256: "x", Comment: "wrong deposit slip"}); err != nil {
			t.Fatalf("%s %s: %v", action, run, err)
		}
	}
	sign(clerk, workflow.ActCertify, ids[0])
	sign(rev, workflow.ActReturn, "")
	sign(clerk, workflow.ActCertify, ids[1])
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	code, out, errs := settle(t, "prune", "--store", st, "--keep-days", "0", "--keep-runs", "0", "--lang", "en")
	if code != exitOK {
		t.Fatalf("prune: exit %d: %s", code, errs)
	}
	for i, id := range ids {
		_, err := os.Stat(runDir(id))
		if gone := i == 2; gone != os.IsNotExist(err) {
			t.Errorf("run %d (%s): stat %v after prune:\n%s", i, id, err, out)
		}
	}
	// A database that cannot be read stops the prune: retention never guesses.
	if err := os.WriteFile(filepath.Join(st, workflow.FileName), []byte("not a database, but long enough to be read as one...................................................................................."), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{workflow.FileName + "-wal", workflow.FileName + "-shm"} {
		os.Remove(filepath.Join(st, f))
	}
	if code, _, errs := settle(t, "prune", "--store", st, "--keep-days", "0", "--keep-runs", "0"); code != exitFailed || !strings.Contains(errs, workflow.FileName) {
		t.Errorf("unreadable workflow database: exit %d: %s", code, errs)
	}
	if _, err := os.Stat(runDir(ids[0])); err != nil {
		t.Errorf("a pinned run went with an unreadable database: %v", err)
	}
}

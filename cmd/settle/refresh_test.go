package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"settle/store"
)

// TestRefreshAndKeptSourceFlags: --counters and --source store:DATE on the command line.
func TestRefreshAndKeptSourceFlags(t *testing.T) {
	src := t.TempDir()
	if code, _, errs := settle(t, "fixtures", "generate", "--date", "2026-11-21", "--out", src, "--outlets", "2",
		"--counters", "2", "--layout", "counter"); code != 0 {
		t.Fatalf("generate: %d %s", code, errs)
	}
	st := t.TempDir()
	run := func(args ...string) (int, string) {
		code, _, errs := settle(t, append([]string{"run", "--date", "2026-11-21", "--store", st, "--quiet", "--formats", "xlsx"}, args...)...)
		return code, errs
	}
	if code, errs := run("--source", src, "--counters", "TY0001-01"); code != exitFailed || !strings.Contains(errs, "no run to refresh") {
		t.Errorf("refresh before any run: exit %d, %q", code, errs)
	}
	if code, errs := run("--source", src, "--counters", "TY0001-01,../x"); code != exitUsage || !strings.Contains(errs, "--counters") {
		t.Errorf("bad counter id: exit %d, %q", code, errs)
	}
	if code, errs := run("--source", "store:2026-11-20"); code != exitUsage || !strings.Contains(errs, "store:2026-11-20") {
		t.Errorf("kept inputs of another date: exit %d, %q", code, errs)
	}
	if code, errs := run("--source", src); code != exitOK {
		t.Fatalf("full run: exit %d, %s", code, errs)
	}
	// A counter no input names (a typo) is refused: nothing published.
	s, err := store.Open(st)
	if err != nil {
		t.Fatal(err)
	}
	before, _, _ := s.Current("2026-11-21")
	if code, errs := run("--source", src, "--counters", "TY0001-99"); code != exitFailed || !strings.Contains(errs, "TY0001-99") {
		t.Errorf("refresh of an unknown counter: exit %d, %q, want 1 naming it", code, errs)
	}
	if after, _, _ := s.Current("2026-11-21"); after != before {
		t.Errorf("a refresh of an unknown counter published %s", after)
	}
	if code, errs := run("--source", src, "--counters", "TY0001-01"); code != exitOK {
		t.Fatalf("refresh: exit %d, %s", code, errs)
	}
	if err != nil {
		t.Fatal(err)
	}
	dir, _, _ := s.Current("2026-11-21")
	m, err := store.ReadManifest(filepath.Join(dir, store.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	rendered := 0
	for _, rec := range m.Reports {
		if rec.RenderedIn == m.RunID {
			rendered++
		}
	}
	if rendered != 0 {
		t.Errorf("a refresh over unchanged inputs rendered %d reports", rendered)
	}
	if err := os.RemoveAll(src); err != nil {
		t.Fatal(err)
	}
	if code, errs := run("--source", "store:2026-11-21"); code != exitOK {
		t.Fatalf("rerun from kept inputs: exit %d, %s", code, errs)
	}
}

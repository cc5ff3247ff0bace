package store

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPruneKeptInputs: a date's kept inputs (<date>/inputs/<sha256>.zst) go when no run left
// in runs/ names them, with the inputs folder's .tmp-* leftovers; the bytes freed count a
// file once its last link goes; a dry run lists the same and removes nothing.
func TestPruneKeptInputs(t *testing.T) {
	const date = "2026-10-01"
	sum := func(c byte) string { return strings.Repeat(string(c), 64) }
	// Inputs a..e of sizes 1, 10, 100, 1000, 10000; the runs name them so:
	//   r1: a b    r2: b c    r3 (current): c d    nobody: e
	size := map[byte]int{'a': 1, 'b': 10, 'c': 100, 'd': 1000, 'e': 10000}
	names := map[string]string{"r1": "ab", "r2": "bc", "r3": "cd"}
	type tc struct {
		name     string
		keepDays int // with Today 2026-12-05: 0 or 30 (old), 90 (recent)
		keepRuns int
		pinned   []string // run ids a sign-off pins
		closed   []string // run ids a closed period used
		broken   string   // a run whose manifest is not JSON
		noKept   string   // a run written before settle kept inputs (no kept section)
		backup   bool     // input e is hard-linked from outside the store's inputs
		runsGone []string
		gone     string // the inputs removed, by letter
		freed    int64  // bytes freed by the inputs (not the runs)
		held     bool
	}
	for _, c := range []tc{
		{name: "all but current go: exactly current's inputs stay", runsGone: []string{"r1", "r2"}, gone: "abe", freed: 1 + 10 + 10000},
		{name: "keep-runs 2 keeps r2's inputs", keepRuns: 2, runsGone: []string{"r1"}, gone: "ae", freed: 1 + 10000},
		{name: "a pinned run keeps its inputs", pinned: []string{"r1"}, runsGone: []string{"r2"}, gone: "e", freed: 10000},
		{name: "a closed period's run keeps its inputs", closed: []string{"r2"}, runsGone: []string{"r1"}, gone: "ae", freed: 1 + 10000},
		{name: "recent date: runs stay, only unnamed inputs go", keepDays: 90, gone: "e", freed: 10000},
		{name: "a run without kept inputs names none", noKept: "r3", runsGone: []string{"r1", "r2"}, gone: "abcde", freed: 11111},
		{name: "a staying run that cannot be read holds every input", keepRuns: 2, broken: "r2", runsGone: []string{"r1"}, gone: "", held: true},
		{name: "a removed run that cannot be read does not hold them", broken: "r1", runsGone: []string{"r1", "r2"}, gone: "abe", freed: 10011},
		{name: "an input linked elsewhere frees nothing", backup: true, runsGone: []string{"r1", "r2"}, gone: "abe", freed: 1 + 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			f := pruneFixture{t, dir}
			for _, id := range []string{"r1", "r2", "r3"} {
				man := `{"run_id":"` + id + `","kept":{"inputs":[`
				for i, l := range []byte(names[id]) {
					if i > 0 {
						man += ","
					}
					man += `{"feed":"order","name":"x","format":"csv","sha256":"` + sum(l) + `","size":1}`
				}
				man += "]}}"
				switch id {
				case c.broken:
					man = "{not json"
				case c.noKept:
					man = `{"run_id":"` + id + `"}`
				}
				p := f.file(date+"/runs/"+id+"/manifest.json", 0)
				if err := os.WriteFile(p, []byte(man), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			f.current(date, "r3")
			for l, n := range size {
				f.file(date+"/inputs/"+sum(l)+".zst", n)
			}
			f.file(date+"/inputs/.tmp-"+sum('f')+"-3", 7) // a killed run's half-written input
			f.file(date+"/inputs/README", 5)              // not a kept input: left alone
			if c.backup {
				f.link(date+"/inputs/"+sum('e')+".zst", "backup/e.zst")
			}
			if len(c.closed) > 0 {
				if p := f.file("periods/2026-10-01_2026-10-31/closed.json", 0); os.WriteFile(p, []byte(`{"closed":true}`), 0o644) != nil {
					t.Fatal("write closed.json")
				}
				p := f.file("periods/2026-10-01_2026-10-31/runs/p1/manifest.json", 0)
				if err := os.WriteFile(p, []byte(`{"runs_used":{"`+date+`":["`+strings.Join(c.closed, `","`)+`"]}}`), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			st, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			inputsNow := func() []string {
				ents, err := os.ReadDir(filepath.Join(dir, date, InputsName))
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, e := range ents {
					out = append(out, e.Name())
				}
				return out
			}
			before, beforeRuns := inputsNow(), existing(t, dir)
			var wantFiles, wantLeft []string
			for _, name := range before {
				l := name[0]
				if strings.HasSuffix(name, ".zst") && strings.ContainsRune(c.gone, rune(l)) {
					wantFiles = append(wantFiles, name)
				} else if !strings.HasPrefix(name, ".tmp-") {
					wantLeft = append(wantLeft, name)
				}
			}
			var wantRuns []string
			for _, id := range c.runsGone {
				wantRuns = append(wantRuns, date+"/runs/"+id)
			}
			pins := map[RunRef]bool{}
			for _, id := range c.pinned {
				pins[RunRef{date, id}] = true
			}
			for _, dry := range []bool{true, false} {
				rep, err := st.Prune(context.Background(), PruneOptions{KeepDays: c.keepDays, KeepRuns: c.keepRuns, DryRun: dry,
					Today:  time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC),
					Pinned: func() (map[RunRef]bool, error) { return pins, nil }})
				if err != nil {
					t.Fatal(err)
				}
				var runs, files []string
				var leftover, inputs int
				var inputBytes int64
				for _, r := range rep.Removed {
					rel, _ := filepath.Rel(dir, r.Path)
					rel = filepath.ToSlash(rel)
					switch {
					case r.Reason == ReasonPolicy:
						runs = append(runs, rel)
					case r.Reason == ReasonLeftover:
						leftover++
						if rel != date+"/inputs/.tmp-"+sum('f')+"-3" || r.Bytes != 7 {
							t.Errorf("dry=%v: leftover %s of %d bytes", dry, rel, r.Bytes)
						}
					case r.Reason == ReasonInputs:
						inputs++
						files, inputBytes = r.Files, r.Bytes
						if rel != date+"/inputs" || r.Date != date {
							t.Errorf("dry=%v: inputs removal at %s (%s)", dry, rel, r.Date)
						}
					}
				}
				if !slices.Equal(runs, wantRuns) {
					t.Errorf("dry=%v: runs removed %v, want %v", dry, runs, wantRuns)
				}
				if leftover != 1 {
					t.Errorf("dry=%v: %d inputs leftovers removed, want 1", dry, leftover)
				}
				if !slices.Equal(files, wantFiles) || inputBytes != c.freed {
					t.Errorf("dry=%v: inputs removed %v (%d bytes), want %v (%d bytes)", dry, files, inputBytes, wantFiles, c.freed)
				}
				if want := min(len(wantFiles), 1); inputs != want {
					t.Errorf("dry=%v: %d inputs removals, want %d", dry, inputs, want)
				}
				if held := len(rep.InputsHeld) == 1 && rep.InputsHeld[0].Date == date; held != c.held || (!c.held && len(rep.InputsHeld) > 0) {
					t.Errorf("dry=%v: held %+v, want held %v", dry, rep.InputsHeld, c.held)
				}
				var total int64
				for _, r := range rep.Removed {
					total += r.Bytes
				}
				if rep.Bytes != total {
					t.Errorf("dry=%v: total %d, sum of removals %d", dry, rep.Bytes, total)
				}
				if dry {
					if now := inputsNow(); !slices.Equal(now, before) {
						t.Errorf("dry run changed the inputs: %v, was %v", now, before)
					}
					if now := existing(t, dir); !slices.Equal(now, beforeRuns) {
						t.Errorf("dry run changed the runs: %v, was %v", now, beforeRuns)
					}
				}
			}
			if now := inputsNow(); !slices.Equal(now, wantLeft) {
				t.Errorf("inputs left %v, want %v", now, wantLeft)
			}
			// What stays is whole: every remaining run's kept inputs read back.
			if c.broken == "" {
				ids, err := st.Runs(date)
				if err != nil {
					t.Fatal(err)
				}
				for _, id := range ids {
					sums, err := keptSums(filepath.Join(dir, date, runsName, id, ManifestName))
					if err != nil {
						t.Fatal(err)
					}
					for _, s := range sums {
						if _, err := os.Stat(filepath.Join(dir, date, InputsName, s+".zst")); err != nil {
							t.Errorf("run %s lost its input: %v", id, err)
						}
					}
				}
			}
		})
	}
}

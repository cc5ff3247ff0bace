package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Names of the month-end close (PERIOD.md) that retention reads.
const (
	periodsName = "periods"
	closedName  = "closed.json"
)

// RunRef names a run of a date.
type RunRef struct{ Date, RunID string }

// PinnedRuns returns the runs that sign-offs pin, which Prune never removes: cmd/settle
// reads them from the sign-off log and the workflow database.
type PinnedRuns func() (map[RunRef]bool, error)

// PruneOptions is a retention policy. A published run is removed only when none of these
// keeps it: it is its date's current run; a sign-off pins it; a closed period used it; its
// date is less than KeepDays days before Today; it is one of the KeepRuns runs of its date
// published last.
type PruneOptions struct {
	KeepDays int
	KeepRuns int
	// Today is the business date prune runs on (Asia/Shanghai); only its date counts.
	Today time.Time
	// Pinned gives the runs sign-offs pin; nil: none.
	Pinned PinnedRuns
	// DryRun lists what would go and removes nothing.
	DryRun bool
	// LockTimeout is how long to wait for each date's lock; a date still locked then is
	// skipped and named in PruneReport.Busy. <= 0 tries once.
	LockTimeout time.Duration
}

// Reasons a directory is removed.
const (
	ReasonPolicy   = "policy"   // a published run no rule keeps
	ReasonLeftover = "leftover" // runs/.tmp-<id> or inputs/.tmp-*: what an interrupted run left
	ReasonInputs   = "inputs"   // kept inputs no remaining run of the date names
	ReasonCache    = "cache"    // <date>/parsed of a date past KeepDays: a cache for reruns
)

// Removal is one directory Prune removed (or, dry, would remove).
type Removal struct {
	Date   string
	RunID  string // the run id; for a leftover, the name after ".tmp-"
	Path   string
	Reason string // ReasonPolicy, ReasonLeftover or ReasonInputs
	// Bytes are the bytes of the files whose last link goes with this directory: a file
	// hard-linked from a run that stays frees nothing.
	Bytes int64
	// Files are, for ReasonInputs, the kept inputs removed from Path (<date>/inputs), by
	// name (<sha256>.zst), sorted: one Removal per date lists them all.
	Files []string
}

// PruneReport is what Prune removed.
type PruneReport struct {
	// Removed is by date; within a date, the run directories by path, then the inputs
	// folder's leftovers, then one Removal for the date's unnamed kept inputs.
	Removed []Removal
	Bytes   int64    // sum of Removed's Bytes
	Busy    []string // dates skipped because a run held their lock
	// InputsHeld are the dates whose unnamed kept inputs were left in place because a run
	// that stays could not be read (its manifest missing or not JSON): retention never
	// guesses which inputs it needs.
	InputsHeld []InputsHeld
}

// InputsHeld is a date whose kept inputs Prune left, and why.
type InputsHeld struct {
	Date string
	Err  error
}

// Prune applies the retention policy to every date of the store, each under its lock: it
// removes published runs no rule keeps and runs/.tmp-* leftovers, then the date's kept
// inputs that no run left in runs/ names in its manifest and inputs/.tmp-* leftovers, and
// reports them with the bytes freed. Dates are walked oldest first; a date whose lock is held is skipped. An error
// reading the pins (sign-offs, closed periods) removes nothing: retention must never guess.
func (s *Store) Prune(ctx context.Context, o PruneOptions) (*PruneReport, error) {
	if o.KeepDays < 0 || o.KeepRuns < 0 {
		return nil, fmt.Errorf("prune: keep-days %d, keep-runs %d: must not be negative", o.KeepDays, o.KeepRuns)
	}
	keep, err := s.periodRuns()
	if err != nil {
		return nil, err
	}
	if o.Pinned != nil {
		pins, err := o.Pinned()
		if err != nil {
			return nil, fmt.Errorf("prune: runs pinned by sign-offs: %w", err)
		}
		for r := range pins {
			keep.runs[r] = true
		}
	}
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("prune %q: %w", s.dir, err)
	}
	today := time.Date(o.Today.Year(), o.Today.Month(), o.Today.Day(), 0, 0, 0, 0, time.UTC)
	rep := &PruneReport{}
	links := linkCounts{}
	for _, e := range ents { // ReadDir sorts by name: dates oldest first
		date := e.Name()
		if !e.IsDir() || checkDate(date) != nil {
			continue
		}
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		d, _ := time.Parse(time.DateOnly, date)
		recent := o.KeepDays > 0 && today.Sub(d) < time.Duration(o.KeepDays)*24*time.Hour
		unlock, err := s.Lock(ctx, date, o.LockTimeout, nil)
		if errors.Is(err, ErrLocked) {
			rep.Busy = append(rep.Busy, date)
			continue
		}
		if err != nil {
			return rep, err
		}
		err = s.pruneDate(date, recent, o, keep, links, rep)
		if uerr := unlock(); err == nil {
			err = uerr
		}
		if err != nil {
			return rep, err
		}
	}
	for _, r := range rep.Removed {
		rep.Bytes += r.Bytes
	}
	return rep, nil
}

// pruneDate prunes one date; the caller holds its lock.
func (s *Store) pruneDate(date string, recent bool, o PruneOptions, keep *periodKeep, links linkCounts, rep *PruneReport) error {
	dd := filepath.Join(s.dir, date)
	runsDir := filepath.Join(dd, runsName)
	ents, err := os.ReadDir(runsDir)
	if errors.Is(err, fs.ErrNotExist) { // a first run that died before it began: its cache may be there
		return s.pruneCache(date, recent, o, links, rep)
	}
	if err != nil {
		return fmt.Errorf("prune %s: %w", date, err)
	}
	var gone []Removal
	for _, e := range ents {
		if id, ok := strings.CutPrefix(e.Name(), tmpPrefix); ok && e.IsDir() {
			gone = append(gone, Removal{Date: date, RunID: id, Path: filepath.Join(runsDir, e.Name()), Reason: ReasonLeftover})
		}
	}
	if !recent {
		current := ""
		if target, err := os.Readlink(filepath.Join(dd, currentName)); err == nil {
			current, _ = strings.CutPrefix(target, runsName+"/")
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("prune %s: read current: %w", date, err)
		}
		ids, err := s.Runs(date) // in publication order
		if err != nil {
			return fmt.Errorf("prune %s: %w", date, err)
		}
		for i, id := range ids {
			switch {
			case id == current, i >= len(ids)-o.KeepRuns, keep.runs[RunRef{date, id}], keep.dates[date]:
				continue
			}
			gone = append(gone, Removal{Date: date, RunID: id, Path: filepath.Join(runsDir, id), Reason: ReasonPolicy})
		}
	}
	slices.SortFunc(gone, func(a, b Removal) int { return strings.Compare(a.Path, b.Path) })
	for _, g := range gone {
		n, err := links.freed(g.Path)
		if err != nil {
			return fmt.Errorf("prune %s: %w", date, err)
		}
		g.Bytes = n
		if !o.DryRun {
			if err := os.RemoveAll(g.Path); err != nil {
				return fmt.Errorf("prune %s: remove %q: %w", date, g.Path, err)
			}
		}
		rep.Removed = append(rep.Removed, g)
	}
	if len(gone) > 0 && !o.DryRun {
		if err := syncDir(runsDir); err != nil {
			return fmt.Errorf("prune %s: %w", date, err)
		}
	}
	goneDirs := map[string]bool{}
	for _, g := range gone {
		goneDirs[filepath.Base(g.Path)] = true
	}
	var stay []string
	for _, e := range ents {
		id, _ := strings.CutPrefix(e.Name(), oldPrefix)
		if e.IsDir() && !goneDirs[e.Name()] && checkRunID(id) == nil {
			stay = append(stay, filepath.Join(runsDir, e.Name()))
		}
	}
	if err := s.pruneInputs(date, stay, o, links, rep); err != nil {
		return err
	}
	return s.pruneCache(date, recent, o, links, rep)
}

// pruneCache removes the parse cache of a date past KeepDays: it serves reruns and refreshes
// of recent dates; an older date rerun reads its inputs again. (The date's current run and
// its kept inputs stay.)
func (s *Store) pruneCache(date string, recent bool, o PruneOptions, links linkCounts, rep *PruneReport) error {
	if recent {
		return nil
	}
	pc := filepath.Join(s.dir, date, ParsedName)
	if _, err := os.Stat(pc); err != nil {
		return nil
	}
	n, err := links.freed(pc)
	if err != nil {
		return fmt.Errorf("prune %s: %w", date, err)
	}
	rep.Removed = append(rep.Removed, Removal{Date: date, Path: pc, Reason: ReasonCache, Bytes: n})
	if !o.DryRun {
		if err := os.RemoveAll(pc); err != nil {
			return fmt.Errorf("prune %s: remove %q: %w", date, pc, err)
		}
	}
	return nil
}

// pruneInputs removes the date's kept inputs (<date>/inputs/<sha256>.zst) that no run in
// stay names in its manifest (the kept section), and the inputs folder's .tmp-* leftovers
// (a kept input half written by a killed run). stay is every directory of runs/ that the
// prune leaves, .old-<id> included (Begin may put it back). A run in stay whose manifest
// cannot be read keeps every input of the date (named in rep.InputsHeld). Files of other
// names are left alone. The caller holds the date's lock.
func (s *Store) pruneInputs(date string, stay []string, o PruneOptions, links linkCounts, rep *PruneReport) error {
	dir := filepath.Join(s.dir, date, InputsName)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("prune %s: %w", date, err)
	}
	var (
		leftovers []Removal
		kept      []string // <sha256>.zst files, sorted (ReadDir sorts)
	)
	for _, e := range ents {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, tmpPrefix) && e.Type().IsRegular():
			leftovers = append(leftovers, Removal{Date: date, RunID: strings.TrimPrefix(name, tmpPrefix), Path: filepath.Join(dir, name), Reason: ReasonLeftover})
		case e.Type().IsRegular() && strings.HasSuffix(name, ".zst") && validSum(strings.TrimSuffix(name, ".zst")):
			kept = append(kept, name)
		}
	}
	if len(kept) == 0 && len(leftovers) == 0 {
		return nil
	}
	named := map[string]bool{}
	var held error
	for _, run := range stay {
		sums, err := keptSums(filepath.Join(run, ManifestName))
		if err != nil {
			held = err
			break
		}
		for _, sum := range sums {
			named[sum+".zst"] = true
		}
	}
	if held != nil {
		rep.InputsHeld = append(rep.InputsHeld, InputsHeld{Date: date, Err: held})
		kept = nil
	}
	inputs := Removal{Date: date, Path: dir, Reason: ReasonInputs}
	for _, name := range kept {
		if named[name] {
			continue
		}
		n, err := links.freed(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("prune %s: %w", date, err)
		}
		inputs.Bytes += n
		inputs.Files = append(inputs.Files, name)
	}
	for i := range leftovers {
		n, err := links.freed(leftovers[i].Path)
		if err != nil {
			return fmt.Errorf("prune %s: %w", date, err)
		}
		leftovers[i].Bytes = n
	}
	if !o.DryRun {
		for _, l := range leftovers {
			if err := os.Remove(l.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("prune %s: remove %q: %w", date, l.Path, err)
			}
		}
		for _, name := range inputs.Files {
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("prune %s: remove kept input %q: %w", date, name, err)
			}
		}
		if len(leftovers)+len(inputs.Files) > 0 {
			if err := syncDir(dir); err != nil {
				return fmt.Errorf("prune %s: %w", date, err)
			}
		}
	}
	rep.Removed = append(rep.Removed, leftovers...)
	if len(inputs.Files) > 0 {
		rep.Removed = append(rep.Removed, inputs)
	}
	return nil
}

// keptSums returns the sha256s of the kept inputs a run's manifest names, and of its
// kept-inputs listing (none for a run written before settle kept inputs). A manifest that is
// missing or does not parse, or whose listing cannot be read, is an error.
func keptSums(path string) ([]string, error) {
	m, err := ReadManifest(path)
	if err != nil {
		return nil, err
	}
	if m.Kept == nil {
		return nil, nil
	}
	if err := m.Kept.Err(); err != nil {
		return nil, err
	}
	sums := make([]string, 0, len(m.Kept.Inputs)+1)
	for _, in := range m.Kept.Inputs {
		sums = append(sums, in.SHA256)
	}
	if m.Kept.Listing != "" {
		sums = append(sums, m.Kept.Listing)
	}
	return sums, nil
}

// linkCounts counts, per file (device and inode), the links prune has seen go and the link
// count the file had when first seen: its bytes are freed when the last link goes. Counting
// against the first link count makes a dry run and a real one agree.
type linkCounts map[fileKey]*linkSeen

type linkSeen struct {
	nlink, seen uint64
}

// freed returns the bytes of the files under dir whose every link has now been seen.
func (lc linkCounts) freed(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		key, nlink, ok := fileIdentity(fi)
		if !ok || nlink <= 1 {
			total += fi.Size()
			return nil
		}
		ls := lc[key]
		if ls == nil {
			ls = &linkSeen{nlink: nlink}
			lc[key] = ls
		}
		ls.seen++
		if ls.seen == ls.nlink {
			total += fi.Size()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("size of %q: %w", dir, err)
	}
	return total, nil
}

// periodKeep is what closed periods keep: the runs their published reports used, and whole
// dates of a closed period none of whose reports says which runs it used.
type periodKeep struct {
	runs  map[RunRef]bool
	dates map[string]bool
}

// periodManifest is the part of a period run's manifest.json retention reads.
type periodManifest struct {
	RunsUsed map[string][]string `json:"runs_used"`
}

// periodRuns reads <store>/periods/<from>_<to>/: for each closed period (closed.json), the
// runs_used of every published period run. A closed period with no run that names its runs
// keeps every run of its dates. A manifest that cannot be read is an error.
func (s *Store) periodRuns() (*periodKeep, error) {
	k := &periodKeep{runs: map[RunRef]bool{}, dates: map[string]bool{}}
	root := filepath.Join(s.dir, periodsName)
	periods, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return k, nil
	}
	if err != nil {
		return nil, fmt.Errorf("prune: read periods: %w", err)
	}
	for _, p := range periods {
		if !p.IsDir() || strings.HasPrefix(p.Name(), ".") {
			continue
		}
		pdir := filepath.Join(root, p.Name())
		cdata, err := os.ReadFile(filepath.Join(pdir, closedName))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("prune: period %s: %w", p.Name(), err)
		}
		var closure struct {
			Closed bool   `json:"closed"`
			RunID  string `json:"run_id"`
		}
		if err := json.Unmarshal(cdata, &closure); err != nil {
			return nil, fmt.Errorf("prune: period %s: %q: %w", p.Name(), filepath.Join(pdir, closedName), err)
		}
		if !closure.Closed {
			continue // reopened: its runs are kept by the policy alone, like any date's
		}
		named := false
		runs, err := os.ReadDir(filepath.Join(pdir, runsName))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("prune: period %s: %w", p.Name(), err)
		}
		for _, r := range runs {
			if !r.IsDir() || strings.HasPrefix(r.Name(), ".") {
				continue
			}
			if closure.RunID != "" && r.Name() != closure.RunID {
				continue // the period's report of record is the one closed; earlier drafts keep nothing
			}
			path := filepath.Join(pdir, runsName, r.Name(), "manifest.json")
			data, err := os.ReadFile(path)
			if err != nil {
				return nil, fmt.Errorf("prune: closed period %s: %w", p.Name(), err)
			}
			var m periodManifest
			if err := json.Unmarshal(data, &m); err != nil {
				return nil, fmt.Errorf("prune: closed period %s: %q: %w", p.Name(), path, err)
			}
			if m.RunsUsed != nil {
				named = true
			}
			for date, ids := range m.RunsUsed {
				for _, id := range ids {
					k.runs[RunRef{date, id}] = true
				}
			}
		}
		if !named {
			from, to, ok := strings.Cut(p.Name(), "_")
			if checkDate(from) != nil || checkDate(to) != nil || !ok {
				return nil, fmt.Errorf("prune: closed period %q: want <from>_<to> dates and a published run naming its runs_used", pdir)
			}
			f, _ := time.Parse(time.DateOnly, from)
			t, _ := time.Parse(time.DateOnly, to)
			for d := f; !d.After(t); d = d.AddDate(0, 0, 1) {
				k.dates[d.Format(time.DateOnly)] = true
			}
		}
	}
	return k, nil
}

// KeptSize returns the bytes on disk of the distinct kept inputs the manifest of runDir (a
// run of date) names: what the run keeps in <date>/inputs beside its own directory. An
// input named but absent counts nothing.
func (s *Store) KeptSize(date, runDir string) (int64, error) {
	sums, err := keptSums(filepath.Join(runDir, ManifestName))
	if err != nil {
		return 0, err
	}
	dir := filepath.Join(s.dir, date, InputsName)
	seen := map[string]bool{}
	var n int64
	for _, sum := range sums {
		if seen[sum] || !validSum(sum) {
			continue
		}
		seen[sum] = true
		fi, err := os.Stat(filepath.Join(dir, sum+".zst"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, err
		}
		n += fi.Size()
	}
	return n, nil
}

// InputsUse sums the kept inputs of every date of the store: their bytes (apparent sizes of
// the files in <date>/inputs), the dates that have any and the files.
func (s *Store) InputsUse() (bytes int64, dates, files int, err error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("kept inputs of %q: %w", s.dir, err)
	}
	for _, e := range ents {
		if !e.IsDir() || checkDate(e.Name()) != nil {
			continue
		}
		ins, err := os.ReadDir(filepath.Join(s.dir, e.Name(), InputsName))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, 0, 0, fmt.Errorf("kept inputs of %s: %w", e.Name(), err)
		}
		n := 0
		for _, in := range ins {
			if !in.Type().IsRegular() {
				continue
			}
			fi, err := in.Info()
			if err != nil {
				return 0, 0, 0, fmt.Errorf("kept inputs of %s: %w", e.Name(), err)
			}
			bytes += fi.Size()
			n++
		}
		if n > 0 {
			dates++
			files += n
		}
	}
	return bytes, dates, files, nil
}

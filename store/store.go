// Package store is settle's run store (OUTPUTS.md "Run store"): one directory per business
// date, one directory per run under it, written under a temporary name and renamed into
// place when whole, and a `current` symbolic link switched atomically to the latest run that
// finished. Runs of one date are serialized by a lock file (flock(2)).
//
//	<store>/<date>/.lock             held while a run of the date writes
//	<store>/<date>/runs/<run_id>/    a published run
//	<store>/<date>/runs/.tmp-<id>/   a run being written (removed by the next Begin if left)
//	<store>/<date>/current           symlink "runs/<run_id>"
//	<store>/<date>/published/<seq>-<run_id>   empty: the order runs were published in
package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"settle/internal/atomicfile"
)

// Names inside a date directory.
const (
	lockName    = ".lock"
	runsName    = "runs"
	currentName = "current"
	tmpPrefix   = ".tmp-"     // runs/.tmp-<id>: a run being written
	oldPrefix   = ".old-"     // runs/.old-<id>: a run of the same id moved aside by Publish
	linkPrefix  = ".current-" // <date>/.current-<id>: the new symlink before it is renamed
)

// Store is a run store rooted at a directory. Its methods are safe for concurrent use.
type Store struct {
	dir string
	// check validates the name of a directory under dir (a date: checkDate); OpenPeriods
	// stores periods, named from_to.
	check func(string) error

	mu     sync.Mutex
	locked map[string]bool // dates whose lock this Store holds
	// keeping holds, by date, the kept inputs Keep is still compressing and writing
	// (keptWritten waits for them).
	keeping map[string][]*keepBatch
	// stages holds, by date, the run directory made ahead for the date's next run (Stage).
	stages map[string]*staged
}

// Open opens the store at dir, creating the directory if needed.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("open store: empty directory name")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open store %q: %w", dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("open store %q: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("open store %q: not a directory", dir)
	}
	return &Store{dir: dir, locked: map[string]bool{}}, nil
}

// Dir returns the store's root directory as given to Open.
func (s *Store) Dir() string { return s.dir }

// dateDir validates date and returns its directory.
func (s *Store) dateDir(date string) (string, error) {
	check := checkDate
	if s.check != nil {
		check = s.check
	}
	if err := check(date); err != nil {
		return "", err
	}
	return filepath.Join(s.dir, date), nil
}

// checkDate accepts a calendar date written YYYY-MM-DD.
func checkDate(date string) error {
	t, err := time.Parse(time.DateOnly, date)
	if err != nil || t.Format(time.DateOnly) != date {
		return fmt.Errorf("invalid date %q: want YYYY-MM-DD", date)
	}
	return nil
}

// ValidRunID accepts 1–64 characters of [A-Za-z0-9._-] not starting with '.': NewRunID's
// ids, and nothing that could name another path. Callers that take a run id from outside
// (the web pages' URLs) check it with this before asking the store.
func ValidRunID(id string) bool {
	ok := id != "" && len(id) <= 64 && id[0] != '.'
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
	}
	return ok
}

// checkRunID is ValidRunID as an error naming the id.
func checkRunID(id string) error {
	if !ValidRunID(id) {
		return fmt.Errorf("invalid run id %q", id)
	}
	return nil
}

// Current returns the directory of the date's current run. ok is false, with a nil error,
// when the date has no current run; a current link whose run is gone is an error wrapping
// fs.ErrNotExist.
func (s *Store) Current(date string) (runDir string, ok bool, err error) {
	dd, err := s.dateDir(date)
	if err != nil {
		return "", false, err
	}
	link := filepath.Join(dd, currentName)
	target, err := os.Readlink(link)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read current run of %s: %w", date, err)
	}
	id, found := strings.CutPrefix(target, runsName+"/")
	if !found || checkRunID(id) != nil {
		return "", false, fmt.Errorf("read current run of %s: %q points to %q, not %s/<run_id>", date, link, target, runsName)
	}
	runDir = filepath.Join(dd, runsName, id)
	fi, err := os.Stat(runDir)
	if err != nil {
		return "", false, fmt.Errorf("read current run of %s: %w", date, err)
	}
	if !fi.IsDir() {
		return "", false, fmt.Errorf("read current run of %s: %q is not a directory", date, runDir)
	}
	return runDir, true, nil
}

// ErrNoPrevious: the run has no run of its date published before it.
var ErrNoPrevious = errors.New("no run published before it")

// Previous returns the id of the run of date published just before run id, in the order of
// Runs (publication, not the clock). A date whose only run is id gives single = true and
// prev = id: a rerun over the same inputs and version under the same run id replaces the
// run, so a single run stands for all its identical reruns. A run that is not the date's,
// or is its first of several, gives ErrNoPrevious.
func (s *Store) Previous(date, id string) (prev string, single bool, err error) {
	runs, err := s.Runs(date)
	if err != nil {
		return "", false, err
	}
	i := slices.Index(runs, id)
	switch {
	case len(runs) == 1 && i == 0:
		return id, true, nil
	case i <= 0:
		return "", false, fmt.Errorf("%s@%s: %w", date, id, ErrNoPrevious)
	}
	return runs[i-1], false, nil
}

// Runs lists the ids of the date's published runs in the order they were published (see
// publishedName; runs published before settle recorded it come first, by id), so the last
// is the one current names unless a publish failed after its record; runs being written are
// left out. A date without runs gives an empty list.
func (s *Store) Runs(date string) ([]string, error) {
	dd, err := s.dateDir(date)
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(filepath.Join(dd, runsName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list runs of %s: %w", date, err)
	}
	var ids []string
	for _, e := range ents {
		if e.IsDir() && checkRunID(e.Name()) == nil {
			ids = append(ids, e.Name())
		}
	}
	slices.Sort(ids)
	last, _, err := publications(dd)
	if err != nil {
		return nil, fmt.Errorf("list runs of %s: %w", date, err)
	}
	sortByPublication(ids, last)
	return ids, nil
}

// RunDir returns the directory of a published run, or an error wrapping fs.ErrNotExist when
// there is no such run.
func (s *Store) RunDir(date, id string) (string, error) {
	dd, err := s.dateDir(date)
	if err != nil {
		return "", err
	}
	if err := checkRunID(id); err != nil {
		return "", err
	}
	dir := filepath.Join(dd, runsName, id)
	fi, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("run %s@%s: %w", date, id, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("run %s@%s: %q is not a directory", date, id, dir)
	}
	return dir, nil
}

func (s *Store) setLocked(date string, held bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if held {
		s.locked[date] = true
	} else {
		delete(s.locked, date)
	}
}

func (s *Store) holds(date string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.locked[date]
}

// syncDir fsyncs a directory so that entries created, renamed or removed in it are durable,
// or a file so that its contents are. Tests replace it to watch or fail the fsyncs.
var syncDir = atomicfile.Sync

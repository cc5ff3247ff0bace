package store

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The publication order of a date's runs. Run ids sort by the clock of the machine that
// started the run, and a clock set back (or a run started on another machine) makes a later
// run sort first. So Publish records each publication as an empty file
//
//	<store>/<date>/published/<seq>-<run_id>
//
// seq being one more than the highest recorded (12 digits, from 1), made under the date's
// lock before current is switched. A rerun of the same id records again; its last record
// counts. Runs published before settle kept these records have none: they keep their order by
// id and come before every recorded run (they were all published before it).
const (
	publishedName = "published"
	seqDigits     = 12
)

// publication is one record: the run id and its sequence number.
type publication struct {
	seq int64
	id  string
}

// parsePublication reads a record's file name, "<seq>-<run_id>".
func parsePublication(name string) (publication, bool) {
	seqText, id, ok := strings.Cut(name, "-")
	if !ok || len(seqText) != seqDigits || checkRunID(id) != nil {
		return publication{}, false
	}
	seq, err := strconv.ParseInt(seqText, 10, 64)
	if err != nil || seq < 1 {
		return publication{}, false
	}
	return publication{seq, id}, true
}

// publications reads the records of the date directory dd: the last sequence number of
// each run id, and the highest sequence number (0 when none). Names that are not records
// (a temporary file of another tool) are ignored.
func publications(dd string) (last map[string]int64, top int64, err error) {
	ents, err := os.ReadDir(filepath.Join(dd, publishedName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read publication order: %w", err)
	}
	last = map[string]int64{}
	for _, e := range ents {
		p, ok := parsePublication(e.Name())
		if !ok {
			continue
		}
		last[p.id] = max(last[p.id], p.seq)
		top = max(top, p.seq)
	}
	return last, top, nil
}

// recordPublication records run id of the date directory dd as published next and makes
// the record durable; it returns the record's path, for a rollback to remove.
func recordPublication(dd, id string) (string, error) {
	dir := filepath.Join(dd, publishedName)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("record publication of %s: %w", id, err)
	}
	_, top, err := publications(dd)
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, fmt.Sprintf("%0*d-%s", seqDigits, top+1, id))
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", fmt.Errorf("record publication of %s: %w", id, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(p)
		return "", fmt.Errorf("record publication of %s: %w", id, err)
	}
	if err := syncDir(dir); err != nil {
		os.Remove(p)
		return "", fmt.Errorf("record publication of %s: %w", id, err)
	}
	return p, nil
}

// sortByPublication orders ids (sorted by id) by publication: unrecorded runs first, in
// their order by id, then the recorded ones by their last record.
func sortByPublication(ids []string, last map[string]int64) {
	slices.SortStableFunc(ids, func(a, b string) int {
		return cmp.Compare(last[a], last[b]) // 0 (no record) before every record
	})
}

// Package file is the connector for feeds exported to a directory tree: one file per feed
// for the whole city, or one per counter per feed, in any sub-folders, CSV or XLSX, named
// after the feed (canonical `order.csv`, or the BOSS report name `太原_TY0001-03_购机日报.xlsx`).
package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"settle/connectors"
	"settle/feed"
)

// Dir is a source directory. It holds no state between calls and is safe for concurrent use.
type Dir struct {
	root string
}

var _ connectors.Source = (*Dir)(nil)

// New returns the source reading the directory root (checked when fetching).
func New(root string) *Dir { return &Dir{root: root} }

// Describe returns the directory as given to New.
func (d *Dir) Describe() string { return d.root }

// Skipped is an entry of the day's tree that Scan passed over, and why. Name is the
// path relative to the day's root with '/' separators.
type Skipped struct {
	Name   string
	Reason string
}

// Reasons an entry is skipped.
const (
	SkipHidden   = "hidden or an office lock file"
	SkipSymlink  = "symbolic link, not followed"
	SkipSpecial  = "not a regular file"
	SkipFormat   = "not .csv or .xlsx"
	SkipNoFeed   = "its name names no feed"
	SkipOtherDay = "a folder of another date"
)

// Fetch collects the day's files (see Scan); what Scan skipped is not reported.
func (d *Dir) Fetch(ctx context.Context, date time.Time, progress connectors.Progress) (*connectors.Day, error) {
	day, _, err := d.Scan(ctx, date, progress)
	return day, err
}

// FetchCounters is Fetch keeping only the files of counters and the whole-city files (see
// connectors.CounterFetcher); files are only listed here, so the others cost nothing to skip.
func (d *Dir) FetchCounters(ctx context.Context, date time.Time, counters []string, progress connectors.Progress) (*connectors.Day, error) {
	day, err := d.Fetch(ctx, date, progress)
	if err != nil {
		return nil, err
	}
	return connectors.OnlyCounters(day, counters), nil
}

// Scan collects every feed file of date and lists what it skipped.
//
// The day's root is the sub-folder named after the date (2006-01-02 or 20060102) when
// root holds one, root itself otherwise; in the latter case top-level folders named after
// another date are skipped, so a dated archive never passes another day's files off as
// today's. Root and the date folder may be symbolic links; nothing below them is followed.
//
// The tree is walked recursively. Names starting with '.' or '~$' (office lock files) are
// skipped, as are files not ending in .csv or .xlsx (any letter case) and files whose base
// name names no feed: the feed is feed.ByReportName of the base name without extension,
// or else the canonical feed name as a run of '_'-separated tokens (`TY0001-03_order`,
// `TY0001-03_local_payment`). A folder that cannot be read is skipped with the error.
//
// Input.Name is the path relative to the day's root with '/' separators; Input.Counter
// is the last '_'-separated token of the base name that is an identifier (1–32 of
// [A-Za-z0-9-]) and is neither part of the canonical feed name nor the run date, or "".
// Inputs are sorted by feed, then Name. Every feed with no file at all is in Day.Missing.
//
// Scan fails only when root does not exist or is not a directory, or when ctx ends.
func (d *Dir) Scan(ctx context.Context, date time.Time, progress connectors.Progress) (*connectors.Day, []Skipped, error) {
	fi, err := os.Stat(d.root)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is in the message already
		}
		return nil, nil, fmt.Errorf("source directory %q: %w", d.root, err)
	}
	if !fi.IsDir() {
		return nil, nil, fmt.Errorf("source directory %q: not a directory", d.root)
	}
	dayRoot, dated := d.root, false
	for _, layout := range []string{"2006-01-02", "20060102"} {
		p := filepath.Join(d.root, date.Format(layout))
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			dayRoot, dated = p, true
			break
		}
	}
	// WalkDir does not descend into a root that is a symbolic link: resolve it first.
	walkRoot, err := filepath.EvalSymlinks(dayRoot)
	if err != nil {
		return nil, nil, fmt.Errorf("source directory %q: %w", dayRoot, err)
	}

	day := &connectors.Day{}
	var skipped []Skipped
	skip := func(rel, reason string) { skipped = append(skipped, Skipped{rel, reason}) }
	err = filepath.WalkDir(walkRoot, func(p string, de fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		rel, rerr := filepath.Rel(walkRoot, p)
		if rerr != nil {
			return rerr // not expected: p is under walkRoot
		}
		rel = filepath.ToSlash(rel)
		if err != nil {
			if p == walkRoot {
				return fmt.Errorf("source directory %q: %w", dayRoot, err)
			}
			skip(rel, fmt.Sprintf("cannot read: %v", err))
			if de != nil && de.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if p == walkRoot {
			return nil
		}
		name := de.Name()
		switch {
		case strings.HasPrefix(name, ".") || strings.HasPrefix(name, "~$"):
			skip(rel, SkipHidden)
			if de.IsDir() {
				return fs.SkipDir
			}
			return nil
		case de.Type()&fs.ModeSymlink != 0:
			skip(rel, SkipSymlink)
			return nil
		case de.IsDir():
			if !dated && !strings.Contains(rel, "/") && isOtherDate(name, date) {
				skip(rel, SkipOtherDay)
				return fs.SkipDir
			}
			return nil
		case !de.Type().IsRegular():
			skip(rel, SkipSpecial)
			return nil
		}
		ext := strings.ToLower(filepath.Ext(name))
		var format connectors.Format
		switch ext {
		case ".csv":
			format = connectors.CSV
		case ".xlsx":
			format = connectors.XLSX
		default:
			skip(rel, SkipFormat)
			return nil
		}
		base := name[:len(name)-len(ext)]
		id, ok := feedOf(base)
		if !ok {
			skip(rel, SkipNoFeed)
			return nil
		}
		info, err := de.Info()
		if err != nil {
			skip(rel, fmt.Sprintf("cannot read: %v", err))
			return nil
		}
		day.Inputs = append(day.Inputs, connectors.Input{
			Feed:    id,
			Name:    rel,
			Counter: counterOf(base, id, date),
			Format:  format,
			Open:    opener(p),
		})
		day.Stats[id].Files++
		day.Stats[id].Bytes += info.Size()
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	connectors.SortInputs(day.Inputs)
	for _, id := range feed.All {
		if day.Stats[id].Files == 0 {
			f := feed.Get(id)
			day.Missing = append(day.Missing, connectors.Missing{
				Feed:   id,
				Reason: fmt.Sprintf("no file for feed %s (%s) under %q", f.Name, f.Zh, dayRoot),
				Why:    connectors.Why{Kind: connectors.WhyNoFile, Dir: dayRoot},
			})
		}
	}
	if progress != nil {
		progress.Step("scan", len(day.Inputs), len(day.Inputs))
	}
	return day, skipped, nil
}

// opener returns an Input.Open reading the file at path.
func opener(path string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		return f, nil
	}
}

// feedOf finds the feed a file's base name (without extension) names: its BOSS report
// name anywhere in it or its canonical name alone (feed.ByReportName), or else its
// canonical name as a run of '_'-separated tokens, the longest such name.
func feedOf(base string) (feed.ID, bool) {
	if id, ok := feed.ByReportName(base); ok {
		return id, true
	}
	tokens := strings.Split(base, "_")
	best, bestLen := feed.ID(-1), 0
	for _, id := range feed.All {
		name := feed.Get(id).Name
		if lastRun(tokens, strings.Split(name, "_")) >= 0 && len(name) > bestLen {
			best, bestLen = id, len(name)
		}
	}
	return best, best >= 0
}

// lastRun returns the index in tokens where the last occurrence of run starts, or -1.
func lastRun(tokens, run []string) int {
	for i := len(tokens) - len(run); i >= 0; i-- {
		if slices.Equal(tokens[i:i+len(run)], run) {
			return i
		}
	}
	return -1
}

// counterOf returns the counter a file named base covers alone, or "": the last
// '_'-separated token that is an identifier of FEEDS.md (engine.ValidID; a token holds no
// '_'), not part of feed id's canonical name and not the run date.
func counterOf(base string, id feed.ID, date time.Time) string {
	tokens := strings.Split(base, "_")
	name := strings.Split(feed.Get(id).Name, "_")
	from, to := -1, -1
	if i := lastRun(tokens, name); i >= 0 {
		from, to = i, i+len(name)
	}
	for i := len(tokens) - 1; i >= 0; i-- {
		t := tokens[i]
		if (i >= from && i < to) || !feed.ValidID(t) || isDate(t, date) {
			continue
		}
		return t
	}
	return ""
}

// isDate reports whether s is date written 2006-01-02 or 20060102.
func isDate(s string, date time.Time) bool {
	return s == date.Format("2006-01-02") || s == date.Format("20060102")
}

// isOtherDate reports whether a folder name is a date (2006-01-02 or 20060102) other
// than date.
func isOtherDate(name string, date time.Time) bool {
	for _, layout := range []string{"2006-01-02", "20060102"} {
		if t, err := time.Parse(layout, name); err == nil {
			return !isDate(name, date) && t.Format(layout) == name
		}
	}
	return false
}

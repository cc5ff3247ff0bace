package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Reuse (issues 16.3 and 17.3): a run takes from the date's previous run, as hard links, every
// file whose bytes it would write again (Parquet, CSV, reports: see LinkSame) and every report
// whose content key is unchanged (Reuse, called by the renderer before it renders). A hard link
// costs no bytes; on another file system the file is copied. The manifest's sha256s prove that
// the bytes are the same; its reports section says which run rendered each report.

// ReportRecord is one report's line of the manifest: the content key it was rendered under
// (package report, Reuser) and the run that rendered it, which is the run the report shows.
type ReportRecord struct {
	Key        string `json:"key"`
	RenderedIn string `json:"rendered_in"`
}

// Previous is the run a new run of the date may take files from: the date's current run
// when the new one began.
type Previous struct {
	Dir      string
	Manifest *Manifest
	// Sealed is when the previous run's files were all in place, as its manifest records it
	// (Manifest.SealedAt; not the manifest file's times, which touch can move): a file of
	// that run of the size the manifest gives whose status has not changed since is taken as
	// the bytes the manifest names without reading it again (same). Zero: always read.
	Sealed time.Time
}

// ReuseSource returns the date's current run with its manifest, or nil when the date has none
// or its manifest cannot be read (a run without reuse is still right; the reason is logged).
func (s *Store) ReuseSource(date string, log *slog.Logger) *Previous {
	dir, ok, err := s.Current(date)
	if err != nil || !ok {
		if err != nil && log != nil {
			log.Warn("no reuse: the current run cannot be read", "date", date, "err", err)
		}
		return nil
	}
	m, err := ReadManifest(filepath.Join(dir, ManifestName))
	if err != nil {
		if log != nil {
			log.Warn("no reuse: the current run's manifest cannot be read", "date", date, "err", err)
		}
		return nil
	}
	p := &Previous{Dir: dir, Manifest: m}
	if m.SealedAt != nil {
		p.Sealed = *m.SealedAt
	}
	return p
}

// same reports whether the previous run's file src still holds want. A file of the size the
// manifest gives whose status change time (ctime) is before the run's SealedAt (a time of the
// file system's own clock, sealTime) is taken as unchanged: a run's files are written and linked before it is sealed, and writing
// to a file, or setting its times back (cp -p, rsync -a, tar, a restore), moves its ctime
// on; any other file is read and its sha256 compared. (The modification time was not enough:
// those tools put it back.) A refresh takes some 5,000 files this way: reading each again
// had been a tenth of its time.
func (p *Previous) same(src string, want Output) bool {
	if !p.Sealed.IsZero() {
		if fi, err := os.Stat(src); err == nil && fi.Mode().IsRegular() {
			if ct, ok := changeTime(fi); ok && p.sealedAs(fi.Size(), ct, want) {
				return true
			}
		}
	}
	got, err := hashFile(src)
	return err == nil && got == want
}

// sealedAs reports whether a file of size bytes whose change time is ct is taken as the file
// want without reading it (same): the run is sealed, the size is want's, and the file has
// not changed since the sealing.
func (p *Previous) sealedAs(size int64, ct time.Time, want Output) bool {
	return !p.Sealed.IsZero() && size == want.Size && ct.Before(p.Sealed)
}

// reuseState is what a Run knows of reuse; guarded by Run.mu.
type reuseState struct {
	prev    *Previous
	pinned  bool // reports are reused only when rendered by a run of this id (ReuseFrom)
	seal    bool // the manifest records SealedAt: ReuseFrom was called with the clock not pinned
	reports map[string]ReportRecord
	known   map[string]Output // files taken from prev, checked when taken: not hashed again
	linked  int
	copied  int
}

// ReuseFrom lets the run take files from prev (nil: from none). Call it before any file is
// written. With pinned (the clock is pinned by SOURCE_DATE_EPOCH: the run directory must be a
// function of the inputs, the version and the clock alone), a report is reused only when the
// run that rendered it has this run's id, so that it is the very file this run would render;
// files of equal bytes are linked all the same.
func (r *Run) ReuseFrom(prev *Previous, pinned bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reuse.prev = prev
	r.reuse.pinned = pinned
	r.reuse.seal = !pinned
}

// Reuse puts the previous run's report rel into the run when the previous manifest records
// it under key and its bytes are those the manifest gives; it returns the run that rendered
// it. A missing, changed or unreadable earlier file is not an error: rel is then rendered.
// It implements report.Reuser.
func (r *Run) Reuse(rel, key string) (string, bool, error) {
	if err := CheckRel(rel); err != nil {
		return "", false, err
	}
	r.mu.Lock()
	prev, pinned := r.reuse.prev, r.reuse.pinned
	r.mu.Unlock()
	pre, prelinked := r.claimPrelinked(rel)
	var (
		rec    ReportRecord
		want   Output
		usable bool
	)
	if prev != nil {
		rec, usable = prev.Manifest.Reports[rel]
		if strings.HasPrefix(rel, feedsDir+"/") {
			rec, usable = prev.Manifest.FeedFiles[rel]
		}
		var ok bool
		want, ok = prev.Manifest.Outputs[rel]
		usable = usable && ok && rec.Key == key && ValidRunID(rec.RenderedIn) && !(pinned && rec.RenderedIn != r.id)
	}
	if prelinked {
		if usable && pre == want {
			// The stage linked it in (Store.Stage), checked as take checks it.
			r.life.RLock()
			defer r.life.RUnlock()
			if err := r.finished("reuse", rel); err != nil {
				return "", false, err
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			r.tookFile(rel, want, false)
			r.recordReport(rel, rec)
			return rec.RenderedIn, true, nil
		}
		if err := r.root.Remove(rel); err != nil { // rendered anew, or taken below
			return "", false, r.failed(fmt.Errorf("reuse %q: %w", rel, err))
		}
	}
	if !usable {
		return "", false, nil
	}
	taken, err := r.take(prev, rel, filepath.Join(prev.Dir, filepath.FromSlash(rel)), want)
	if err != nil || !taken {
		return "", false, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recordReport(rel, rec)
	return rec.RenderedIn, true, nil
}

// Rendered records that rel was rendered in this run under key. It implements report.Reuser.
func (r *Run) Rendered(rel, key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recordReport(rel, ReportRecord{Key: key, RenderedIn: r.id})
}

func (r *Run) recordReport(rel string, rec ReportRecord) {
	if r.reuse.reports == nil {
		r.reuse.reports = map[string]ReportRecord{}
	}
	r.reuse.reports[rel] = rec
}

// Reports returns the reports recorded so far (Reuse, Rendered), by path.
func (r *Run) Reports() map[string]ReportRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]ReportRecord, len(r.reuse.reports))
	for k, v := range r.reuse.reports {
		out[k] = v
	}
	return out
}

// ReuseCounts says how many files the run took from the previous run by hard link and by copy.
func (r *Run) ReuseCounts() (linked, copied int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reuse.linked, r.reuse.copied
}

// take makes rel in the run the file src, whose bytes must be want: a hard link, or a copy
// on another file system. It returns false, with a nil error, when src is not want (missing,
// changed); an error means the run's own directory failed (and the run is refused).
func (r *Run) take(prev *Previous, rel, src string, want Output) (bool, error) {
	if !prev.same(src, want) {
		return false, nil
	}
	r.life.RLock()
	defer r.life.RUnlock()
	if err := r.finished("reuse", rel); err != nil {
		return false, err
	}
	if err := r.mkdir(path.Dir(rel)); err != nil {
		return false, r.failed(fmt.Errorf("reuse %q: %w", rel, err))
	}
	dst := filepath.Join(r.tmp, filepath.FromSlash(rel))
	copied, err := linkOrCopy(src, dst, want)
	if err != nil {
		return false, r.failed(fmt.Errorf("reuse %q: %w", rel, err))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tookFile(rel, want, copied)
	return true, nil
}

// tookFile records rel as taken from the previous run with the sums want; r.mu is held.
func (r *Run) tookFile(rel string, want Output, copied bool) {
	if r.reuse.known == nil {
		r.reuse.known = map[string]Output{}
	}
	r.reuse.known[rel] = want
	if copied {
		r.reuse.copied++
	} else {
		r.reuse.linked++
	}
}

// linkOrCopy makes dst (new) the file src: a hard link, or on another file system (or one
// without hard links) a copy that is checked against want.
func linkOrCopy(src, dst string, want Output) (copied bool, err error) {
	err = linkFile(src, dst)
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, syscall.EXDEV) && !errors.Is(err, syscall.EPERM) && !errors.Is(err, syscall.EMLINK) && !errors.Is(err, errors.ErrUnsupported) {
		return false, err
	}
	in, err := os.Open(src)
	if err != nil {
		return true, err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return true, err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return true, err
	}
	if err := out.Close(); err != nil {
		return true, err
	}
	got, err := hashFile(dst)
	if err != nil {
		return true, err
	}
	if got != want {
		return true, fmt.Errorf("copy of %q has sha256 %s, want %s", src, got.SHA256, want.SHA256)
	}
	return true, nil
}

// linkFile is os.Link; tests replace it to take the copy path of another file system.
var linkFile = os.Link

// linkSame replaces every file of the run whose checksum in outputs equals the previous run's
// file of the same path by a hard link to that file (when the earlier file still has those
// bytes). Files already taken from it are skipped. WriteManifest calls it.
func (r *Run) linkSame(outputs map[string]Output) error {
	r.mu.Lock()
	prev := r.reuse.prev
	known := r.reuse.known
	r.mu.Unlock()
	if prev == nil {
		return nil
	}
	var rels []string
	for rel, o := range outputs {
		if _, done := known[rel]; done {
			continue
		}
		if p, ok := prev.Manifest.Outputs[rel]; ok && p == o && CheckRel(rel) == nil {
			rels = append(rels, rel)
		}
	}
	sort.Strings(rels)
	return parallel(rels, hashParallel, func(rel string) error {
		src := filepath.Join(prev.Dir, filepath.FromSlash(rel))
		if !prev.same(src, outputs[rel]) {
			return nil // the earlier file changed or went: keep this run's own
		}
		dst := filepath.Join(r.tmp, filepath.FromSlash(rel))
		tmp := dst + ".reuse"
		if err := linkFile(src, tmp); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("reuse %q: %w", rel, err)
			}
			return nil // another file system: the run's own copy stays
		}
		if err := os.Rename(tmp, dst); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("reuse %q: %w", rel, err)
		}
		r.mu.Lock()
		r.reuse.linked++
		r.mu.Unlock()
		return nil
	})
}

// sealTime is the file system's time now, as it stamps a file's ctime: the ctime of a file
// made for the purpose in dir, then removed. The clock that stamps ctimes can lag the
// process's (a coarse kernel clock; a file server's), so a file changed just after the seal
// could carry a ctime before a time.Now() taken at the seal; it cannot carry one before
// this, and same requires a ctime strictly before it. Without a file (or a ctime), the
// process's clock.
func sealTime(dir string) time.Time {
	f, err := os.CreateTemp(dir, ".seal-*")
	if err != nil {
		return time.Now().UTC()
	}
	defer os.Remove(f.Name())
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return time.Now().UTC()
	}
	if ct, ok := changeTime(fi); ok {
		return ct.UTC()
	}
	return time.Now().UTC()
}

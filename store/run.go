package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"settle/internal/writeback"
	"slices"
	"strings"
	"sync"
	"time"
)

// NewRunID returns the id of a run started at now over inputs whose digest is inputDigest:
// "20261122T013000.123Z-" and the first 8 hex digits of sha256(inputDigest). Ids sort by start
// time (UTC, to the millisecond), so reruns a moment apart stay apart; with SOURCE_DATE_EPOCH
// the caller passes that time, so reruns over the same inputs get the same id.
func NewRunID(now time.Time, inputDigest string) string {
	sum := sha256.Sum256([]byte(inputDigest))
	return now.UTC().Format("20060102T150405.000Z") + "-" + hex.EncodeToString(sum[:4])
}

// Run is a run being written: files go to <store>/<date>/runs/.tmp-<id> until Publish.
// Its methods are safe for concurrent use (renderers may write files in parallel).
type Run struct {
	store   *Store
	date    string
	id      string
	dateDir string
	tmp     string // runs/.tmp-<id>
	root    *os.Root
	dirFile *os.File // tmp, open from Begin: syncfs reports write-back errors since its opening

	// life is held shared while a file is made in the run (Create, a reused file) and
	// exclusively by Publish and Abort: files are made side by side, never during either.
	life sync.RWMutex
	mu   sync.Mutex
	made map[string]bool // directories made in the run (MkdirAll once each)
	// premade are the directories the run took from a stage (Store.Stage), and used those
	// of them a file went into: Publish removes the others (an outlet gone since).
	premade, used map[string]bool
	// prelinked are the previous run's reports the stage linked in, not yet claimed: Reuse
	// takes one, Create and Reuse unlink one they write anew, the manifest the others.
	prelinked map[string]Output
	created   map[string]bool // files Create made (0644 less the umask: never writable by others)
	open      int             // writers not yet closed
	err       error           // first write error: the run cannot be published
	published bool
	aborted   bool
	reuse     reuseState
	// listing is the kept-inputs listing ListKept began, for WriteManifest; Abort waits for it.
	listing *listed
}

// Begin starts run id of date. The caller must hold the date's lock (Lock on this Store).
// Begin first removes what killed runs left: runs/.tmp-* directories, a runs/.old-<id> that
// Publish moved aside (put back if its run is missing) and stray current links.
func (s *Store) Begin(date, runID string) (*Run, error) {
	dd, err := s.dateDir(date)
	if err != nil {
		return nil, err
	}
	if err := checkRunID(runID); err != nil {
		return nil, err
	}
	if !s.holds(date) {
		return nil, fmt.Errorf("begin run %s@%s: the date is not locked by this store", date, runID)
	}
	runs := filepath.Join(dd, runsName)
	if err := os.MkdirAll(runs, 0o755); err != nil {
		return nil, fmt.Errorf("begin run %s@%s: %w", date, runID, err)
	}
	st := s.takeStage(date)
	keep := ""
	if st != nil {
		keep = filepath.Base(st.dir)
	}
	if err := cleanLeftovers(dd, keep); err != nil {
		if st != nil {
			os.RemoveAll(st.dir)
		}
		return nil, fmt.Errorf("begin run %s@%s: %w", date, runID, err)
	}
	tmp := filepath.Join(runs, tmpPrefix+runID)
	var premade map[string]bool // the stage's folders: the run's own, as if it had made them
	var prelinked map[string]Output
	if st != nil {
		if err := os.Rename(st.dir, tmp); err == nil {
			premade = make(map[string]bool, len(st.made))
			for _, d := range st.made {
				premade[d] = true
			}
			prelinked = st.prelinked
		} else {
			os.RemoveAll(st.dir)
		}
	}
	if premade == nil {
		if err := os.Mkdir(tmp, 0o755); err != nil {
			return nil, fmt.Errorf("begin run %s@%s: %w", date, runID, err)
		}
	}
	root, err := os.OpenRoot(tmp)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("begin run %s@%s: %w", date, runID, err)
	}
	dirFile, err := os.Open(tmp)
	if err != nil {
		root.Close()
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("begin run %s@%s: %w", date, runID, err)
	}
	made := make(map[string]bool, len(premade))
	for d := range premade {
		made[d] = true
	}
	return &Run{store: s, date: date, id: runID, dateDir: dd, tmp: tmp, root: root, dirFile: dirFile, made: made, premade: premade, prelinked: prelinked}, nil
}

// cleanLeftovers removes what interrupted runs and publishes of the date directory dd left.
func cleanLeftovers(dd, keep string) error {
	runs := filepath.Join(dd, runsName)
	ents, err := os.ReadDir(runs)
	if err != nil {
		return err
	}
	for _, e := range ents {
		name := e.Name()
		p := filepath.Join(runs, name)
		switch {
		case name == keep: // the stage the run is about to take (Store.Stage)
		case strings.HasPrefix(name, tmpPrefix):
			if err := os.RemoveAll(p); err != nil {
				return fmt.Errorf("remove leftover %q: %w", p, err)
			}
		case strings.HasPrefix(name, oldPrefix):
			// Publish was killed while replacing a run of the same id: if the new one never
			// arrived, the old one is still the run `current` names.
			orig := filepath.Join(runs, strings.TrimPrefix(name, oldPrefix))
			if _, err := os.Lstat(orig); errors.Is(err, fs.ErrNotExist) {
				if err := os.Rename(p, orig); err != nil {
					return fmt.Errorf("restore %q: %w", orig, err)
				}
				continue
			}
			if err := os.RemoveAll(p); err != nil {
				return fmt.Errorf("remove leftover %q: %w", p, err)
			}
		}
	}
	ents, err = os.ReadDir(dd)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), linkPrefix) {
			p := filepath.Join(dd, e.Name())
			if err := os.Remove(p); err != nil {
				return fmt.Errorf("remove leftover %q: %w", p, err)
			}
		}
	}
	return nil
}

// ID returns the run id.
func (r *Run) ID() string { return r.id }

// Date returns the business date (YYYY-MM-DD).
func (r *Run) Date() string { return r.date }

// Dir returns the directory being written (runs/.tmp-<id>), for renderers that write files
// themselves; after Publish it returns the published directory runs/<id>.
func (r *Run) Dir() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.published {
		return filepath.Join(r.dateDir, runsName, r.id)
	}
	return r.tmp
}

// CheckRel validates a path relative to a run directory: non-empty, '/'-separated, clean,
// not absolute, no "." or ".." element, no backslash or NUL.
func CheckRel(rel string) error {
	bad := rel == "" || strings.ContainsAny(rel, "\\\x00") || path.IsAbs(rel) ||
		path.Clean(rel) != rel || !filepath.IsLocal(rel)
	for _, el := range strings.Split(rel, "/") {
		if el == "." || el == ".." {
			bad = true
		}
	}
	if bad {
		return fmt.Errorf("invalid output path %q: want a clean relative path inside the run directory", rel)
	}
	return nil
}

// Create creates the file rel (a '/'-separated path, see CheckRel) in the run directory,
// with its parent directories (0755); the file is new (0644). A write or close error of the
// returned writer is remembered, and Publish then refuses the run.
func (r *Run) Create(rel string) (io.WriteCloser, error) {
	if err := CheckRel(rel); err != nil {
		return nil, err
	}
	r.life.RLock()
	defer r.life.RUnlock()
	if err := r.finished("create", rel); err != nil {
		return nil, err
	}
	if err := r.mkdir(path.Dir(rel)); err != nil {
		return nil, r.failed(fmt.Errorf("create %q: %w", rel, err))
	}
	if err := r.unlinkPrelinked(rel); err != nil {
		return nil, r.failed(fmt.Errorf("create %q: %w", rel, err))
	}
	f, err := r.root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, r.failed(fmt.Errorf("create %q: %w", rel, err))
	}
	r.mu.Lock()
	r.open++
	if r.created == nil {
		r.created = map[string]bool{}
	}
	r.created[rel] = true
	r.mu.Unlock()
	return &runFile{run: r, f: f, rel: rel}, nil
}

// claimPrelinked takes rel out of the reports the stage linked in: true, with the sums the
// previous manifest gives it, when it was one.
func (r *Run) claimPrelinked(rel string) (Output, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	want, ok := r.prelinked[rel]
	if ok {
		delete(r.prelinked, rel)
	}
	return want, ok
}

// unlinkPrelinked removes rel when the stage linked it in and it was not claimed: the run
// writes it anew (never through the link, into the previous run's file).
func (r *Run) unlinkPrelinked(rel string) error {
	if _, ok := r.claimPrelinked(rel); !ok {
		return nil
	}
	return r.root.Remove(rel)
}

// dropPrelinked removes the reports the stage linked in that no Reuse took.
func (r *Run) dropPrelinked() error {
	r.mu.Lock()
	rels := r.prelinked
	r.prelinked = nil
	r.mu.Unlock()
	return r.removeFiles(rels)
}

// removeFiles removes the run's files rels, a few at once.
func (r *Run) removeFiles(rels map[string]Output) error {
	return parallel(slices.Sorted(maps.Keys(rels)), prelinkParallel, func(rel string) error { return r.root.Remove(rel) })
}

// finished refuses to make a file in a run published or aborted; r.life is held.
func (r *Run) finished(what, rel string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.published || r.aborted {
		return fmt.Errorf("%s %q: run %s is already finished", what, rel, r.id)
	}
	return nil
}

// mkdir makes dir (a '/'-separated path in the run) and its parents, once; r.life is held.
func (r *Run) mkdir(dir string) error {
	if dir == "." {
		return nil
	}
	r.mu.Lock()
	made := r.made[dir]
	if made && r.premade[dir] {
		if r.used == nil {
			r.used = map[string]bool{}
		}
		r.used[dir] = true
	}
	r.mu.Unlock()
	if made {
		return nil
	}
	if err := r.root.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	r.mu.Lock()
	if r.made == nil {
		r.made = map[string]bool{}
	}
	r.made[dir] = true
	r.mu.Unlock()
	return nil
}

// failed records err as the run's first error and returns it.
func (r *Run) failed(err error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fail(err)
}

// fail records the run's first error; r.mu is held.
func (r *Run) fail(err error) error {
	if r.err == nil {
		r.err = err
	}
	return err
}

// runFile is a file being written by Create.
type runFile struct {
	run    *Run
	f      *os.File
	rel    string
	closed bool
	n      int64 // bytes written
}

// writebackAt is the size from which a run's file starts its writeback when closed.
const writebackAt = 1 << 20

// Write writes to the file; an error is remembered by the run (naming the file) and returned
// as the file system gave it, for the caller to wrap once.
func (w *runFile) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.n += int64(n)
	if err != nil {
		w.run.mu.Lock()
		w.run.fail(fmt.Errorf("write %q: %w", w.rel, err))
		w.run.mu.Unlock()
	}
	return n, err
}

func (w *runFile) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if w.n >= writebackAt { // a big file (the feeds' Parquet): Publish's syncfs waits less
		writeback.Start(w.f)
	}
	err := w.f.Close()
	w.run.mu.Lock()
	defer w.run.mu.Unlock()
	w.run.open--
	if err != nil {
		return w.run.fail(fmt.Errorf("close %q: %w", w.rel, err))
	}
	return nil
}

// Publish makes the run whole and current: it makes every file and directory of the run
// durable (taking group and other write permission off any that has it; see syncTree),
// renames runs/.tmp-<id> to runs/<id> (a published run of the same id, as a rerun under
// SOURCE_DATE_EPOCH makes, is exchanged with it in one step where the system can, else
// moved aside and replaced; then it is removed), records the publication's place in the
// date's order (publishedName), points current at runs/<id> through a new
// link renamed over it, and fsyncs the date directory. It fails, and publishes nothing, after
// any write error or while a file made by Create is still open; the one error after which
// the run is current wraps ErrNotDurable. Removing the replaced run is best effort.
func (r *Run) Publish() error {
	r.life.Lock()
	defer r.life.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.published:
		return fmt.Errorf("publish run %s@%s: already published", r.date, r.id)
	case r.aborted:
		return fmt.Errorf("publish run %s@%s: aborted", r.date, r.id)
	case r.err != nil:
		return fmt.Errorf("publish run %s@%s: %w", r.date, r.id, r.err)
	case r.open > 0:
		return fmt.Errorf("publish run %s@%s: %d output files still open", r.date, r.id, r.open)
	}
	// The inputs the run read are kept before it is published (Keep writes them meanwhile).
	if err := r.store.keptWritten(r.date); err != nil {
		return fmt.Errorf("publish run %s@%s: keep the inputs: %w", r.date, r.id, err)
	}
	switched, err := r.publish()
	if switched {
		// current names the run now, whatever failed after the switch.
		r.published = true
		r.root.Close()
		r.dirFile.Close()
	}
	if err != nil {
		return fmt.Errorf("publish run %s@%s: %w", r.date, r.id, err)
	}
	return nil
}

// ErrNotDurable wraps the error of Publish when the run became current but the switch could
// not be made durable (the date directory's fsync failed): a crash could bring the run
// before back. Every other error of Publish means nothing was published.
var ErrNotDurable = errors.New("the run is current, but the switch may not survive a crash")

// publish does Publish's work; switched reports whether current names the run.
func (r *Run) publish() (switched bool, err error) {
	// The stage's links no Reuse took: WriteManifest removed them, a run published without
	// a manifest removes them here (r.mu is held: dropPrelinked would take it).
	rels := r.prelinked
	r.prelinked = nil
	if err := r.removeFiles(rels); err != nil {
		return false, err
	}
	// A staged folder no file went into (an outlet the run no longer has) is not published.
	var unused []string
	for d := range r.premade {
		if !r.used[d] {
			unused = append(unused, d)
		}
	}
	slices.Sort(unused)
	for _, d := range slices.Backward(unused) { // a folder's own first
		if os.Remove(filepath.Join(r.tmp, filepath.FromSlash(d))) == nil {
			delete(r.made, d)
		}
	}
	if err := syncTree(r.tmp, r.dirFile, r.madeHere); err != nil {
		return false, err
	}
	runs := filepath.Join(r.dateDir, runsName)
	final := filepath.Join(runs, r.id)
	old := ""        // where a published run of the same id was moved aside
	swapped := false // r.tmp and final were exchanged: r.tmp holds the replaced run
	if _, err := os.Lstat(final); err == nil {
		// A rerun of the same id: swap the two directories in one step, so that current
		// never names a missing run, even for a moment; where the system cannot, move the
		// published run aside first (a kill then leaves runs/.old-<id>, which Begin puts back).
		err := exchangeDirs(r.tmp, final)
		switch {
		case err == nil:
			swapped = true
		case !errors.Is(err, errors.ErrUnsupported):
			return false, err
		default:
			old = filepath.Join(runs, oldPrefix+r.id)
			if err := os.RemoveAll(old); err != nil {
				return false, err
			}
			if err := os.Rename(final, old); err != nil {
				return false, err
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if !swapped {
		if err := os.Rename(r.tmp, final); err != nil {
			if old != "" {
				os.Rename(old, final) // put the published run back
			}
			return false, err
		}
	}
	// Until current is switched, a failure takes the run back out of runs/ (Abort then
	// removes it) and puts back the run of the same id it replaced.
	record := "" // the publication's record, once made
	rollback := func(err error) (bool, error) {
		if record != "" {
			os.Remove(record)
		}
		if swapped {
			exchangeDirs(r.tmp, final)
		} else if rerr := os.Rename(final, r.tmp); rerr == nil && old != "" {
			os.Rename(old, final)
		}
		return false, err
	}
	if err := syncDir(runs); err != nil {
		return rollback(err)
	}
	// The publication's place in the date's order, before current names the run: the clock
	// that made the run id may have gone backwards.
	if record, err = recordPublication(r.dateDir, r.id); err != nil {
		return rollback(err)
	}
	// current: a new relative link, renamed over the old one (atomic on POSIX).
	link := filepath.Join(r.dateDir, linkPrefix+r.id)
	if err := os.Remove(link); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return rollback(err)
	}
	if err := os.Symlink(runsName+"/"+r.id, link); err != nil {
		return rollback(err)
	}
	if err := os.Rename(link, filepath.Join(r.dateDir, currentName)); err != nil {
		os.Remove(link)
		return rollback(err)
	}
	if err := syncDir(r.dateDir); err != nil {
		return true, fmt.Errorf("%w: %w", ErrNotDurable, err)
	}
	// The replaced run is garbage now: removing it is best effort, since what is not removed
	// here (runs/.tmp-<id> after an exchange, runs/.old-<id>) the next Begin removes.
	garbage := old
	if swapped {
		garbage = r.tmp
	}
	if garbage != "" && removeReplaced(garbage) == nil {
		syncDir(runs)
	}
	return true, nil
}

// removeReplaced is os.RemoveAll; tests replace it to make the clean-up fail.
var removeReplaced = os.RemoveAll

// exchangeDirs is exchange; tests replace it to take the path of systems without it.
var exchangeDirs = exchange

// syncWhole is syncFS; tests replace it to take the file-by-file path, or to fail.
var syncWhole = syncFS

// syncTree makes every regular file and directory under dir, dir included, durable, and
// takes the group's and others' write permission off any that has it: a renderer that writes
// its own files (os.Create: 0666 less the umask) must not leave a published run writable by
// others under umask 0. Permissions the umask took away stay away.
//
// Where the system can (syncWhole: syncfs on Linux 5.8 and later), one call flushes the file
// system dirFile (dir, opened before the run's files were written) is on. Otherwise each file
// is fsynced, syncParallel at a time: each one waits for the device to flush (ext4 sends a
// flush even for a clean file), ~1.5–3 ms on a virtual disk, and the 5,000 files of a
// city-day's run took 8–14 s one after the other, 1.3 s sixteen at a time, and ~0.8 s
// against syncfs's ~0.3 s.
//
// made reports whether the file or directory rel ('/'-separated, "." for dir) is one the run
// made itself, with a mode that never needs the permission taken off: its mode is not
// looked at (the lstat of each of a city-day's ~5,000 files had been ~25 ms of a refresh,
// before the run could be published).
func syncTree(dir string, dirFile *os.File, made func(rel string, isDir bool) bool) error {
	var (
		mu    sync.Mutex
		paths = []string{dir}
	)
	check := func(p, rel string, isDir bool, info func() (fs.FileInfo, error)) error {
		if made != nil && made(rel, isDir) {
			return nil
		}
		fi, err := info()
		if err != nil {
			return err
		}
		if perm := fi.Mode().Perm(); perm&0o022 != 0 {
			return os.Chmod(p, perm&^0o022)
		}
		return nil
	}
	if err := check(dir, ".", true, func() (fs.FileInfo, error) { return os.Lstat(dir) }); err != nil {
		return err
	}
	err := walkTree(dir, func(rel string, d fs.DirEntry) error {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if !d.IsDir() && !d.Type().IsRegular() {
			return fmt.Errorf("%q is not a regular file", p)
		}
		if err := check(p, rel, d.IsDir(), d.Info); err != nil {
			return err
		}
		mu.Lock()
		paths = append(paths, p)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	switch err := syncWhole(dirFile); {
	case err == nil:
		return nil
	case !errors.Is(err, errors.ErrUnsupported):
		return err
	}
	return parallel(paths, syncParallel, syncDir) // a file or a directory alike
}

// madeHere reports whether rel is a file or directory of the run's own making, whose mode
// syncTree need not look at: a directory it made (0755 less the umask), a file Create made
// (0644 less the umask), or a file taken from the previous run (a hard link to a published
// file, whose mode that run's publication checked, or a copy made 0644). r.mu is held
// (Publish), and r.life: nothing is made meanwhile.
func (r *Run) madeHere(rel string, isDir bool) bool {
	if isDir {
		return rel == "." || r.made[rel]
	}
	_, taken := r.reuse.known[rel]
	return r.created[rel] || taken
}

// syncParallel bounds the fsyncs syncTree has in flight.
const syncParallel = 16

// Abort discards the run: its temporary directory is removed and current is left as it
// was. After Publish it does nothing, so `defer run.Abort()` is the usual pattern.
func (r *Run) Abort() error {
	r.life.Lock()
	defer r.life.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.published || r.aborted {
		return nil
	}
	r.aborted = true
	if r.listing != nil { // nothing the run began outlives it
		r.listing.wait()
	}
	r.root.Close()
	r.dirFile.Close()
	if err := os.RemoveAll(r.tmp); err != nil {
		return fmt.Errorf("abort run %s@%s: %w", r.date, r.id, err)
	}
	return nil
}

package store

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// A staged run directory: the folders the date's next run will write its reports into, made
// before that run can begin. A run's id names its directory and is known only once its
// inputs are read, so its ~460 report folders (one per outlet) were made while its reports
// were rendered: ~60 ms of the file system's time (an ext4 mkdir here costs 20–150 µs) when
// both cores are busy. Made while the run's inputs are on the network, they cost nothing.

// stagePrefix names a staged directory in runs/: a tmpPrefix one, so that a stage a killed
// run left is removed as any other leftover (cleanLeftovers).
const stagePrefix = tmpPrefix + "stage-"

// staged is a run directory being made for the next run of a date (Store.Stage).
type staged struct {
	dir  string        // runs/.tmp-stage-<random>
	done chan struct{} // closed once made
	made []string      // the folders made in it, '/'-separated; nil when it failed
	// prelinked are the previous run's reports linked into it (prelink), with the sums the
	// previous manifest gives them; stop asks the linking to end (Begin does not wait for it).
	prelinked map[string]Output
	stop      atomic.Bool
}

// Stage begins making, in the background, a run directory holding the report folders of the
// date's current run (reports/<outlet>, as that run has them), for the date's next Begin to
// take as its own. With previous (which may block until the current run's manifest is read),
// it then links that run's reports into it until Begin takes the stage, and keeps those the
// manifest vouches for (Previous.same, by size and change time only): the run's Reuse then
// finds a report it takes already in place, and one it renders is unlinked first (about
// 11,000 stats and links of a city-day's refresh, made while its inputs are on the network). It does
// nothing when the date has no current run or a stage already. The caller holds the date's
// lock; DropStage removes a stage no run took.
func (s *Store) Stage(date string, previous func() *Previous) {
	dd, err := s.dateDir(date)
	if err != nil || !s.holds(date) {
		return
	}
	cur, ok, err := s.Current(date)
	if err != nil || !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stages[date] != nil {
		return
	}
	var b [8]byte
	rand.Read(b[:])
	st := &staged{dir: filepath.Join(dd, runsName, stagePrefix+hex.EncodeToString(b[:])), done: make(chan struct{})}
	if s.stages == nil {
		s.stages = map[string]*staged{}
	}
	s.stages[date] = st
	go func() {
		defer close(st.done)
		st.made = makeStage(st.dir, cur)
		if st.made != nil && previous != nil {
			linked := linkAhead(st, cur)
			st.prelinked = vouch(st, previous(), cur, linked)
		}
	}()
}

// seen is what a previous run's file was when linkAhead linked it: its size and change time,
// taken before the link (a link moves the change time on).
type seen struct {
	size  int64
	ctime time.Time
}

// linkAhead links the regular files of the report folders of the run directory cur into the
// stage st, folder by folder, until st.stop is set; it returns the files linked and what each
// was. It needs no manifest: it begins while the manifest is still being read (vouch checks
// the files against it after).
func linkAhead(st *staged, cur string) map[string]seen {
	var mu sync.Mutex
	linked := map[string]seen{}
	parallel(st.made, prelinkParallel, func(dir string) error {
		if dir == "reports" || st.stop.Load() {
			return nil
		}
		from := filepath.Join(cur, filepath.FromSlash(dir))
		ents, err := listDir(from)
		if err != nil {
			return nil
		}
		for _, e := range ents {
			if st.stop.Load() {
				return nil
			}
			rel := path.Join(dir, e.Name())
			if !e.Type().IsRegular() || CheckRel(rel) != nil {
				continue
			}
			src := filepath.Join(from, e.Name())
			fi, err := os.Lstat(src)
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
			ct, ok := changeTime(fi)
			if !ok || linkFile(src, filepath.Join(st.dir, filepath.FromSlash(rel))) != nil {
				continue // another file system, or anything else: the run takes it as before
			}
			mu.Lock()
			linked[rel] = seen{fi.Size(), ct}
			mu.Unlock()
		}
		return nil
	})
	return linked
}

// vouch keeps of the files linkAhead linked those the previous run p's manifest vouches for
// as Previous.same does without reading them: a report it records, of the size it gives, whose
// change time was before the run was sealed; it unlinks the others (all of them when p is not
// the run cur the stage was made from). It returns the files kept and their sums.
func vouch(st *staged, p *Previous, cur string, linked map[string]seen) map[string]Output {
	out := make(map[string]Output, len(linked))
	for rel, was := range linked {
		ok := p != nil && p.Dir == cur
		var want Output
		if ok {
			rec, ok1 := p.Manifest.Reports[rel]
			var ok2 bool
			want, ok2 = p.Manifest.Outputs[rel]
			ok = ok1 && ok2 && ValidRunID(rec.RenderedIn) && p.sealedAs(was.size, was.ctime, want)
		}
		if ok {
			out[rel] = want
		} else {
			os.Remove(filepath.Join(st.dir, filepath.FromSlash(rel)))
		}
	}
	return out
}

// prelinkParallel is how many report folders linkAhead links at once.
const prelinkParallel = 2

// makeStage makes dir with the report folders of the run directory like; it returns the
// folders made, or nil (and removes what it made) when any could not be made.
func makeStage(dir, like string) []string {
	ents, err := listDir(filepath.Join(like, "reports"))
	if err != nil {
		return nil
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil
	}
	made := []string{"reports"}
	for _, e := range ents {
		if rel := path.Join("reports", e.Name()); e.IsDir() && CheckRel(rel) == nil && path.Dir(rel) == "reports" {
			made = append(made, rel)
		}
	}
	slices.Sort(made) // parents first
	for _, rel := range made {
		if err := os.Mkdir(filepath.Join(dir, filepath.FromSlash(rel)), 0o755); err != nil {
			os.RemoveAll(dir)
			return nil
		}
	}
	return made
}

// takeStage hands over the date's stage, once made (nil when there is none, or it failed);
// the linking of the previous run's reports stops where it is.
func (s *Store) takeStage(date string) *staged {
	s.mu.Lock()
	st := s.stages[date]
	delete(s.stages, date)
	s.mu.Unlock()
	if st == nil {
		return nil
	}
	st.stop.Store(true)
	<-st.done
	if st.made == nil {
		return nil
	}
	return st
}

// DropStage removes the date's stage when no run took it (Begin); it waits for its making.
func (s *Store) DropStage(date string) {
	if st := s.takeStage(date); st != nil {
		os.RemoveAll(st.dir)
	}
}

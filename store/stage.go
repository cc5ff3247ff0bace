package store

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path"
	"path/filepath"
	"slices"
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
}

// Stage begins making, in the background, a run directory holding the report folders of the
// date's current run (reports/<outlet>, as that run has them), for the date's next Begin to
// take as its own. It does nothing when the date has no current run or a stage already. The
// caller holds the date's lock; DropStage removes a stage no run took.
func (s *Store) Stage(date string) {
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
	}()
}

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

// takeStage hands over the date's stage, once made (nil when there is none, or it failed).
func (s *Store) takeStage(date string) *staged {
	s.mu.Lock()
	st := s.stages[date]
	delete(s.stages, date)
	s.mu.Unlock()
	if st == nil {
		return nil
	}
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

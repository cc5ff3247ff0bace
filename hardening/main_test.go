package hardening

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"settle/store"
)

// bin is the settle binary built by TestMain.
var bin string

// date is the business date of every run here.
const date = "2026-11-21"

// epoch is the SOURCE_DATE_EPOCH of the reproducible runs (2026-11-22T01:30:00Z).
const epoch = "1795311000"

func TestMain(m *testing.M) {
	if path := os.Getenv(wrapEnv); path != "" {
		execLimited(path)
	}
	os.Exit(testMain(m))
}

// wrapEnv names the program the test binary, re-executed by settleLimited, runs in its place.
const wrapEnv = "HARDENING_EXEC"

// execLimited replaces this process by the program at path with the arguments of this one,
// after setting RLIMIT_FSIZE to $HARDENING_FSIZE bytes and ignoring SIGXFSZ, so that a write
// beyond the limit fails with EFBIG (as a full disk fails with ENOSPC) instead of killing it
// (the limit binds root too; an ignored signal stays ignored across exec), and the umask to
// $HARDENING_UMASK (octal).
func execLimited(path string) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "hardening wrapper:", err)
		os.Exit(125)
	}
	if v := os.Getenv(fsizeEnv); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			fail(err)
		}
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: n, Max: n}); err != nil {
			fail(err)
		}
		signal.Ignore(syscall.SIGXFSZ)
	}
	if v := os.Getenv(umaskEnv); v != "" {
		n, err := strconv.ParseUint(v, 8, 32)
		if err != nil {
			fail(err)
		}
		syscall.Umask(int(n))
	}
	var envv []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k != wrapEnv && k != fsizeEnv && k != umaskEnv {
			envv = append(envv, kv)
		}
	}
	fail(syscall.Exec(path, append([]string{path}, os.Args[1:]...), envv))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "settle-hardening-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "hardening:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	// Without -race even under `go test -race`: the binary is exercised from outside (kills,
	// locks, files), its races are the in-process tests' business, and a race-built settle
	// runs ten times slower. After `go vet ./...` (.ci/run) its packages are in the cache.
	bin = filepath.Join(dir, "settle")
	cmd := exec.Command(goTool(), "build", "-o", bin, "settle/cmd/settle")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "hardening: go build settle:", err)
		return 1
	}
	return m.Run()
}

// goTool finds the go command that runs these tests.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// env is the environment of a child settle: the test's, without what would change what a
// run does (SOURCE_DATE_EPOCH, SETTLE_STORE, SETTLE_BOSS_TOKEN), with TMPDIR set to tmp so
// that any temporary file a run leaves is seen, plus extra.
func env(tmp string, extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "SOURCE_DATE_EPOCH", "SETTLE_STORE", "SETTLE_BOSS_TOKEN", "TMPDIR":
			continue
		}
		out = append(out, kv)
	}
	return append(append(out, "TMPDIR="+tmp), extra...)
}

// result of one settle process.
type result struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("exit %d after %s\nstdout:\n%s\nstderr:\n%s", r.code, r.elapsed.Round(time.Millisecond), r.stdout, tail(r.stderr, 4000))
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// settle runs the binary to its end (at most five minutes) with environment envv.
func settle(t *testing.T, envv []string, args ...string) result {
	t.Helper()
	return settleAs(t, bin, envv, args...)
}

// settleAs runs the program at path as settle.
func settleAs(t *testing.T, path string, envv []string, args ...string) result {
	t.Helper()
	return settleAsIn(t, path, "", envv, args...)
}

// settleAsIn runs the program at path as settle in the working directory cwd ("": the test's).
func settleAsIn(t *testing.T, path, cwd string, envv []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = envv
	cmd.Dir = cwd
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), elapsed: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		r.code = ee.ExitCode()
	default:
		t.Fatalf("settle %s: %v\n%s", strings.Join(args, " "), err, r)
	}
	if strings.Contains(r.stderr, "panic:") || strings.Contains(r.stderr, "goroutine ") {
		t.Fatalf("settle %s panicked:\n%s", strings.Join(args, " "), r)
	}
	return r
}

// mustRun runs settle and fails the test unless it exits with code want.
func mustRun(t *testing.T, want int, envv []string, args ...string) result {
	t.Helper()
	r := settle(t, envv, args...)
	if r.code != want {
		t.Fatalf("settle %s: want exit %d, got\n%s", strings.Join(args, " "), want, r)
	}
	return r
}

// proc is a settle process running in the background.
type proc struct {
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{}
	err    error
}

// start starts settle in the background; the test kills it at its end if it still runs.
func start(t *testing.T, envv []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = envv
	p := &proc{cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout = p.stdout
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits up to d for the process to end and returns its exit code.
func (p *proc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		t.Fatalf("settle %s still runs after %s\nstderr:\n%s", strings.Join(p.cmd.Args[1:], " "), d, tail(p.stderr.String(), 4000))
	}
	var ee *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &ee) && ee.Exited():
		return ee.ExitCode()
	}
	return -1 // killed by a signal
}

// kill sends SIGKILL and waits for the process to be gone; it reports whether the process
// was still running (false: it had already ended).
func (p *proc) kill(t *testing.T) bool {
	t.Helper()
	select {
	case <-p.done:
		return false
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatal(err)
	}
	<-p.done
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// syncBuffer is a bytes.Buffer safe for a writer and readers in other goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls cond every 10 ms until it holds or d passes; it reports whether it held.
func waitFor(d time.Duration, cond func() bool) bool {
	end := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// entry is what tree records of one path: its kind, permissions and content checksum (files)
// or target (links).
type entry struct {
	kind string // "file", "dir", "link"
	perm fs.FileMode
	sum  string // sha256 of a file, the target of a link
	size int64
}

// tree lists everything under root (root itself excluded) by '/'-separated relative path.
func tree(t *testing.T, root string) map[string]entry {
	t.Helper()
	out := map[string]entry{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		e := entry{perm: fi.Mode().Perm(), size: fi.Size()}
		switch {
		case d.IsDir():
			e.kind, e.size = "dir", 0
		case d.Type()&fs.ModeSymlink != 0:
			e.kind = "link"
			if e.sum, err = os.Readlink(p); err != nil {
				return err
			}
		case d.Type().IsRegular():
			e.kind = "file"
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			s := sha256.Sum256(data)
			e.sum = hex.EncodeToString(s[:])
		default:
			e.kind = fi.Mode().Type().String()
		}
		out[rel] = e
		return nil
	})
	if err != nil {
		t.Fatalf("walk %q: %v", root, err)
	}
	return out
}

// sameTree fails the test, naming every difference, unless a and b are equal.
func sameTree(t *testing.T, what string, a, b map[string]entry) {
	t.Helper()
	var diffs []string
	for p, ea := range a {
		eb, ok := b[p]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s: only in the first", p))
		case ea != eb:
			diffs = append(diffs, fmt.Sprintf("%s: %+v vs %+v", p, ea, eb))
		}
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: only in the second", p))
		}
	}
	if len(diffs) > 0 {
		slices.Sort(diffs)
		if len(diffs) > 30 {
			diffs = append(diffs[:30], fmt.Sprintf("… and %d more", len(diffs)-30))
		}
		t.Fatalf("%s differ (%d of %d files):\n%s", what, len(diffs), len(a), strings.Join(diffs, "\n"))
	}
}

// currentRun returns the directory of the date's current run, failing the test if there is
// none or it does not verify against its manifest.
func currentRun(t *testing.T, storeDir string) (dir string, m *store.Manifest) {
	t.Helper()
	st, err := store.Open(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	dir, ok, err := st.Current(date)
	if err != nil || !ok {
		t.Fatalf("current run of %s in %q: ok=%v err=%v", date, storeDir, ok, err)
	}
	m = verifyRun(t, dir)
	return dir, m
}

// verifyRun reads a run's manifest and checks the directory against it.
func verifyRun(t *testing.T, dir string) *store.Manifest {
	t.Helper()
	m, err := store.ReadManifest(filepath.Join(dir, store.ManifestName))
	if err != nil {
		t.Fatalf("run %q: %v", dir, err)
	}
	if err := m.Verify(dir); err != nil {
		t.Fatalf("run %q: %v", dir, err)
	}
	if m.RunID != filepath.Base(dir) || m.BizDate != date {
		t.Fatalf("run %q: manifest says run %q of %s", dir, m.RunID, m.BizDate)
	}
	return m
}

// storeState checks a date of a store as a reader would find it after anything, a kill
// included: `current` is absent or names a published run that verifies; every other entry
// of runs/ is a whole run that verifies or a leftover (.tmp-*, .old-*) that the next run
// cleans; the date directory holds nothing else but the lock and leftover links. It
// returns the current run's id ("" when none) and the leftovers found.
func storeState(t *testing.T, storeDir string) (current string, leftovers []string) {
	t.Helper()
	dd := filepath.Join(storeDir, date)
	ents, err := os.ReadDir(dd)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		switch name := e.Name(); {
		case name == ".lock" || name == "runs" || name == "current" || name == "published" || name == "inputs" || name == "parsed": // kept inputs, shared by the runs; the parse cache
		case strings.HasPrefix(name, ".current-"):
			leftovers = append(leftovers, name)
		default:
			t.Errorf("unexpected %q in %q", name, dd)
		}
	}
	if target, err := os.Readlink(filepath.Join(dd, "current")); err == nil {
		id, ok := strings.CutPrefix(target, "runs/")
		if !ok || strings.Contains(id, "/") {
			t.Fatalf("current points to %q", target)
		}
		verifyRun(t, filepath.Join(dd, "runs", id))
		current = id
	} else if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("current: %v", err)
	}
	runs, err := os.ReadDir(filepath.Join(dd, "runs"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	for _, e := range runs {
		name := e.Name()
		if strings.HasPrefix(name, ".tmp-") || strings.HasPrefix(name, ".old-") {
			leftovers = append(leftovers, "runs/"+name)
			continue
		}
		if !e.IsDir() {
			t.Errorf("runs/%s is not a run directory", name)
			continue
		}
		verifyRun(t, filepath.Join(dd, "runs", name))
	}
	return current, leftovers
}

// noFilesOutside fails the test if dir holds anything not allowed by keep (relative
// '/'-separated paths; a kept directory keeps everything under it).
func noFilesOutside(t *testing.T, dir string, keep ...string) {
	t.Helper()
	for p := range tree(t, dir) {
		ok := false
		for _, k := range keep {
			if p == k || strings.HasPrefix(p, k+"/") || strings.HasPrefix(k, p+"/") {
				ok = true
				break
			}
		}
		if !ok {
			t.Errorf("unexpected file %q under %q", p, dir)
		}
	}
}

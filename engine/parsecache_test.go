package engine_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"settle/connectors"
	"settle/connectors/file"
	"settle/engine"
	"settle/feed"
	"settle/fixtures"
)

// cacheDay writes a small BOSS-dialect day with every anomaly and the feed faults
// (rejects, duplicates, rows of other counters, a short footer, a missing file) in the
// given layout, and reads it back through the folder connector.
func cacheDay(t *testing.T, layout string) *connectors.Day {
	t.Helper()
	cfg := fixtures.NewConfig()
	cfg.Date = time.Date(2026, 11, 21, 0, 0, 0, 0, engine.Shanghai)
	cfg.Outlets, cfg.Counters, cfg.Anomalies, cfg.FeedFaults = 6, 3, 0.5, true
	cfg.Dialect, cfg.Layout = fixtures.DialectBOSS, layout
	d, err := fixtures.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := fixtures.WriteDir(d, dir); err != nil {
		t.Fatal(err)
	}
	day, err := file.New(dir).Fetch(context.Background(), cfg.Date, nil)
	if err != nil {
		t.Fatal(err)
	}
	return day
}

func reconcileWith(t *testing.T, day *connectors.Day, cacheDir string) *engine.Result {
	t.Helper()
	cfg := engine.NewConfig()
	cfg.Date = time.Date(2026, 11, 21, 0, 0, 0, 0, engine.Shanghai)
	cfg.CacheDir = cacheDir
	res, err := engine.Reconcile(context.Background(), cfg, day)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.CacheWritten(); err != nil {
		t.Fatalf("cache: %v", err)
	}
	t.Cleanup(res.Release)
	return res
}

// sameResult fails unless got is want in every figure, finding, reject and feed row.
func sameResult(t *testing.T, what string, got, want *engine.Result) {
	t.Helper()
	for _, c := range []struct {
		name string
		a, b any
	}{
		{"settlement", got.Settlement, want.Settlement}, {"variance", got.Variance, want.Variance},
		{"exceptions", got.Exceptions, want.Exceptions}, {"rejects", got.Rejects, want.Rejects},
		{"counters", got.Counters, want.Counters}, {"counts", got.Counts, want.Counts},
		{"complete", got.Complete, want.Complete}, {"input digest", got.InputDigest, want.InputDigest},
		{"feed digests", got.FeedDigests, want.FeedDigests},
	} {
		if !reflect.DeepEqual(c.a, c.b) {
			t.Errorf("%s: %s differ from a run without the cache", what, c.name)
		}
	}
	for id, rec := range want.Feeds {
		if !array.RecordEqual(rec, got.Feeds[id]) {
			t.Errorf("%s: feed %d's rows differ from a run without the cache", what, id)
		}
	}
}

// withKept gives every input the sha256 of its bytes (connectors.Input.Kept, as a refresh
// does) and an Open that records the input's name in opened.
func withKept(t *testing.T, day *connectors.Day, opened *sync.Map) *connectors.Day {
	t.Helper()
	out := *day
	out.Inputs = make([]connectors.Input, len(day.Inputs))
	for i, in := range day.Inputs {
		rc, err := in.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		in.Kept, in.Size = hex.EncodeToString(sum[:]), int64(len(b))
		name := in.Name
		in.Open = func() (io.ReadCloser, error) {
			opened.Store(name, true)
			return connectors.Bytes(b)()
		}
		out.Inputs[i] = in
	}
	return &out
}

// onlyRejectSources fails unless every input opened is one a reject of res cites: with the
// cache, an input is read again only for the raw text of a row set aside after its reading
// (a duplicate, a row of another counter).
func onlyRejectSources(t *testing.T, opened *sync.Map, res *engine.Result) {
	t.Helper()
	cited := map[string]bool{}
	for _, r := range res.Rejects {
		cited[r.Source] = true
	}
	n := 0
	opened.Range(func(k, _ any) bool {
		n++
		if !cited[k.(string)] {
			t.Errorf("input %s was read although cached", k)
		}
		return true
	})
	if n == 0 {
		t.Error("no input was read again: the rejects' raw text of duplicates needs their inputs")
	}
}

// TestParseCacheGivesTheSameResult: a second run over the same inputs takes them from the
// parse cache — reading none again but for the raw text of rows set aside — and its result
// is the run without a cache, to every row; with per-counter and whole-city files alike.
func TestParseCacheGivesTheSameResult(t *testing.T) {
	was := *engine.CacheBesideRows
	defer func() { *engine.CacheBesideRows = was }()
	for _, beside := range []int64{was, 0} { // written beside assemble (a city-day), or before it (a province-day)
		*engine.CacheBesideRows = beside
		for _, layout := range []string{fixtures.LayoutCity, fixtures.LayoutCounter} {
			t.Run(fmt.Sprintf("%s/beside=%v", layout, beside > 0), func(t *testing.T) {
				day := cacheDay(t, layout)
				want := reconcileWith(t, day, "")
				if len(want.Rejects) == 0 || want.Complete {
					t.Fatalf("the day should have rejects and be incomplete (rejects %d, complete %v)", len(want.Rejects), want.Complete)
				}
				dir := t.TempDir()
				sameResult(t, "the run writing the cache", reconcileWith(t, day, dir), want)
				files, _ := filepath.Glob(filepath.Join(dir, "*.pc"))
				if len(files) != 9 {
					t.Fatalf("cache holds %d files, want one per feed: %v", len(files), files)
				}
				var opened sync.Map
				sameResult(t, "the run reading the cache", reconcileWith(t, withKept(t, day, &opened), dir), want)
				onlyRejectSources(t, &opened, want)
				after, _ := filepath.Glob(filepath.Join(dir, "*.pc"))
				if !reflect.DeepEqual(files, after) {
					t.Errorf("an unchanged run rewrote the cache: %v, then %v", files, after)
				}
			})
		}
	}
}

// TestParseCacheChangedInput: one input changed since the cache was written is read again
// (the others are not); the result is that of a run without the cache over the new day.
func TestParseCacheChangedInput(t *testing.T) {
	day := cacheDay(t, fixtures.LayoutCounter)
	dir := t.TempDir()
	reconcileWith(t, day, dir)
	var opened sync.Map
	changed := withKept(t, day, &opened)
	// The first deposit input gets one more line: its own bytes, read as usual.
	victim := -1
	for i, in := range day.Inputs {
		if in.Feed == feed.Deposit && in.Counter != "" {
			victim = i
			break
		}
	}
	if victim < 0 {
		t.Fatal("no per-counter deposit input")
	}
	rc, err := day.Inputs[victim].Open()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	b = append([]byte(nil), b...)
	b = append(b, []byte("garbage,line\r\n")...)
	in := day.Inputs[victim]
	in.Kept, in.Size = "", 0
	in.Open = connectors.Bytes(b)
	changed.Inputs[victim] = in
	fresh := *day
	fresh.Inputs = append([]connectors.Input(nil), day.Inputs...)
	fresh.Inputs[victim] = in
	want := reconcileWith(t, &fresh, "")
	sameResult(t, "a run with one changed input", reconcileWith(t, changed, dir), want)
}

// TestParseCacheDamagedFile: a cache file cut short or altered is not used (the inputs are
// read again, and the result is unchanged) and is replaced.
func TestParseCacheDamagedFile(t *testing.T) {
	day := cacheDay(t, fixtures.LayoutCity)
	want := reconcileWith(t, day, "")
	dir := t.TempDir()
	reconcileWith(t, day, dir)
	files, _ := filepath.Glob(filepath.Join(dir, "*.pc"))
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			b[len(b)/2] ^= 0xff
		} else {
			b = b[:len(b)-10]
		}
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sameResult(t, "a run over a damaged cache", reconcileWith(t, day, dir), want)
	// Replaced: the next run reads nothing (its inputs cannot be opened).
	var opened sync.Map
	sameResult(t, "the run after", reconcileWith(t, withKept(t, day, &opened), dir), want)
	onlyRejectSources(t, &opened, want)
}

// TestParseCacheOtherSettings: a cache written under another language or amount ceiling is
// not used.
func TestParseCacheOtherSettings(t *testing.T) {
	day := cacheDay(t, fixtures.LayoutCity)
	dir := t.TempDir()
	reconcileWith(t, day, dir)
	cfg := engine.NewConfig()
	cfg.Date = time.Date(2026, 11, 21, 0, 0, 0, 0, engine.Shanghai)
	cfg.Lang, cfg.CacheDir = "en", dir
	var opened sync.Map
	res, err := engine.Reconcile(context.Background(), cfg, withKept(t, day, &opened))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Release()
	res.CacheWritten()
	n := 0
	opened.Range(func(any, any) bool { n++; return true })
	if n != len(day.Inputs) {
		t.Errorf("%d of %d inputs were read under another language; want all", n, len(day.Inputs))
	}
	// Nor one written under another amount ceiling (it decides which amounts are valid).
	reconcileWith(t, day, dir) // the cache of the default settings again
	cfg.Lang, cfg.Ceiling = "zh", cfg.Ceiling/2
	var again sync.Map
	res2, err := engine.Reconcile(context.Background(), cfg, withKept(t, day, &again))
	if err != nil {
		t.Fatal(err)
	}
	defer res2.Release()
	res2.CacheWritten()
	n = 0
	again.Range(func(any, any) bool { n++; return true })
	if n != len(day.Inputs) {
		t.Errorf("%d of %d inputs were read under another amount ceiling; want all", n, len(day.Inputs))
	}
}

// TestParseCacheSkipsFailedReads: an input that could not be read is not cached: the same
// input readable (here: empty) next time is read, not served the failure.
func TestParseCacheSkipsFailedReads(t *testing.T) {
	day := cacheDay(t, fixtures.LayoutCity)
	failing := *day
	failing.Inputs = append([]connectors.Input(nil), day.Inputs...)
	failing.Inputs[0].Open = func() (io.ReadCloser, error) { return nil, os.ErrPermission }
	dir := t.TempDir()
	reconcileWith(t, &failing, dir)
	empty := *day
	empty.Inputs = append([]connectors.Input(nil), day.Inputs...)
	empty.Inputs[0].Open = connectors.Bytes(nil)
	sameResult(t, "an empty input after it failed", reconcileWith(t, &empty, dir), reconcileWith(t, &empty, ""))
}

// TestParseCacheSameBytesOtherInputs: inputs of the same bytes under other names (their
// cache entries share a digest) are each taken from the cache as themselves: a copy of a
// deposit report with a malformed row, under three other counters' names and in the order
// that puts the original between them, gives the rejects of each copy under its own name.
func TestParseCacheSameBytesOtherInputs(t *testing.T) {
	day := cacheDay(t, fixtures.LayoutCounter)
	base := reconcileWith(t, day, "")
	malformed := map[string]bool{}
	for _, r := range base.Rejects {
		if strings.HasPrefix(r.Reason, string(engine.CodeMalformedRow)) {
			malformed[r.Source] = true
		}
	}
	orig, copies := -1, []int{}
	for i, in := range day.Inputs {
		if in.Feed != feed.Deposit || in.Counter == "" {
			continue
		}
		if orig < 0 && malformed[in.Name] {
			orig = i
		} else if len(copies) < 3 && !malformed[in.Name] {
			copies = append(copies, i)
		}
	}
	if orig < 0 || len(copies) < 3 {
		t.Fatalf("no per-counter deposit input with a malformed row, or too few others (%d, %v)", orig, copies)
	}
	rc, err := day.Inputs[orig].Open()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	same := *day
	same.Inputs = append([]connectors.Input(nil), day.Inputs...)
	for _, i := range copies {
		same.Inputs[i].Open = connectors.Bytes(b)
	}
	want := reconcileWith(t, &same, "")
	cited := map[string]bool{}
	for _, r := range want.Rejects {
		cited[r.Source] = true
	}
	for _, i := range append(copies, orig) {
		if !cited[same.Inputs[i].Name] {
			t.Fatalf("%s: no reject cites it", same.Inputs[i].Name)
		}
	}
	dir := t.TempDir()
	reconcileWith(t, &same, dir)
	var opened sync.Map
	sameResult(t, "the run reading the cache", reconcileWith(t, withKept(t, &same, &opened), dir), want)
}

// TestParseCacheReadAhead: a cache read before Load (ReadCacheAhead, as a refresh does while
// it pulls) serves the inputs as the cache Load opens itself does, its files gone meanwhile;
// one read ahead under other settings (language) or from another folder is dropped, not
// used, and Load reads the inputs; Drop after Load, or twice, is harmless.
func TestParseCacheReadAhead(t *testing.T) {
	day := cacheDay(t, fixtures.LayoutCounter)
	want := reconcileWith(t, day, "")
	dir := t.TempDir()
	reconcileWith(t, day, dir)
	run := func(lang, aheadLang, cacheDir string) (*engine.Result, int) {
		cfg := engine.NewConfig()
		cfg.Date = time.Date(2026, 11, 21, 0, 0, 0, 0, engine.Shanghai)
		cfg.CacheDir = dir
		acfg := cfg
		acfg.Lang = aheadLang
		cfg.Lang, cfg.CacheDir = lang, cacheDir
		cfg.Ahead = engine.ReadCacheAhead(acfg)
		if cfg.Ahead == nil {
			t.Fatal("nothing read ahead from a cache folder")
		}
		defer cfg.Ahead.Drop()
		if lang == aheadLang && cacheDir == dir {
			// The cache's files go once read ahead: what Load takes from the cache now, it
			// takes from the read-ahead (it cannot have opened the cache itself).
			engine.WaitAhead(cfg.Ahead)
			files, _ := filepath.Glob(filepath.Join(dir, "*.pc"))
			if len(files) == 0 {
				t.Fatal("no cache files to read ahead")
			}
			for _, f := range files {
				if err := os.Remove(f); err != nil {
					t.Fatal(err)
				}
			}
		}
		var opened sync.Map
		res, err := engine.Reconcile(context.Background(), cfg, withKept(t, day, &opened))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(res.Release)
		if err := res.CacheWritten(); err != nil {
			t.Fatal(err)
		}
		cfg.Ahead.Drop()
		n := 0
		opened.Range(func(any, any) bool { n++; return true })
		if lang == "zh" && cacheDir == dir {
			onlyRejectSources(t, &opened, want)
		}
		return res, n
	}
	got, _ := run("zh", "zh", dir)
	sameResult(t, "a run with the cache read ahead", got, want)
	// The cases below each need a cache to read ahead that would serve the run (the run
	// above removed its files): written again before each.
	for _, c := range []struct{ why, lang, dir string }{
		{"a cache read ahead in zh for a run in en", "en", dir},
		{"a cache read ahead from another folder than the run's", "zh", t.TempDir()},
	} {
		reconcileWith(t, day, dir)
		if files, _ := filepath.Glob(filepath.Join(dir, "*.pc")); len(files) == 0 {
			t.Fatal("no cache files to read ahead")
		}
		if _, n := run(c.lang, "zh", c.dir); n != len(day.Inputs) {
			t.Errorf("%s: %d of %d inputs read; want all (the cache not used)", c.why, n, len(day.Inputs))
		}
	}
	if engine.ReadCacheAhead(engine.Config{Date: time.Now()}) != nil {
		t.Error("a read-ahead without a cache folder")
	}
}

// TestReleaseWaitsForTheCache: the parse cache is written beside the run, and nothing of it
// goes on once the run's Loaded or Result is released, on whichever path: a caller that then
// removes the store (a failed run's test, an operator's cleanup) finds no file still being
// written. The writer is slowed so that a Release not waiting for it finds no cache yet.
func TestReleaseWaitsForTheCache(t *testing.T) {
	day := cacheDay(t, fixtures.LayoutCounter)
	was := *engine.BeforeCacheWrite
	*engine.BeforeCacheWrite = func() { time.Sleep(300 * time.Millisecond) }
	t.Cleanup(func() { *engine.BeforeCacheWrite = was })
	cfg := engine.NewConfig()
	cfg.Date = time.Date(2026, 11, 21, 0, 0, 0, 0, engine.Shanghai)
	for _, c := range []struct {
		name string
		run  func(engine.Config) (interface{ Release() }, error)
	}{
		{"a Loaded released unapplied (a run whose inputs could not be kept)", func(cfg engine.Config) (interface{ Release() }, error) {
			return engine.Load(context.Background(), cfg, day)
		}},
		{"a Result released without asking whether its cache was written (a run failing later)", func(cfg engine.Config) (interface{ Release() }, error) {
			return engine.Reconcile(context.Background(), cfg, day)
		}},
	} {
		cfg.CacheDir = t.TempDir()
		r, err := c.run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		r.Release()
		files, _ := filepath.Glob(filepath.Join(cfg.CacheDir, "*.pc"))
		tmps, _ := filepath.Glob(filepath.Join(cfg.CacheDir, ".tmp-*"))
		if len(files) == 0 || len(tmps) > 0 {
			t.Errorf("%s while the cache was being written: %d cache files, %d partial", c.name, len(files), len(tmps))
		}
	}
}

// concatFails is an allocator that panics when assemble joins a feed's parts (engine's
// (*loader).concat), which array.Concatenate turns into an error: Load fails after the
// cache's writer and the raw text's re-reads have started.
type concatFails struct{ memory.Allocator }

func (a concatFails) fail() {
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	for {
		f, more := frames.Next()
		if f.Function == "settle/engine.(*loader).concat" {
			panic("no memory for the feed")
		}
		if !more {
			return
		}
	}
}

func (a concatFails) Allocate(n int) []byte { a.fail(); return a.Allocator.Allocate(n) }
func (a concatFails) Reallocate(n int, b []byte) []byte {
	a.fail()
	return a.Allocator.Reallocate(n, b)
}

// TestLoadFailingLeavesNothingRunning: when Load fails after the inputs are read (assemble's
// error), nothing it started goes on once it has returned: the parse cache is written
// whole, and the inputs read again for the raw text of rows set aside are done with. Each in
// turn is slowed, so that a Load not waiting for it returns first.
func TestLoadFailingLeavesNothingRunning(t *testing.T) {
	day := cacheDay(t, fixtures.LayoutCounter)
	was := *engine.BeforeCacheWrite
	t.Cleanup(func() { *engine.BeforeCacheWrite = was })
	for _, slowed := range []string{"cache", "reread"} {
		pause := func(what string) {
			if what == slowed {
				time.Sleep(400 * time.Millisecond)
			}
		}
		*engine.BeforeCacheWrite = func() { pause("cache") }
		var (
			mu             sync.Mutex
			opens          = map[string]int{}
			rereads, ended int
		)
		slow := *day
		slow.Inputs = append([]connectors.Input(nil), day.Inputs...)
		for i := range slow.Inputs {
			in := &slow.Inputs[i]
			open, name := in.Open, in.Name
			in.Open = func() (io.ReadCloser, error) {
				mu.Lock()
				opens[name]++
				again := opens[name] > 1 // read again for a reject's raw text
				if again {
					rereads++
				}
				mu.Unlock()
				if !again {
					return open()
				}
				pause("reread")
				rc, err := open()
				mu.Lock()
				ended++
				mu.Unlock()
				return rc, err
			}
		}
		cfg := engine.NewConfig()
		cfg.Date = time.Date(2026, 11, 21, 0, 0, 0, 0, engine.Shanghai)
		cfg.CacheDir = t.TempDir()
		cfg.Mem = concatFails{memory.DefaultAllocator}
		ld, err := engine.Load(context.Background(), cfg, &slow)
		if err == nil {
			ld.Release()
			t.Fatal("Load did not fail with no memory to join the feeds")
		}
		files, _ := filepath.Glob(filepath.Join(cfg.CacheDir, "*.pc"))
		tmps, _ := filepath.Glob(filepath.Join(cfg.CacheDir, ".tmp-*"))
		if len(files) == 0 || len(tmps) > 0 {
			t.Errorf("%s slowed: Load returned while the cache was being written: %d cache files, %d partial", slowed, len(files), len(tmps))
		}
		mu.Lock()
		if rereads == 0 {
			t.Fatal("no input was read again for raw text: the day should have rows set aside after reading")
		}
		if ended != rereads {
			t.Errorf("%s slowed: Load returned while %d of %d inputs were still being read again", slowed, rereads-ended, rereads)
		}
		mu.Unlock()
	}
}

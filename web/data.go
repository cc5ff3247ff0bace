package web

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"settle/engine"
	"settle/feed"
	"settle/report"
	"settle/store"
)

// runData is a published run as the pages show it: its manifest and its tables split by
// counter. Runs never change once published, so it is cached by directory.
type runData struct {
	Dir      string
	ID       string
	Manifest *store.Manifest
	counters []*counterData          // sorted by city, outlet, counter
	byID     map[string]*counterData // by counter id (unique within a day)
	cityWide []engine.Exception      // findings of no counter (a city-wide FEED_MISSING)
}

// counterData is one counter of a run.
type counterData struct {
	City, Outlet, Counter string
	Settlement            []engine.SettlementLine
	Variance              []engine.VarianceLine
	Exceptions            []engine.Exception // the counter's and the city-wide ones, errors first
	Incomplete            bool
	Why                   []string
	Errors, Warnings      int
	Net, VarianceSum      int64
	Short                 bool // some pay method is short
}

// outletRollup is the name of an outlet's roll-up report in reports/<outlet>/.
const outletRollup = "outlet"

// loadRun reads a run directory through the store (store.OpenStored, Stored.ReadTables),
// which checks every table against the manifest's checksums.
func loadRun(dir string) (*runData, error) {
	st, err := store.OpenStored(dir)
	if err != nil {
		return nil, err
	}
	r, err := st.ReadTables(memory.NewGoAllocator())
	if err != nil {
		return nil, err
	}
	m := st.Manifest()
	id := m.RunID
	if id == "" {
		id = filepath.Base(dir)
	}
	rd := &runData{Dir: dir, ID: id, Manifest: m, byID: map[string]*counterData{}}
	get := func(city, outlet, counter string) *counterData {
		c, ok := rd.byID[counter]
		if !ok {
			c = &counterData{City: city, Outlet: outlet, Counter: counter}
			rd.byID[counter] = c
		}
		return c
	}
	// Every counter with a report, then any with lines but none.
	for p := range m.Outputs {
		rest, ok := strings.CutPrefix(p, "reports/")
		if !ok || !strings.HasSuffix(rest, ".pdf") {
			continue
		}
		outlet, file, ok := strings.Cut(strings.TrimSuffix(rest, ".pdf"), "/")
		// reports/<outlet>/outlet.pdf is the outlet's roll-up (report/rollup.go), not a counter.
		if ok && feed.ValidID(outlet) && feed.ValidID(file) && file != outletRollup {
			get("", outlet, file)
		}
	}
	for _, l := range r.Settlement {
		c := get(l.City, l.Outlet, l.Counter)
		c.City = l.City
		c.Settlement = append(c.Settlement, l)
		c.Net += l.Net
	}
	for _, l := range r.Variance {
		c := get(l.City, l.Outlet, l.Counter)
		c.City = l.City
		c.Variance = append(c.Variance, l)
		c.VarianceSum += l.Variance
		if l.Variance < 0 {
			c.Short = true
		}
	}
	for _, e := range r.Exceptions {
		if e.Counter == "" {
			rd.cityWide = append(rd.cityWide, e)
			continue
		}
		if c, ok := rd.byID[e.Counter]; ok {
			c.Exceptions = append(c.Exceptions, e)
			if c.City == "" {
				c.City = e.City
			}
		}
	}
	why := engine.IncompleteWhy(r.Exceptions)
	for _, c := range rd.byID {
		if !feed.ValidID(c.Outlet) || !feed.ValidID(c.Counter) {
			delete(rd.byID, c.Counter)
			continue
		}
		c.Exceptions = append(c.Exceptions, rd.cityWide...)
		c.Why = why.Of(c.Counter)
		c.Incomplete = len(c.Why) > 0
		for _, e := range c.Exceptions {
			switch e.Severity {
			case engine.SevError:
				c.Errors++
			case engine.SevWarning:
				c.Warnings++
			}
		}
		slices.SortStableFunc(c.Variance, func(a, b engine.VarianceLine) int {
			return cmp.Compare(payRank(a.PayMethod), payRank(b.PayMethod))
		})
		slices.SortStableFunc(c.Exceptions, func(a, b engine.Exception) int {
			return cmp.Compare(report.SevRank(a.Severity), report.SevRank(b.Severity))
		})
		rd.counters = append(rd.counters, c)
	}
	slices.SortFunc(rd.counters, func(a, b *counterData) int {
		return cmp.Or(cmp.Compare(a.City, b.City), cmp.Compare(a.Outlet, b.Outlet), cmp.Compare(a.Counter, b.Counter))
	})
	return rd, nil
}

// payRank orders pay methods as FEEDS.md lists them (cash first), unknown ones last.
func payRank(m string) int {
	if i := slices.Index(feed.PayMethods.Values, m); i >= 0 {
		return i
	}
	return len(feed.PayMethods.Values)
}

// runCache keeps the last few runs read.
type runCache struct {
	mu    sync.Mutex
	size  int
	order []string
	m     map[string]*cacheEntry
}

type cacheEntry struct {
	once sync.Once
	rd   *runData
	err  error
}

func newRunCache(size int) *runCache { return &runCache{size: size, m: map[string]*cacheEntry{}} }

// get returns the run in dir, reading it on first use. Failures are not kept.
func (c *runCache) get(dir string) (*runData, error) {
	c.mu.Lock()
	e, ok := c.m[dir]
	if !ok {
		e = &cacheEntry{}
		c.m[dir] = e
		c.order = append(c.order, dir)
		if len(c.order) > c.size {
			delete(c.m, c.order[0])
			c.order = c.order[1:]
		}
	}
	c.mu.Unlock()
	e.once.Do(func() { e.rd, e.err = loadRun(dir) })
	if e.err != nil {
		c.mu.Lock()
		if c.m[dir] == e {
			delete(c.m, dir)
			c.order = slices.DeleteFunc(c.order, func(d string) bool { return d == dir })
		}
		c.mu.Unlock()
	}
	return e.rd, e.err
}

// pivot is the revenue table of a counter: net by category (rows) × pay method (columns).
type pivot struct {
	Methods  []string
	Rows     []pivotRow
	ColTotal []int64
	Total    int64
}

type pivotRow struct {
	Category string
	Cells    []pivotCell
	Total    int64
}

type pivotCell struct {
	Net int64
	Has bool
}

func newPivot(lines []engine.SettlementLine) pivot {
	var p pivot
	has := map[string]bool{}
	for _, l := range lines {
		has[l.PayMethod] = true
	}
	for _, m := range feed.PayMethods.Values {
		if has[m] {
			p.Methods = append(p.Methods, m)
		}
	}
	p.ColTotal = make([]int64, len(p.Methods))
	for _, cat := range feed.Categories {
		row := pivotRow{Category: cat.Code, Cells: make([]pivotCell, len(p.Methods))}
		any := false
		for _, l := range lines {
			if l.Category != cat.Code {
				continue
			}
			i := slices.Index(p.Methods, l.PayMethod)
			if i < 0 {
				continue
			}
			row.Cells[i].Net += l.Net
			row.Cells[i].Has = true
			row.Total += l.Net
			p.ColTotal[i] += l.Net
			p.Total += l.Net
			any = true
		}
		if any {
			p.Rows = append(p.Rows, row)
		}
	}
	return p
}

// verifiedFile reads a file of a run and checks its sha256 against the manifest's, and
// against want when it is set (the sum a sign-off pinned).
func verifiedFile(rd *runData, rel, want string) ([]byte, string, error) {
	out, ok := rd.Manifest.Outputs[rel]
	if !ok {
		return nil, "", fmt.Errorf("%s: %w", rel, os.ErrNotExist)
	}
	b, err := os.ReadFile(filepath.Join(rd.Dir, filepath.FromSlash(rel)))
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(b)
	got := hex.EncodeToString(sum[:])
	if got != out.SHA256 {
		return nil, "", fmt.Errorf("%s in run %s: sha256 %s, the manifest says %s: %w", rel, rd.ID, got, out.SHA256, errAltered)
	}
	if want != "" && got != want {
		return nil, "", fmt.Errorf("%s in run %s: sha256 %s, the sign-off says %s: %w", rel, rd.ID, got, want, errAltered)
	}
	return b, got, nil
}

var errAltered = fmt.Errorf("report altered")

// Package conformance is the test suite every connector runs, after restic's backend test
// suite: give Run a connectors.Source that serves a day made by package fixtures, and it
// checks the Source contract (unique, re-openable inputs; pulls named
// feed/counter_id; a roster that is the day's; stats that add up; cancellation) and then
// reconciles the day and checks that exactly the generator's ground truth is found. The
// Summary it returns lets a test assert that several connectors publish the same results.
package conformance

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"golang.org/x/sync/errgroup"

	"settle/connectors"
	"settle/engine"
	"settle/feed"
	"settle/fixtures"
	"settle/money"
)

// Summary is what a reconciliation of the fetched day publishes, with what depends on the
// connector or the dialect by design taken out: settlement and variance lines whole, and
// each exception as its identifying columns (code, severity, city, outlet_id, counter_id,
// feed, txn_id, amount), sorted. The detail is left out: it cites sources (path:line or
// feed/counter_id) and quotes values as the dialect wrote them. Complete is the run's
// completeness.
type Summary struct {
	Settlement []engine.SettlementLine
	Variance   []engine.VarianceLine
	Exceptions []string
	Complete   bool
}

// Run checks src against day as subtests of a test named name, and returns the Summary
// of src's day, or nil when it could not be had. day is the day src serves: its date is
// the one fetched, its roster the counters expected, its Truth the exceptions expected.
func Run(t *testing.T, name string, src connectors.Source, day *fixtures.Day) *Summary {
	t.Helper()
	var sum *Summary
	t.Run(name, func(t *testing.T) {
		date := day.Config.Date
		if d := src.Describe(); d == "" {
			t.Error("Describe() is empty")
		}
		got, err := src.Fetch(context.Background(), date, nil)
		if err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		t.Run("Inputs", func(t *testing.T) { checkInputs(t, got, day) })
		t.Run("Open", func(t *testing.T) { checkOpen(t, got) })
		t.Run("Roster", func(t *testing.T) { checkRoster(t, got, day) })
		t.Run("Missing", func(t *testing.T) { checkMissing(t, got, day) })
		t.Run("Stats", func(t *testing.T) { checkStats(t, got) })
		t.Run("Cancel", func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if _, err := src.Fetch(ctx, date, nil); err == nil {
				t.Error("Fetch with a cancelled context: no error")
			}
		})
		t.Run("Truth", func(t *testing.T) { sum = reconcile(t, got, day) })
	})
	return sum
}

func checkInputs(t *testing.T, d *connectors.Day, day *fixtures.Day) {
	if len(d.Inputs) == 0 {
		t.Fatal("no inputs")
	}
	seen := map[string]bool{}
	for i, in := range d.Inputs {
		if in.Feed < 0 || in.Feed >= feed.Count {
			t.Errorf("input %q: feed %d out of range", in.Name, in.Feed)
			continue
		}
		if in.Name == "" || in.Open == nil {
			t.Errorf("input %d of %s: empty name or no Open", i, in.Feed)
		}
		key := in.Feed.String() + "\x00" + in.Name
		if seen[key] {
			t.Errorf("input %q of %s listed twice", in.Name, in.Feed)
		}
		seen[key] = true
		if in.Counter != "" && !day.HasCounter(in.Counter) {
			t.Errorf("input %q: counter %q is not one of the day's", in.Name, in.Counter)
		}
		if in.Pull {
			if want := in.Feed.String() + "/" + in.Counter; in.Counter == "" || in.Name != want {
				t.Errorf("pull %q: want Name %q and Counter set, got counter %q", in.Name, want, in.Counter)
			}
			if in.Format != connectors.CSV {
				t.Errorf("pull %q: format %d, want CSV", in.Name, in.Format)
			}
		}
	}
}

// checkOpen opens every input twice, from several goroutines at once: the bytes must be
// the same each time.
func checkOpen(t *testing.T, d *connectors.Day) {
	read := func(in connectors.Input) ([]byte, error) {
		rc, err := in.Open()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}
	first := make([][]byte, len(d.Inputs))
	errs := make([]error, len(d.Inputs))
	var g errgroup.Group
	g.SetLimit(4)
	for i, in := range d.Inputs {
		g.Go(func() error {
			first[i], errs[i] = read(in)
			return nil
		})
	}
	g.Wait()
	for i, in := range d.Inputs {
		if errs[i] != nil {
			t.Errorf("open %q: %v", in.Name, errs[i])
			continue
		}
		if len(first[i]) == 0 {
			t.Errorf("input %q is empty", in.Name)
		}
		again, err := read(in)
		if err != nil || !bytes.Equal(again, first[i]) {
			t.Errorf("input %q: a second Open gave other bytes (err %v)", in.Name, err)
		}
	}
}

func checkRoster(t *testing.T, d *connectors.Day, day *fixtures.Day) {
	if d.Roster == nil {
		return // a source without a roster: the counters are those seen in the rows
	}
	got := slices.Clone(d.Roster)
	want := day.Roster()
	less := func(a, b connectors.Counter) int {
		return cmp.Or(strings.Compare(a.City, b.City), strings.Compare(a.Outlet, b.Outlet), strings.Compare(a.Counter, b.Counter))
	}
	slices.SortFunc(got, less)
	slices.SortFunc(want, less)
	if !slices.Equal(got, want) {
		t.Errorf("roster has %d counters, the day %d; first %v, want %v", len(got), len(want), head(got), head(want))
	}
}

func head(cs []connectors.Counter) []connectors.Counter { return cs[:min(len(cs), 3)] }

// checkMissing: a day without feed faults misses nothing; a missing input names a feed
// and, if any, one of the day's counters.
func checkMissing(t *testing.T, d *connectors.Day, day *fixtures.Day) {
	for _, m := range d.Missing {
		if !day.Config.FeedFaults {
			t.Errorf("missing %s of counter %q on a day without feed faults: %s", m.Feed, m.Counter, m.Reason)
		}
		if m.Feed < 0 || m.Feed >= feed.Count || m.Reason == "" {
			t.Errorf("missing %+v: bad feed or no reason", m)
		}
		if m.Counter != "" && !day.HasCounter(m.Counter) {
			t.Errorf("missing %s of counter %q: not one of the day's", m.Feed, m.Counter)
		}
	}
}

// checkStats: every input is counted as a file or a pull, with its bytes: exactly those
// the inputs hold when there are only files.
func checkStats(t *testing.T, d *connectors.Day) {
	var inputs [feed.Count]int
	var size [feed.Count]int64
	for _, in := range d.Inputs {
		inputs[in.Feed]++
		if in.Pull {
			continue // a pull's Bytes count what came over the wire, maybe in GBK
		}
		rc, err := in.Open()
		if err != nil {
			t.Errorf("%s: open: %v", in.Name, err)
			continue
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			t.Errorf("%s: read: %v", in.Name, err)
		}
		size[in.Feed] += n
	}
	for _, id := range feed.All {
		st := d.Stats[id]
		if st.Files+st.Pulls-st.Failures != inputs[id] {
			t.Errorf("%s: %d files + %d pulls - %d failures, but %d inputs", id, st.Files, st.Pulls, st.Failures, inputs[id])
		}
		if st.Retries < 0 || st.Failures < 0 || st.Failures > st.Pulls {
			t.Errorf("%s: stats %+v do not add up", id, st)
		}
		if inputs[id] > 0 && st.Bytes <= 0 {
			t.Errorf("%s: %d inputs of %d bytes", id, inputs[id], st.Bytes)
		}
		if st.Pulls == 0 && st.Bytes != size[id] { // files count exactly what they hold
			t.Errorf("%s: stats count %d bytes, the inputs hold %d", id, st.Bytes, size[id])
		}
	}
}

// reconcile runs the engine over the fetched day and checks its exceptions against the
// generator's truth.
func reconcile(t *testing.T, d *connectors.Day, day *fixtures.Day) *Summary {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	cfg := engine.NewConfig()
	cfg.Date, cfg.Mem = day.Config.Date, mem
	res, err := engine.Reconcile(context.Background(), cfg, d)
	if err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	defer res.Release()
	sum := &Summary{Settlement: res.Settlement, Variance: res.Variance, Complete: res.Complete}
	var got []string
	for i := range res.Exceptions {
		e := &res.Exceptions[i]
		f := engine.ExceptionFields(e)
		got = append(got, strings.Join(f[:8], ","))
	}
	slices.Sort(got)
	sum.Exceptions = got
	var want []string
	for _, tr := range day.Truth {
		want = append(want, strings.Join(tr.Strings(), ","))
	}
	slices.Sort(want)
	if diff := Diff(got, want); diff != "" {
		t.Errorf("exceptions differ from the generator's truth:\n%s", diff)
	}
	if wantComplete := !day.Config.FeedFaults; res.Complete != wantComplete {
		t.Errorf("complete = %v, want %v", res.Complete, wantComplete)
	}
	return sum
}

// sourceRef matches what an exception's detail cites as a source: a file with or without
// its line (TY0008/太原_TY0008-04_本地缴费日报.csv:52, order.csv:4) or a pull
// (local_payment/TY0008-04). A source ends at a space, a quote or a bracket, ASCII or
// the full-width punctuation of the Chinese details (（本地缴费日报 a.csv:3）).
var sourceRef = regexp.MustCompile(`[^\s()"（）：，；、]+\.(?:csv|xlsx)(?::\d+)?|\b(?:` + feedNames() + `)/[A-Za-z0-9_-]+`)

func feedNames() string {
	var names []string
	for _, id := range feed.All {
		names = append(names, regexp.QuoteMeta(id.String()))
	}
	return strings.Join(names, "|")
}

// NormalizeDetail replaces the sources an exception's detail cites by "<src>": a file
// connector cites path:line, a pull feed/counter_id, by design.
func NormalizeDetail(detail string) string { return sourceRef.ReplaceAllString(detail, "<src>") }

// Compare reports how b differs from a ("" when they agree), naming them.
func Compare(nameA string, a *Summary, nameB string, b *Summary) string {
	if a == nil || b == nil {
		return "a summary is missing"
	}
	var out strings.Builder
	if a.Complete != b.Complete {
		fmt.Fprintf(&out, "complete: %s %v, %s %v\n", nameA, a.Complete, nameB, b.Complete)
	}
	settle := func(l engine.SettlementLine) string {
		return fmt.Sprintf("%s,%s,%s,%s,%s,%d,%s,%s,%s", l.City, l.Outlet, l.Counter, l.Category, l.PayMethod,
			l.TxnCount, money.Format(l.Gross), money.Format(l.Reversed), money.Format(l.Net))
	}
	variance := func(l engine.VarianceLine) string {
		return fmt.Sprintf("%s,%s,%s,%s,%s,%s,%s", l.City, l.Outlet, l.Counter, l.PayMethod,
			money.Format(l.Expected), money.Format(l.Deposited), money.Format(l.Variance))
	}
	for _, part := range []struct {
		what string
		a, b []string
	}{
		{"settlement", mapLines(a.Settlement, settle), mapLines(b.Settlement, settle)},
		{"variance", mapLines(a.Variance, variance), mapLines(b.Variance, variance)},
		{"exceptions", a.Exceptions, b.Exceptions},
	} {
		if d := Diff(part.b, part.a); d != "" {
			fmt.Fprintf(&out, "%s: lines only %s has (unexpected) or only %s has (missing):\n%s", part.what, nameB, nameA, d)
		}
	}
	return out.String()
}

func mapLines[T any](ls []T, f func(T) string) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = f(l)
	}
	return out
}

// Diff lists the lines only got has ("unexpected") and only want has ("missing"),
// counting repeats; "" when they hold the same lines.
func Diff(got, want []string) string {
	count := map[string]int{}
	for _, g := range got {
		count[g]++
	}
	for _, w := range want {
		count[w]--
	}
	keys := make([]string, 0, len(count))
	for k, n := range count {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		if n := count[k]; n > 0 {
			fmt.Fprintf(&b, "  unexpected (%d): %s\n", n, k)
		} else {
			fmt.Fprintf(&b, "  missing    (%d): %s\n", -n, k)
		}
	}
	return b.String()
}

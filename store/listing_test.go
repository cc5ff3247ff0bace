package store

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"settle/connectors"
	"settle/feed"
)

// keptFixture is a Kept of n per-counter pulls plus inputs whose names need quoting, a
// missing input and a roster, every input kept in the date's inputs folder.
func keptFixture(t *testing.T, s *Store, n int) *Kept {
	t.Helper()
	day := &connectors.Day{Roster: []connectors.Counter{{City: "TY", Outlet: "TY0001", Counter: "TY0001-01"}, {City: "TY", Outlet: "TY0001", Counter: "TY0001-02"}}}
	for i := range n {
		c := fmt.Sprintf("TY%04d-%02d", i/5, i%5+1)
		body := fmt.Sprintf("营业厅编码,金额\nTY%04d,%d.00\n", i/5, i)
		day.Inputs = append(day.Inputs, connectors.Input{Feed: feed.Deposit, Name: "deposit/" + c, Counter: c, Pull: true,
			Open: connectors.Bytes([]byte(body))})
	}
	for _, name := range []string{"order/a\tb.csv", "order/引号\"和\\反斜杠.csv", "order/line\nbreak.xlsx", "order/空.csv"} {
		f := connectors.CSV
		if strings.HasSuffix(name, ".xlsx") {
			f = connectors.XLSX
		}
		day.Inputs = append(day.Inputs, connectors.Input{Feed: feed.Order, Name: name, Format: f, Open: connectors.Bytes([]byte(name))})
	}
	day.Missing = []connectors.Missing{{Feed: feed.Invoice, Counter: "TY0001-02", City: "TY", Outlet: "TY0001", Reason: "503 (6 tries)",
		Why: connectors.Why{Kind: 2, Request: "GET reports/invoice?counter=TY0001-02", Tries: 6, Deadline: time.Second}}}
	k, err := s.Keep(context.Background(), testDate, day, nil)
	if err != nil {
		t.Fatal(err)
	}
	k.Refreshed = []string{"TY0001-01"}
	return k
}

// publishKept publishes run id with manifest m (its Kept set) and one output file.
func publishKept(t *testing.T, s *Store, id string, m *Manifest) {
	t.Helper()
	run, err := s.Begin(testDate, id)
	if err != nil {
		t.Fatal(err)
	}
	w, err := run.Create("settlement.csv")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("x\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := WriteManifest(run, m); err != nil {
		t.Fatal(err)
	}
	if err := run.Publish(); err != nil {
		t.Fatal(err)
	}
}

// TestManifestKeptListing: a run's kept inputs are written as a listing in the date's inputs
// folder, not into manifest.json, which names it (sha256) with the count; reading the
// manifest — by the run's directory or the date's current link — gives the same Kept as was
// written (names with tabs, quotes, newlines and Chinese included); a second run of the same
// inputs shares the listing; KeptDay rebuilds the day from it.
func TestManifestKeptListing(t *testing.T) {
	s := lockedStore(t)
	k := keptFixture(t, s, 40)
	want := *k
	publishKept(t, s, "r1", &Manifest{BizDate: testDate, Kept: k})
	if k.Listing == "" || k.Count != 44 {
		t.Fatalf("WriteManifest left Kept with listing %q, count %d", k.Listing, k.Count)
	}
	want.Listing, want.Count = k.Listing, k.Count
	dd := filepath.Join(s.dir, testDate)
	raw, err := os.ReadFile(filepath.Join(dd, "runs", "r1", ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{`"inputs"`, `"roster"`, `"missing"`, "deposit/TY0000-01"} {
		if bytes.Contains(raw, []byte(absent)) {
			t.Errorf("manifest.json holds %s:\n%s", absent, raw)
		}
	}
	for _, present := range []string{`"listing": "` + k.Listing + `"`, `"count": 44`, `"refreshed": [`} {
		if !bytes.Contains(raw, []byte(present)) {
			t.Errorf("manifest.json lacks %s:\n%s", present, raw)
		}
	}
	if _, err := os.Stat(filepath.Join(dd, InputsName, k.Listing+".zst")); err != nil {
		t.Fatalf("the listing is not kept: %v", err)
	}
	for _, dir := range []string{filepath.Join(dd, "runs", "r1"), filepath.Join(dd, "current")} {
		m, err := ReadManifest(filepath.Join(dir, ManifestName))
		if err != nil {
			t.Fatal(err)
		}
		if m.Kept.Err() != nil {
			t.Fatal(m.Kept.Err())
		}
		if !reflect.DeepEqual(*m.Kept, want) {
			t.Errorf("read from %s:\n%+v\nwant\n%+v", dir, *m.Kept, want)
		}
	}
	before, _ := os.ReadDir(filepath.Join(dd, InputsName))
	k2 := keptFixture(t, s, 40)
	publishKept(t, s, "r2", &Manifest{BizDate: testDate, Kept: k2})
	after, _ := os.ReadDir(filepath.Join(dd, InputsName))
	if k2.Listing != k.Listing || len(after) != len(before) {
		t.Errorf("a run of the same inputs: listing %s (first %s), %d files in inputs (were %d)", k2.Listing, k.Listing, len(after), len(before))
	}
	day, _, err := s.KeptDay(testDate, filepath.Join(dd, "runs", "r2"))
	if err != nil {
		t.Fatal(err)
	}
	if len(day.Inputs) != 44 || len(day.Missing) != 1 || len(day.Roster) != 2 {
		t.Fatalf("KeptDay: %d inputs, %d missing, %d roster; want 44, 1, 2", len(day.Inputs), len(day.Missing), len(day.Roster))
	}
	for _, in := range day.Inputs {
		if got, _ := readOpen(t, in.Open); in.Feed == feed.Order && string(got) != in.Name {
			t.Errorf("kept input %q reads %q", in.Name, got)
		}
	}
}

// TestManifestOldKeptShape: a manifest written before the listing, holding its kept inputs
// itself, reads as it did: the same Kept, and KeptDay rebuilds its day.
func TestManifestOldKeptShape(t *testing.T) {
	s := lockedStore(t)
	k := keptFixture(t, s, 10)
	publishKept(t, s, "r1", &Manifest{BizDate: testDate})
	old := &Manifest{RunID: "r1", BizDate: testDate, Kept: &Kept{Inputs: k.Inputs, Missing: k.Missing, Roster: k.Roster, Refreshed: k.Refreshed}}
	data, err := marshalManifest(old) // what WriteManifest wrote then
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`"inputs": [`)) {
		t.Fatalf("not the old shape:\n%s", data)
	}
	dir := filepath.Join(s.dir, testDate, "runs", "r1")
	if err := os.WriteFile(filepath.Join(dir, ManifestName), data, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := ReadManifest(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	if m.Kept.Err() != nil || !reflect.DeepEqual(m.Kept, old.Kept) {
		t.Fatalf("old manifest read as %+v (err %v), want %+v", m.Kept, m.Kept.Err(), old.Kept)
	}
	day, _, err := s.KeptDay(testDate, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(day.Inputs) != 14 || len(day.Missing) != 1 {
		t.Fatalf("KeptDay of an old manifest: %d inputs, %d missing; want 14, 1", len(day.Inputs), len(day.Missing))
	}
}

// TestManifestListingGoneOrAltered: a manifest whose listing is missing or altered still reads
// (its figures and outputs), with Kept.Err saying why; KeptDay fails with it, and prune holds
// the date's inputs rather than remove what the run may name.
func TestManifestListingGoneOrAltered(t *testing.T) {
	for _, c := range []string{"gone", "altered"} {
		t.Run(c, func(t *testing.T) {
			s := lockedStore(t)
			k := keptFixture(t, s, 5)
			publishKept(t, s, "r1", &Manifest{BizDate: testDate, Kept: k})
			p := filepath.Join(s.dir, testDate, InputsName, k.Listing+".zst")
			if c == "gone" {
				os.Remove(p)
			} else {
				enc, _ := zenc()
				os.WriteFile(p, enc.EncodeAll([]byte(listingHeader+"\n{}\n"), nil), 0o644)
			}
			dir := filepath.Join(s.dir, testDate, "runs", "r1")
			m, err := ReadManifest(filepath.Join(dir, ManifestName))
			if err != nil {
				t.Fatal(err)
			}
			if m.Kept.Err() == nil || !strings.Contains(m.Kept.Err().Error(), k.Listing) || len(m.Kept.Inputs) != 0 {
				t.Fatalf("Kept.Err %v, %d inputs; want an error naming the listing, none", m.Kept.Err(), len(m.Kept.Inputs))
			}
			if m.Outputs["settlement.csv"].Size != 2 {
				t.Errorf("outputs not read: %+v", m.Outputs)
			}
			if _, _, err := s.KeptDay(testDate, dir); err == nil || !strings.Contains(err.Error(), k.Listing) {
				t.Errorf("KeptDay: %v, want an error naming the listing", err)
			}
			if _, err := keptSums(filepath.Join(dir, ManifestName)); err == nil {
				t.Error("prune's keptSums: no error, the inputs would go")
			}
		})
	}
}

// TestListingParseErrors: a listing that is not one is refused, naming the line.
func TestListingParseErrors(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	for in, want := range map[string]string{
		"nothing":                              "line 1",
		listingHeader + "\n":                   "line 2",
		listingHeader + "\n{\n":                "line 2",
		listingHeader + "\n{}\norder\t\"a\"\n": "line 3: 2 fields",
		listingHeader + "\n{}\norder\t\"a\"\t\"\"\tfile\tcsv\t" + sum + "\t-1\n":   "line 3: bad size",
		listingHeader + "\n{}\norder\t\"a\"\t\"\"\tfile\tcsv\tabc\t1\n":            "line 3: bad sha256",
		listingHeader + "\n{}\norder\t\"a\"\t\"\"\tboth\tcsv\t" + sum + "\t1\n":    "line 3: \"both\"",
		listingHeader + "\n{}\norder\ta\t\"\"\tfile\tcsv\t" + sum + "\t1\n":        "line 3: name a",
		listingHeader + "\n{}\norder\t\"a\"\t\"\"\tfile\tcsv\t" + sum + "\t1":      "line 3: not ended",
		listingHeader + "\n{}\norder\t\"a\"\t\"\"\tfile\tcsv\t" + sum + "\t1\nx\n": "line 4",
	} {
		var k Kept
		if err := parseListing([]byte(in), &k); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error with %q", in, err, want)
		}
	}
}

// pulledCityManifest is a manifest the size of a pulled city-day's: 2,285 counters × 9
// feeds = 20,565 kept pulls, 4,570 reports, 5,000 outputs, the roster.
func pulledCityManifest() *Manifest {
	m := &Manifest{RunID: "r1", BizDate: testDate, Outputs: map[string]Output{}, Reports: map[string]ReportRecord{}, Kept: &Kept{}}
	for o := range 457 {
		for c := range 5 {
			id := fmt.Sprintf("TY%04d-%02d", o, c+1)
			m.Kept.Roster = append(m.Kept.Roster, connectors.Counter{City: "TY", Outlet: fmt.Sprintf("TY%04d", o), Counter: id})
			for _, f := range feed.All {
				m.Kept.Inputs = append(m.Kept.Inputs, KeptInput{Feed: f.String(), Name: f.String() + "/" + id, Counter: id, Pull: true,
					Format: "csv", SHA256: fmt.Sprintf("%064x", o*1000+c*10+int(f)), Size: int64(1000 + o)})
			}
			for _, ext := range []string{"xlsx", "pdf"} {
				rel := fmt.Sprintf("reports/TY%04d/%s.%s", o, id, ext)
				m.Reports[rel] = ReportRecord{Key: fmt.Sprintf("%064x", o*10+c), RenderedIn: "20261121T020000.000Z-0123abcd"}
				m.Outputs[rel] = Output{SHA256: fmt.Sprintf("%064x", o*10+c+7), Size: 70000}
			}
		}
	}
	for i := range 430 {
		m.Outputs[fmt.Sprintf("other/%d.csv", i)] = Output{SHA256: fmt.Sprintf("%064x", i), Size: 100}
	}
	return m
}

// BenchmarkReadManifestPulledCityDay reads the manifest of a pulled city-day's run in the
// shape written before the listing (every kept input in manifest.json) and in today's
// (manifest.json names the listing, read with it).
func BenchmarkReadManifestPulledCityDay(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "store"))
	if err != nil {
		b.Fatal(err)
	}
	dd := filepath.Join(s.dir, testDate)
	m := pulledCityManifest()
	old, err := marshalManifest(m)
	if err != nil {
		b.Fatal(err)
	}
	sum, err := writeListing(dd, m.Kept)
	if err != nil {
		b.Fatal(err)
	}
	onDisk := *m
	onDisk.Kept = &Kept{Listing: sum, Count: len(m.Kept.Inputs)}
	now, err := marshalManifest(&onDisk)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		data []byte
	}{{"old", old}, {"listing", now}} {
		dir := filepath.Join(dd, "runs", c.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		p := filepath.Join(dir, ManifestName)
		if err := os.WriteFile(p, c.data, 0o644); err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				got, err := ReadManifest(p)
				if err != nil || got.Kept.Err() != nil || len(got.Kept.Inputs) != 20_565 {
					b.Fatalf("%v %v", err, got.Kept.Err())
				}
			}
			b.ReportMetric(float64(len(c.data)), "manifest-bytes")
		})
	}
}

// TestListKeptBegunEarly: a listing begun by ListKept is the one the manifest names when its
// Kept is that one (as a listing written by WriteManifest itself would be), and not when the
// manifest's Kept is another; a run aborted after ListKept waits for the listing it began.
func TestListKeptBegunEarly(t *testing.T) {
	s := lockedStore(t)
	k := keptFixture(t, s, 12)
	publishKept(t, s, "r1", &Manifest{BizDate: testDate, Kept: k})
	want := k.Listing

	k2 := keptFixture(t, s, 12)
	run, err := s.Begin(testDate, "r2")
	if err != nil {
		t.Fatal(err)
	}
	run.ListKept(k2)
	w, _ := run.Create("settlement.csv")
	w.Write([]byte("x\n"))
	w.Close()
	if err := WriteManifest(run, &Manifest{BizDate: testDate, Kept: k2}); err != nil {
		t.Fatal(err)
	}
	if k2.Listing != want {
		t.Errorf("listing begun early: %q, want %q (the same inputs)", k2.Listing, want)
	}

	other := keptFixture(t, s, 7) // another day's worth of inputs
	run3, err := s.Begin(testDate, "r3")
	if err != nil {
		t.Fatal(err)
	}
	run3.ListKept(k2)
	w, _ = run3.Create("settlement.csv")
	w.Write([]byte("x\n"))
	w.Close()
	if err := WriteManifest(run3, &Manifest{BizDate: testDate, Kept: other}); err != nil {
		t.Fatal(err)
	}
	if other.Listing == "" || other.Listing == want || other.Count != 7+4 {
		t.Errorf("a manifest whose Kept is not the one listed early names listing %q (%d inputs); want its own", other.Listing, other.Count)
	}
	run3.Abort()

	run4, err := s.Begin(testDate, "r4")
	if err != nil {
		t.Fatal(err)
	}
	run4.ListKept(keptFixture(t, s, 5))
	if err := run4.Abort(); err != nil {
		t.Fatal(err)
	}
	if run4.listing == nil {
		t.Fatal("ListKept recorded no listing")
	}
	select {
	case <-run4.listing.done:
	default:
		t.Error("Abort returned before the listing ListKept began was written")
	}
}

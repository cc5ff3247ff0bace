package diff

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"settle/diff/difftest"
	"settle/store"
)

// cityDayCounters is the size of the city day settle diff must compare in about a second.
const cityDayCounters = 2285

// BenchmarkCompareCityDay compares two published runs of a synthetic city day of 2,285
// counters (about 10,000 settlement lines and 10,000 exceptions each; one counter in a
// hundred changed): "compare" is Compare alone, "load+compare" what `settle diff` does
// before writing (two Loads and Compare), and "json" adds writing the JSON. SetBytes is the
// size of the six Parquet files read.
func BenchmarkCompareCityDay(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "store")
	date := time.Date(2026, 11, 21, 0, 0, 0, 0, shanghai)
	dirA, err := difftest.Publish(dir, difftest.CityDay(date, cityDayCounters, false), difftest.Meta{RunID: idA, ToolVersion: "0.1.0"})
	if err != nil {
		b.Fatal(err)
	}
	dirB, err := difftest.Publish(dir, difftest.CityDay(date, cityDayCounters, true), difftest.Meta{RunID: idB, ToolVersion: "0.1.0"})
	if err != nil {
		b.Fatal(err)
	}
	var size int64
	for _, d := range []string{dirA, dirB} {
		for _, t := range []store.Table{store.Settlement, store.Variance, store.Exceptions} {
			fi, err := os.Stat(filepath.Join(d, t.File()))
			if err != nil {
				b.Fatal(err)
			}
			size += fi.Size()
		}
	}
	ra, rb := loadPair(b, dirA, dirB)
	d := Compare(ra, rb)
	b.Logf("%d+%d settlement lines, %d+%d exceptions; %d counters changed", len(ra.Settlement), len(rb.Settlement),
		len(ra.Exceptions), len(rb.Exceptions), d.Totals.Counters)

	b.Run("compare", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(size)
		for b.Loop() {
			Compare(ra, rb)
		}
	})
	b.Run("load+compare", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(size)
		for b.Loop() {
			ra, rb := loadPair(b, dirA, dirB)
			Compare(ra, rb)
		}
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(size)
		for b.Loop() {
			ra, rb := loadPair(b, dirA, dirB)
			if err := WriteJSON(io.Discard, Compare(ra, rb)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

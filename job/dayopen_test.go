package job

import (
	"archive/zip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"settle/connectors/file"
	"settle/engine"
	"settle/fixtures"
	"settle/report"
	"settle/store"
)

func TestDayOpenAt(t *testing.T) {
	sh := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, engine.Shanghai) }
	for _, tc := range []struct {
		name      string
		date, now time.Time
		open      bool
	}{
		{"the day itself, morning", day1, sh(21, 9), true},
		{"last second of the day", day1, time.Date(2026, 11, 21, 23, 59, 59, 0, engine.Shanghai), true},
		{"the next midnight", day1, sh(22, 0), false},
		{"yesterday, the nightly run", day1, sh(22, 2), false},
		{"a day later", day1, sh(30, 12), false},
		{"a future date", sh(25, 0), sh(21, 12), true},
		// 16:00 UTC on the 21st is midnight of the 22nd in Shanghai: the day is over there.
		{"UTC clock, Shanghai over", day1, time.Date(2026, 11, 21, 16, 0, 0, 0, time.UTC), false},
		{"UTC clock, Shanghai not over", day1, time.Date(2026, 11, 21, 15, 59, 0, 0, time.UTC), true},
		// A date given at UTC midnight is the same calendar day.
		{"date in UTC", time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), sh(21, 20), true},
	} {
		if got := DayOpen(tc.date, tc.now); got != tc.open {
			t.Errorf("%s: DayOpen(%s, %s) = %v, want %v", tc.name, tc.date, tc.now, got, tc.open)
		}
	}
}

// TestDayOpenRun: a run made while its business day is open records day_open in its manifest
// and says so on its reports; the nightly run of the same day, after midnight, does neither.
func TestDayOpenRun(t *testing.T) {
	cfg := fixtures.NewConfig()
	cfg.Date, cfg.Outlets, cfg.Counters, cfg.Seed = day1, 2, 1, 3
	_, src := writeDay(t, cfg)
	for _, tc := range []struct {
		now     time.Time
		open    bool
		formats []string
	}{
		{time.Date(2026, 11, 21, 14, 30, 0, 0, engine.Shanghai), true, []string{report.FormatXLSX, report.FormatPDF}},
		{time.Date(2026, 11, 22, 2, 0, 0, 0, engine.Shanghai), false, []string{report.FormatXLSX}},
	} {
		opts := report.NewOptions()
		opts.Formats, opts.Workers = tc.formats, 2
		st, err := store.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		out, err := Run(t.Context(), Config{Date: day1, Source: file.New(src), Store: st, Engine: engine.NewConfig(),
			Render: Reports(opts), LockTimeout: time.Minute, FailOn: "never", Now: func() time.Time { return tc.now }})
		if err != nil {
			t.Fatalf("Run at %s: %v", tc.now, err)
		}
		m, err := store.ReadManifest(filepath.Join(out.RunDir, store.ManifestName))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(filepath.Join(out.RunDir, store.ManifestName))
		if err != nil {
			t.Fatal(err)
		}
		if m.DayOpen != tc.open || strings.Contains(string(raw), `"day_open"`) != tc.open {
			t.Errorf("run at %s: manifest day_open %v, want %v", tc.now, m.DayOpen, tc.open)
		}
		if err := m.Verify(out.RunDir); err != nil {
			t.Error(err)
		}
		// The roll-ups' PDFs are outputs of the manifest when PDFs are written, and only then.
		wantPDF := len(tc.formats) == 2
		for _, p := range []string{"reports/city.pdf", strings.TrimSuffix(firstOutlet(t, m), ".xlsx") + ".pdf"} {
			o, ok := m.Outputs[p]
			if ok != wantPDF || ok && (len(o.SHA256) != 64 || o.Size == 0) {
				t.Errorf("formats %v: manifest output %s = %+v, %v", tc.formats, p, o, ok)
			}
		}
		city := filepath.Join(out.RunDir, "reports", "city.xlsx")
		if got := zipContains(t, city, "营业中，数据未截止"); got != tc.open {
			t.Errorf("run at %s: city.xlsx marks the open day: %v, want %v", tc.now, got, tc.open)
		}
	}
}

// firstOutlet is the path of an outlet roll-up workbook of m.
func firstOutlet(t *testing.T, m *store.Manifest) string {
	t.Helper()
	for p := range m.Outputs {
		if strings.HasSuffix(p, "/outlet.xlsx") {
			return p
		}
	}
	t.Fatal("no outlet roll-up in the manifest")
	return ""
}

// zipContains reports whether any part of the package at path holds s.
func zipContains(t *testing.T, path, s string) bool {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), s) {
			return true
		}
	}
	return false
}

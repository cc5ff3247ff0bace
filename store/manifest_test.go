package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"settle/engine"
)

// TestMarshalManifestIsEncodingJSON: the manifest's own writing of its maps of files gives
// the bytes encoding/json gives for the whole manifest, with paths that need escaping (a
// quote, a backslash, a control character, HTML's characters, Chinese, U+2028, a byte that
// is not UTF-8), with and without reports and feed files, and with no outputs at all.
func TestMarshalManifestIsEncodingJSON(t *testing.T) {
	for name, m := range manifestCases() {
		want, err := encodeIndented(m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := marshalManifest(m)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: manifest differs from encoding/json's:\n%s\nwant:\n%s", name, got, want)
		}
	}
}

// manifestCases are manifests whose maps of files hold paths that need escaping (a quote, a
// backslash, a control character, HTML's characters, Chinese, U+2028, a byte that is not
// UTF-8), with and without reports and feed files, with empty and with no outputs.
func manifestCases() map[string]*Manifest {
	sealed := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	full := func() *Manifest {
		m := &Manifest{RunID: "20261121T080000.000Z-0123abcd", BizDate: "2026-11-21", Source: "http://boss/<a&b>", ToolVersion: "0.1.0",
			StartedAt: sealed, FinishedAt: sealed, Status: StatusComplete,
			Feeds:      []FeedManifest{{Feed: "order", Inputs: 2, Bytes: 10, SHA256: "ab"}},
			Exceptions: ExceptionCounts{Total: 1, ByCode: map[engine.Code]int{"DEPOSIT_SHORT": 1}, BySeverity: map[engine.Severity]int{"error": 1}},
			SealedAt:   &sealed, Kept: &Kept{Listing: "cd", Count: 3, Refreshed: []string{"TY0001-01"}},
			Outputs: map[string]Output{}, Reports: map[string]ReportRecord{}, FeedFiles: map[string]ReportRecord{}}
		for i, p := range []string{"exceptions.csv", `reports/a"b/c.pdf`, `reports/a\b/c.pdf`, "reports/tab\there/x.xlsx",
			"reports/<&>/城市.pdf", "reports/\u2028/x.pdf", "reports/\xff/x.pdf", "reports/TY0001/TY0001-01.pdf", "feeds/order.parquet"} {
			m.Outputs[p] = Output{SHA256: fmt.Sprintf("%064x", i), Size: int64(i * 1000)}
			rec := ReportRecord{Key: fmt.Sprintf("%064x", i+7), RenderedIn: "20261120T080000.000Z-" + p}
			if p == "feeds/order.parquet" {
				m.FeedFiles[p] = rec
			} else {
				m.Reports[p] = rec
			}
		}
		return m
	}
	cases := map[string]*Manifest{"full": full()}
	m := full()
	m.Reports, m.FeedFiles = nil, nil
	cases["no reports"] = m
	m = full()
	m.FeedFiles = map[string]ReportRecord{}
	cases["no feed files"] = m
	m = full()
	m.Reports = map[string]ReportRecord{}
	cases["feed files, no reports"] = m
	m = full()
	m.Outputs = map[string]Output{}
	cases["empty outputs"] = m
	m = full()
	m.Outputs, m.Kept, m.SealedAt = nil, nil, nil
	cases["nil outputs"] = m
	return cases
}

// TestUnmarshalManifestIsEncodingJSON: a manifest as settle writes it is read by hand to the
// values encoding/json reads (every case of manifestCases, and a pulled city-day's); the same
// manifest in another layout (compact, or indented by tabs) is read by encoding/json alike.
func TestUnmarshalManifestIsEncodingJSON(t *testing.T) {
	cases := manifestCases()
	cases["pulled city-day"] = pulledCityManifest()
	for name, m := range cases {
		data, err := marshalManifest(m)
		if err != nil {
			t.Fatal(err)
		}
		var want Manifest
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatal(err)
		}
		var own Manifest
		err = unmarshalOwn(data, &own)
		switch {
		case name == "nil outputs" || name == "empty outputs":
			if err == nil && !reflect.DeepEqual(own, want) {
				t.Errorf("%s: read by hand as %+v, want %+v", name, own, want)
			}
		case err != nil:
			t.Errorf("%s: settle's own layout was not read by hand: %v", name, err)
		case !reflect.DeepEqual(own, want):
			t.Errorf("%s: read by hand differs from encoding/json's reading", name)
		}
		compact, _ := json.Marshal(m)
		tabs, _ := json.MarshalIndent(m, "", "\t")
		for layout, data := range map[string][]byte{"settle's": data, "compact": compact, "tabs": tabs} {
			var got Manifest
			if err := unmarshalManifest(data, &got); err != nil {
				t.Fatalf("%s, %s layout: %v", name, layout, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s, %s layout: read differs from encoding/json's reading", name, layout)
			}
		}
	}
}

// TestRunFiles: every file of a run directory, at any depth and across more folders than the
// walk queues, is listed once, but the top-level manifest; a symbolic link is an error that
// names it.
func TestRunFiles(t *testing.T) {
	dir := t.TempDir()
	want := map[string]bool{}
	write := func(rel string) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(rel), 0o644); err != nil {
			t.Fatal(err)
		}
		want[rel] = true
	}
	write("settlement.csv")
	for i := range 150 {
		write(fmt.Sprintf("reports/O%03d/C%03d-1.pdf", i, i))
		write(fmt.Sprintf("reports/O%03d/C%03d-1.xlsx", i, i))
	}
	write("a/b/c/d/e/deep.csv")
	write("reports/O001/manifest.json") // a report folder's file of that name is the run's
	if err := os.MkdirAll(filepath.Join(dir, "empty/folder"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ManifestName), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := runFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, rel := range got {
		if seen[rel] {
			t.Errorf("%s listed twice", rel)
		}
		seen[rel] = true
	}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("listed %d files, want %d; extra or missing: %v", len(seen), len(want), symDiff(seen, want))
	}
	link := filepath.Join(dir, "reports/O007/link.pdf")
	if err := os.Symlink("/etc/passwd", link); err != nil {
		t.Fatal(err)
	}
	if _, err := runFiles(dir); err == nil || !strings.Contains(err.Error(), link) {
		t.Errorf("a symbolic link in the run: %v; want an error naming it", err)
	}
}

func symDiff(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if !b[k] {
			out = append(out, "+"+k)
		}
	}
	for k := range b {
		if !a[k] {
			out = append(out, "-"+k)
		}
	}
	return out
}

// TestManifestFileMapsCarryEveryField: the maps of files are written and read by hand, so a
// field added to Output or ReportRecord must be taught to both: every field of each, set,
// comes out as encoding/json writes it and reads back the same.
func TestManifestFileMapsCarryEveryField(t *testing.T) {
	fill := func(v any) {
		rv := reflect.ValueOf(v).Elem()
		for i := range rv.NumField() {
			f := rv.Field(i)
			switch f.Kind() {
			case reflect.String:
				f.SetString(fmt.Sprintf("%s-%d", rv.Type().Field(i).Name, i))
			case reflect.Int64:
				f.SetInt(int64(1000 + i))
			default:
				t.Fatalf("%s.%s: a %s field; marshalManifest and readFileMap know strings and int64", rv.Type(), rv.Type().Field(i).Name, f.Kind())
			}
		}
	}
	var out Output
	var rec ReportRecord
	fill(&out)
	fill(&rec)
	m := &Manifest{RunID: "20261121T080000.000Z-0123abcd", Outputs: map[string]Output{"reports/O1/a.pdf": out},
		Reports: map[string]ReportRecord{"reports/O1/a.pdf": rec}, FeedFiles: map[string]ReportRecord{"feeds/order.parquet": rec}}
	want, err := encodeIndented(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := marshalManifest(m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("a field of the maps of files is not written as encoding/json writes it:\n%s\nwant:\n%s", got, want)
	}
	var back Manifest
	if err := unmarshalOwn(got, &back); err != nil {
		t.Fatalf("read by hand: %v", err)
	}
	if !reflect.DeepEqual(back.Outputs, m.Outputs) || !reflect.DeepEqual(back.Reports, m.Reports) || !reflect.DeepEqual(back.FeedFiles, m.FeedFiles) {
		t.Errorf("read back by hand: %+v %+v %+v", back.Outputs, back.Reports, back.FeedFiles)
	}
}

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"settle/metrics"
)

// readTextfile parses a metrics textfile as node_exporter's collector would.
func readTextfile(t *testing.T, path string) map[string]*dto.MetricFamily {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("%s does not parse: %v", path, err)
	}
	return fams
}

// value is the value of the series of name whose labels include want.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	fam := fams[name]
	if fam == nil {
		t.Fatalf("no %s", name)
	}
next:
	for _, m := range fam.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no %s%v", name, want)
	return 0
}

// TestMetricsFileSuccessThenFailure: a run leaves a textfile with its figures; a failed run
// after it (a source that does not exist) rewrites it with the failure counted and the time
// of the last success carried over.
func TestMetricsFileSuccessThenFailure(t *testing.T) {
	dir := t.TempDir()
	prom := filepath.Join(dir, "textfile", "settle.prom")
	if err := os.MkdirAll(filepath.Dir(prom), 0o755); err != nil {
		t.Fatal(err)
	}
	st := filepath.Join(dir, "store")
	code, _, errs := settle(t, "run", "--date", "2026-11-21", "--store", st, "--source", "demo?outlets=3&counters=2&seed=4",
		"--formats", "", "--quiet", "--metrics-file", prom, "--metrics-city", "gz")
	if code != exitOK {
		t.Fatalf("run: exit %d: %s", code, errs)
	}
	fams := readTextfile(t, prom)
	city := map[string]string{"city": "gz"}
	if v := value(t, fams, metrics.NameSuccess, city); v != 1 {
		t.Errorf("success %v, want 1", v)
	}
	last := value(t, fams, metrics.NameLastSuccess, city)
	if last == 0 || last != value(t, fams, metrics.NameLastRun, city) {
		t.Errorf("last success %v, last run %v: want equal and set", last, value(t, fams, metrics.NameLastRun, city))
	}
	if v := value(t, fams, metrics.NameRunStatus, map[string]string{"status": "complete"}); v != 1 {
		t.Errorf("status complete %v", v)
	}
	if v := value(t, fams, metrics.NameCounters, map[string]string{"status": "complete"}); v != 6 {
		t.Errorf("complete counters %v, want 6 (3 outlets × 2)", v)
	}
	if v := value(t, fams, metrics.NameRows, map[string]string{"feed": "order", "outcome": "read"}); v == 0 {
		t.Errorf("order rows read: 0")
	}
	if v := value(t, fams, metrics.NameDuration, map[string]string{"stage": "fetch"}); v <= 0 {
		t.Errorf("fetch stage %v", v)
	}
	for _, name := range []string{metrics.NamePulls, metrics.NameExceptions, metrics.NameFailuresTotal} {
		if fams[name] == nil {
			t.Errorf("no %s", name)
		}
	}
	for _, fam := range fams {
		for _, m := range fam.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "counter" || l.GetName() == "counter_id" {
					t.Errorf("%s has a per-counter label", fam.GetName())
				}
			}
		}
	}

	code, _, _ = settle(t, "run", "--date", "2026-11-22", "--store", st, "--source", filepath.Join(dir, "no-such-dir"),
		"--formats", "", "--quiet", "--metrics-file", prom, "--metrics-city", "gz")
	if code == exitOK {
		t.Fatal("a run over a missing source succeeded")
	}
	fams = readTextfile(t, prom)
	if v := value(t, fams, metrics.NameSuccess, city); v != 0 {
		t.Errorf("after the failure: success %v, want 0", v)
	}
	if v := value(t, fams, metrics.NameFailuresTotal, city); v != 1 {
		t.Errorf("after the failure: failures %v, want 1", v)
	}
	if v := value(t, fams, metrics.NameRunStatus, map[string]string{"status": "failed"}); v != 1 {
		t.Errorf("after the failure: status failed %v, want 1", v)
	}
	if v := value(t, fams, metrics.NameLastSuccess, city); v != last {
		t.Errorf("last success %v after the failure, want %v carried over", v, last)
	}
	if v := value(t, fams, metrics.NameLastRun, city); v <= last {
		t.Errorf("last run %v, want after the success %v", v, last)
	}
	if fams[metrics.NameCounters] != nil {
		t.Errorf("a failed run wrote counters")
	}
	// No temporary file is left for the collector to trip over.
	ents, _ := os.ReadDir(filepath.Dir(prom))
	if len(ents) != 1 {
		t.Errorf("textfile directory holds %d entries, want 1", len(ents))
	}
	// promtool (Debian's prometheus package, installed by .ci/run) checks the format and the
	// names as Prometheus' linter does.
	promtool(t, "check", "metrics", "<", prom)
}

// promtool runs promtool with args through the shell; outside CI a missing promtool skips.
func promtool(t *testing.T, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("promtool"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("promtool is missing in CI (.ci/run installs the prometheus package): %v", err)
		}
		t.Skip("promtool not installed (apt-get install prometheus)")
	}
	out, err := exec.Command("sh", "-c", "promtool "+strings.Join(args, " ")).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"settle/internal/i18n"
	"settle/metrics"
	"settle/store"
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

// TestPruneCommand: three runs of a date; the first is pinned by a certification in the
// sign-off log, the last is current: prune --dry-run names the middle one only, and prune
// removes it and nothing else.
func TestPruneCommand(t *testing.T) {
	st := t.TempDir()
	var ids []string
	for range 3 {
		code, out, errs := settle(t, "run", "--date", "2026-10-01", "--store", st, "--source", "demo?outlets=1&counters=1&seed=2",
			"--formats", "", "--quiet")
		if code != exitOK {
			t.Fatalf("run: exit %d: %s", code, errs)
		}
		ids = append(ids, strings.Fields(out)[0])
	}
	log := `{"seq":1,"action":"certify","date":"2026-10-01","outlet":"O1","counter":"C1","run_id":"` + ids[0] + `"}` + "\n" +
		`{"seq":2,"action":"approve","date":"2026-10-0` // a torn tail: skipped
	if err := os.WriteFile(filepath.Join(st, "signoff.log"), []byte(log), 0o640); err != nil {
		t.Fatal(err)
	}
	runDir := func(id string) string { return filepath.Join(st, "2026-10-01", "runs", id) }
	for _, dry := range []bool{true, false} {
		args := []string{"prune", "--store", st, "--keep-days", "0", "--keep-runs", "0", "--lang", "en"}
		if dry {
			args = append(args, "--dry-run")
		}
		code, out, errs := settle(t, args...)
		if code != exitOK {
			t.Fatalf("prune dry=%v: exit %d: %s", dry, code, errs)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		verb := "removed"
		if dry {
			verb = "would remove"
		}
		// The date is past --keep-days 0: its parse cache goes too (its current run stays).
		if len(lines) != 3 || !strings.HasPrefix(lines[0], verb+"  2026-10-01/runs/"+ids[1]+"  beyond the retention policy  ") ||
			!strings.HasPrefix(lines[1], verb+"  2026-10-01/parsed  parse cache ") || !strings.HasPrefix(lines[2], verb+" 2, ") {
			t.Errorf("prune dry=%v printed:\n%s", dry, out)
		}
		if _, err := os.Stat(filepath.Join(st, "2026-10-01", store.ParsedName)); dry == os.IsNotExist(err) {
			t.Errorf("dry=%v: parse cache: stat %v", dry, err)
		}
		for i, id := range ids {
			_, err := os.Stat(runDir(id))
			if gone := i == 1 && !dry; gone != os.IsNotExist(err) {
				t.Errorf("dry=%v: run %d: stat %v", dry, i, err)
			}
		}
	}
	// A sign-off log that does not parse stops the prune: retention never guesses.
	if err := os.WriteFile(filepath.Join(st, "signoff.log"), []byte("not json\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := settle(t, "prune", "--store", st, "--keep-days", "0", "--keep-runs", "0"); code != exitFailed || !strings.Contains(errs, "signoff.log:1") {
		t.Errorf("bad sign-off log: exit %d: %s", code, errs)
	}
	if _, err := os.Stat(runDir(ids[0])); err != nil {
		t.Errorf("pinned run removed: %v", err)
	}
	// settle run --prune applies the policy after publishing: keep-runs 1 keeps the new run,
	// the pin keeps the first; the third goes.
	if err := os.WriteFile(filepath.Join(st, "signoff.log"), []byte(log), 0o640); err != nil {
		t.Fatal(err)
	}
	code, out, errs := settle(t, "run", "--date", "2026-10-01", "--store", st, "--source", "demo?outlets=1&counters=1&seed=2",
		"--formats", "", "--quiet", "--prune", "--keep-days", "0", "--keep-runs", "1")
	if code != exitOK {
		t.Fatalf("run --prune: exit %d: %s", code, errs)
	}
	latest := strings.Fields(out)[0]
	for id, want := range map[string]bool{ids[0]: true, ids[2]: false, latest: true} {
		if _, err := os.Stat(runDir(id)); (err == nil) != want {
			t.Errorf("after run --prune: run %s kept=%v, want %v", id, err == nil, want)
		}
	}
}

// TestDoctor: a store with a run, a held lock, an http source without its token, a users
// file that does not parse and a config with an unknown key: each is named, in Chinese by
// default, and the exit is 1; fixed, the doctor passes.
func TestDoctor(t *testing.T) {
	st := t.TempDir()
	if code, _, errs := settle(t, "run", "--date", "2026-11-21", "--store", st, "--source", "demo?outlets=1&counters=1",
		"--formats", "", "--quiet"); code != exitOK {
		t.Fatalf("run: %s", errs)
	}
	s, err := store.Open(st)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := s.Lock(context.Background(), "2026-11-22", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	bad := filepath.Join(st, "users.json")
	if err := os.WriteFile(bad, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(t.TempDir(), "settle.conf")
	if err := os.WriteFile(conf, []byte("source = https://boss.example/api\ncolour = blue\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(envToken, "")
	code, out, _ := settle(t, "doctor", "--store", st, "--config", conf)
	if code != exitFailed {
		t.Errorf("doctor: exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{
		"[问题] 配置文件 " + conf + "：line 2: unknown key \"colour\"",
		"[正常] 存储目录 " + st + " 可写",
		"[警告] 日期 2026-11-22 的锁正被占用：pid=" + strconv.Itoa(os.Getpid()) + " ",
		"[问题] 数据源 https://boss.example/api：未设置令牌变量 SETTLE_BOSS_TOKEN",
		"[问题] 用户文件 " + bad + " 无法读取：",
		"发现 3 个问题，1 个警告",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "最近一次运行（2026-11-21/") {
		t.Errorf("doctor does not size the last run:\n%s", out)
	}

	unlock()
	os.Remove(bad)
	withStdin(t, "zhang-password\n", func() {
		if code, _, errs := settle(t, "users", "add", "zhang", "--role", "auditor", "--store", st); code != 0 {
			t.Fatalf("users add: %s", errs)
		}
	})
	t.Setenv(envToken, "secret")
	code, out, _ = settle(t, "doctor", "--store", st, "--source", "https://boss.example/api", "--lang", "en")
	if code != exitOK || !strings.Contains(out, "[ok] source https://boss.example/api: the token variable SETTLE_BOSS_TOKEN is set") ||
		!strings.Contains(out, "[ok] users file "+bad+" is readable: 1 users") || !strings.Contains(out, "[ok] no run holds a date's lock") ||
		strings.Contains(out, "secret") {
		t.Errorf("doctor, fixed: exit %d\n%s", code, out)
	}
	if code, out, _ := settle(t, "doctor", "--store", filepath.Join(st, "missing")); code != exitFailed || !strings.Contains(out, "[问题] 存储目录 "+filepath.Join(st, "missing")+" 不存在") {
		t.Errorf("missing store: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(st, "missing")); err == nil {
		t.Errorf("doctor created the missing store")
	}
}

// TestDoctorSpace: less room than the last run took with its kept inputs and its date's parse
// cache is a problem, less
// than three runs' a warning; the kept inputs of every date are sized.
func TestDoctorSpace(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "2026-11-21", "runs", "r1")
	if err := os.MkdirAll(run, 0o755); err != nil {
		t.Fatal(err)
	}
	sum := strings.Repeat("ab", 32)
	man := `{"run_id":"r1","kept":{"inputs":[{"sha256":"` + sum + `"},{"sha256":"` + sum + `"}]}}`
	if err := os.WriteFile(filepath.Join(run, "manifest.json"), []byte(man), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(run, "a"), make([]byte, 600-len(man)), 0o644); err != nil {
		t.Fatal(err)
	}
	// The run's one input (named twice: counted once), and one no run names: it is in the
	// store's inputs use, not in the run's size.
	inputs := filepath.Join(dir, "2026-11-21", store.InputsName)
	if err := os.MkdirAll(inputs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(inputs, sum+".zst"), make([]byte, 400), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(inputs, strings.Repeat("cd", 32)+".zst"), make([]byte, 50), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("runs/r1", filepath.Join(dir, "2026-11-21", "current")); err != nil {
		t.Fatal(err)
	}
	// The date's parse cache: a run of a new date writes one too.
	if err := os.MkdirAll(filepath.Join(dir, "2026-11-21", store.ParsedName), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "2026-11-21", store.ParsedName, "deposit-x.pc"), make([]byte, 20), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		free uint64
		want level
	}{{1019, levelProblem}, {1020, levelWarn}, {3059, levelWarn}, {3060, levelOK}} {
		d := &doctor{lang: i18n.En, free: func(string) (uint64, error) { return tc.free, nil }}
		d.checkSpace(st, []string{"2026-11-21"})
		if len(d.findings) != 2 || d.findings[0].text != "kept inputs take 450 B (1 dates, 2 files)" {
			t.Fatalf("free %d: %+v", tc.free, d.findings)
		}
		f := d.findings[1]
		if f.level != tc.want || !strings.Contains(f.text, "2026-11-21/r1") || !strings.Contains(f.text, "1020 B") || !strings.Contains(f.text, "400 B") ||
			!strings.Contains(f.text, "parse cache") || !strings.Contains(f.text, " 20 B") {
			t.Errorf("free %d: %+v, want level %d, 1020 B of which 400 B inputs and 20 B parse cache", tc.free, f, tc.want)
		}
	}
}

// TestPruneCommandInputs: two runs of a date over different days (seeds); with the first
// pruned, the inputs only it named go, the dry run naming each, and the current run still
// reruns from its kept inputs.
func TestPruneCommandInputs(t *testing.T) {
	st := t.TempDir()
	var ids []string
	for _, seed := range []string{"2", "3"} {
		code, out, errs := settle(t, "run", "--date", "2026-10-01", "--store", st, "--source", "demo?outlets=1&counters=1&seed="+seed,
			"--formats", "", "--quiet")
		if code != exitOK {
			t.Fatalf("run: exit %d: %s", code, errs)
		}
		ids = append(ids, strings.Fields(out)[0])
	}
	named := func(id string) map[string]bool {
		m, err := store.ReadManifest(filepath.Join(st, "2026-10-01", "runs", id, store.ManifestName))
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, in := range m.Kept.Inputs {
			out[in.SHA256+".zst"] = true
		}
		if m.Kept.Listing != "" { // the listing of the kept inputs is kept beside them
			out[m.Kept.Listing+".zst"] = true
		}
		return out
	}
	first, current := named(ids[0]), named(ids[1])
	var only []string // inputs the first run alone names
	for f := range first {
		if !current[f] {
			only = append(only, f)
		}
	}
	if len(only) == 0 {
		t.Fatal("the two days share every input: the test needs some apart")
	}
	inputs := filepath.Join(st, "2026-10-01", store.InputsName)
	code, out, errs := settle(t, "prune", "--store", st, "--keep-days", "0", "--keep-runs", "0", "--lang", "en", "--dry-run")
	if code != exitOK {
		t.Fatalf("prune --dry-run: exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "would remove  2026-10-01/inputs  kept inputs no remaining run names ("+strconv.Itoa(len(only))+" files)") {
		t.Errorf("dry run does not name the inputs:\n%s", out)
	}
	for _, f := range only {
		if !strings.Contains(out, "    2026-10-01/inputs/"+f+"\n") {
			t.Errorf("dry run does not list %s:\n%s", f, out)
		}
		if _, err := os.Stat(filepath.Join(inputs, f)); err != nil {
			t.Errorf("dry run removed %s: %v", f, err)
		}
	}
	if code, out, errs = settle(t, "prune", "--store", st, "--keep-days", "0", "--keep-runs", "0", "--lang", "en"); code != exitOK {
		t.Fatalf("prune: exit %d: %s", code, errs)
	}
	ents, err := os.ReadDir(inputs)
	if err != nil {
		t.Fatal(err)
	}
	left := map[string]bool{}
	for _, e := range ents {
		left[e.Name()] = true
	}
	if len(left) != len(current) {
		t.Errorf("after prune %d inputs left, the current run names %d:\n%s", len(left), len(current), out)
	}
	for f := range current {
		if !left[f] {
			t.Errorf("the current run's input %s was removed", f)
		}
	}
	// The current run still reruns from what is kept.
	if code, _, errs := settle(t, "run", "--date", "2026-10-01", "--store", st, "--source", "store:2026-10-01", "--formats", "", "--quiet"); code != exitOK {
		t.Errorf("rerun from the kept inputs after prune: exit %d: %s", code, errs)
	}
}

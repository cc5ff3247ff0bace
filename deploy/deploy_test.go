package deploy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"settle/metrics"
)

// tool returns the path of an outside program; outside CI a missing one skips the test,
// in CI (which installs it: .ci/run) it fails.
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing in CI (.ci/run installs the %s package): %v", name, pkg, err)
		}
		t.Skipf("%s not installed (apt-get install %s)", name, pkg)
	}
	return p
}

func run(t *testing.T, dir, prog string, args ...string) string {
	t.Helper()
	cmd := exec.Command(prog, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(prog), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestAlertRules: promtool accepts the rules, their unit tests pass (each alert fires when it
// should and not before), and every settle_ series they name is one settle writes.
func TestAlertRules(t *testing.T) {
	promtool := tool(t, "promtool", "prometheus")
	run(t, "prometheus", promtool, "check", "rules", "settle.rules.yml")
	out := run(t, "prometheus", promtool, "test", "rules", "settle.rules.test.yml")
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool test rules:\n%s", out)
	}
	known := []string{metrics.NameLastSuccess, metrics.NameLastRun, metrics.NameSuccess, metrics.NameFailuresTotal,
		metrics.NameDuration, metrics.NameRunStatus, metrics.NamePulls, metrics.NameRows, metrics.NameExceptions, metrics.NameCounters}
	rules, err := os.ReadFile("prometheus/settle.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(rules, &doc); err != nil {
		t.Fatal(err)
	}
	var alerts []string
	for _, g := range doc.Groups {
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alert)
			for _, name := range regexp.MustCompile(`settle_[a-z_]+`).FindAllString(r.Expr, -1) {
				if !slices.Contains(known, name) {
					t.Errorf("alert %s names %s, which settle does not write", r.Alert, name)
				}
			}
		}
	}
	want := []string{"SettleRunMissing", "SettleRunFailed", "SettleRunIncomplete", "SettleShortfallsHigh"}
	if !slices.Equal(alerts, want) {
		t.Errorf("alerts %v, want %v", alerts, want)
	}
}

// unit reads a systemd unit into section → key → values.
func unit(t *testing.T, path string) map[string]map[string][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	u := map[string]map[string][]string{}
	section := ""
	text := strings.ReplaceAll(string(data), "\\\n", " ")
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
			u[section] = map[string][]string{}
		default:
			k, v, _ := strings.Cut(line, "=")
			u[section][k] = append(u[section][k], v)
		}
	}
	return u
}

// TestSystemdUnits: systemd-analyze verify accepts the units without a word (the settle
// binary is stood in for by this test's own executable), and the services are hardened
// and may write the store and only what they need.
func TestSystemdUnits(t *testing.T) {
	analyze := tool(t, "systemd-analyze", "systemd")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	names := []string{"settle-nightly.service", "settle-nightly.timer", "settle-serve.service"}
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join("systemd", n))
		if err != nil {
			t.Fatal(err)
		}
		data = bytes.ReplaceAll(data, []byte("/usr/local/bin/settle"), []byte(self))
		if err := os.WriteFile(filepath.Join(dir, n), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(analyze, append([]string{"verify"}, names...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}

	for _, n := range []string{"settle-nightly.service", "settle-serve.service"} {
		s := unit(t, filepath.Join("systemd", n))["Service"]
		for k, want := range map[string]string{
			"DynamicUser": "yes", "User": "settle", "StateDirectory": "settle", "ProtectSystem": "strict",
			"NoNewPrivileges": "yes", "ProtectHome": "yes", "PrivateTmp": "yes", "Environment": "SETTLE_STORE=/var/lib/settle",
		} {
			if !slices.Contains(s[k], want) {
				t.Errorf("%s: %s=%v, want %s", n, k, s[k], want)
			}
		}
		if rw := strings.Join(s["ReadWritePaths"], " "); !slices.Contains(strings.Fields(rw), "/var/lib/settle") {
			t.Errorf("%s: ReadWritePaths=%q does not name the store", n, rw)
		}
		if !strings.HasPrefix(strings.Join(s["ExecStart"], ""), "/usr/local/bin/settle ") {
			t.Errorf("%s: ExecStart %v", n, s["ExecStart"])
		}
	}
	nightly := unit(t, "systemd/settle-nightly.service")["Service"]
	execStart := strings.Join(nightly["ExecStart"], " ")
	for _, want := range []string{" run ", "--date yesterday", "--metrics-file ", "--prune"} {
		if !strings.Contains(execStart, want) {
			t.Errorf("nightly ExecStart %q lacks %q", execStart, want)
		}
	}
	if !slices.Contains(nightly["Type"], "oneshot") || !slices.Contains(nightly["SuccessExitStatus"], "3 4") {
		t.Errorf("nightly: Type %v, SuccessExitStatus %v", nightly["Type"], nightly["SuccessExitStatus"])
	}
	timer := unit(t, "systemd/settle-nightly.timer")
	if len(timer["Timer"]["OnCalendar"]) != 1 || !slices.Contains(timer["Timer"]["Persistent"], "true") ||
		!slices.Contains(timer["Install"]["WantedBy"], "timers.target") {
		t.Errorf("timer: %v", timer)
	}
}

// k8s is the part of a Kubernetes object the test reads.
type k8s struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec yaml.Node `yaml:"spec"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

type podSpec struct {
	RestartPolicy   string `yaml:"restartPolicy"`
	SecurityContext struct {
		RunAsNonRoot bool `yaml:"runAsNonRoot"`
		RunAsUser    int  `yaml:"runAsUser"`
	} `yaml:"securityContext"`
	Containers []struct {
		Name  string   `yaml:"name"`
		Image string   `yaml:"image"`
		Args  []string `yaml:"args"`
		Env   []struct {
			Name      string `yaml:"name"`
			Value     string `yaml:"value"`
			ValueFrom *struct {
				SecretKeyRef struct{ Name, Key string } `yaml:"secretKeyRef"`
			} `yaml:"valueFrom"`
		} `yaml:"env"`
		Ports []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		} `yaml:"ports"`
		ReadinessProbe  *probe `yaml:"readinessProbe"`
		LivenessProbe   *probe `yaml:"livenessProbe"`
		SecurityContext struct {
			AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		} `yaml:"securityContext"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
		} `yaml:"volumeMounts"`
	} `yaml:"containers"`
	Volumes []struct {
		Name                  string `yaml:"name"`
		PersistentVolumeClaim *struct {
			ClaimName string `yaml:"claimName"`
		} `yaml:"persistentVolumeClaim"`
	} `yaml:"volumes"`
}

func readK8s(t *testing.T, path string) []k8s {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var out []k8s
	for {
		var o k8s
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
			t.Errorf("%s: an object without apiVersion, kind or name: %+v", path, o)
		}
		out = append(out, o)
	}
}

func decode(t *testing.T, n *yaml.Node, v any) {
	t.Helper()
	if err := n.Decode(v); err != nil {
		t.Fatal(err)
	}
}

// store checks a pod runs the same image non-root, mounts the claim at the store path and
// points SETTLE_STORE there; it returns the image and the claim.
func checkPod(t *testing.T, what string, p podSpec) (image, claim string) {
	t.Helper()
	if len(p.Containers) != 1 {
		t.Fatalf("%s: %d containers", what, len(p.Containers))
	}
	c := p.Containers[0]
	if !p.SecurityContext.RunAsNonRoot || p.SecurityContext.RunAsUser == 0 {
		t.Errorf("%s: not non-root: %+v", what, p.SecurityContext)
	}
	if c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation {
		t.Errorf("%s: allowPrivilegeEscalation not false", what)
	}
	for _, v := range p.Volumes {
		if v.PersistentVolumeClaim != nil {
			claim = v.PersistentVolumeClaim.ClaimName
			mounted := false
			for _, m := range c.VolumeMounts {
				if m.Name == v.Name {
					mounted = m.MountPath == "/var/lib/settle"
				}
			}
			if !mounted {
				t.Errorf("%s: the claim %s is not mounted at /var/lib/settle", what, claim)
			}
		}
	}
	store, token := "", false
	for _, e := range c.Env {
		switch e.Name {
		case "SETTLE_STORE":
			store = e.Value
		case "SETTLE_BOSS_TOKEN":
			token = e.ValueFrom != nil && e.ValueFrom.SecretKeyRef.Name != "" && e.Value == ""
		}
	}
	if store != "/var/lib/settle" || !token {
		t.Errorf("%s: SETTLE_STORE %q, token from a secret %v", what, store, token)
	}
	return c.Image, claim
}

// TestKubernetes: the manifests parse, have what the API server requires, and the CronJob
// and the Deployment run the same image over the same claim at the same store path; the
// probes ask /healthz on the port served; the Service selects the Deployment's pods.
func TestKubernetes(t *testing.T) {
	cron := readK8s(t, "kubernetes/settle-nightly.yaml")
	serve := readK8s(t, "kubernetes/settle-serve.yaml")
	if len(cron) != 1 || cron[0].Kind != "CronJob" || cron[0].APIVersion != "batch/v1" {
		t.Fatalf("settle-nightly.yaml: %+v", cron)
	}
	var cj struct {
		Schedule          string `yaml:"schedule"`
		TimeZone          string `yaml:"timeZone"`
		ConcurrencyPolicy string `yaml:"concurrencyPolicy"`
		JobTemplate       struct {
			Spec struct {
				Template struct {
					Spec yaml.Node `yaml:"spec"`
				} `yaml:"template"`
			} `yaml:"spec"`
		} `yaml:"jobTemplate"`
	}
	decode(t, &cron[0].Spec, &cj)
	if cj.ConcurrencyPolicy != "Forbid" || len(strings.Fields(cj.Schedule)) != 5 || cj.TimeZone != "Asia/Shanghai" {
		t.Errorf("CronJob: concurrencyPolicy %q, schedule %q, timeZone %q", cj.ConcurrencyPolicy, cj.Schedule, cj.TimeZone)
	}
	var jobPod podSpec
	decode(t, &cj.JobTemplate.Spec.Template.Spec, &jobPod)
	if jobPod.RestartPolicy != "Never" && jobPod.RestartPolicy != "OnFailure" {
		t.Errorf("CronJob pod restartPolicy %q", jobPod.RestartPolicy)
	}
	jobImage, jobClaim := checkPod(t, "CronJob", jobPod)
	if args := strings.Join(jobPod.Containers[0].Args, " "); !strings.HasPrefix(args, "run --date yesterday") {
		t.Errorf("CronJob args %q", args)
	}

	kinds := map[string]k8s{}
	for _, o := range serve {
		kinds[o.Kind] = o
	}
	for _, k := range []string{"PersistentVolumeClaim", "Deployment", "Service"} {
		if _, ok := kinds[k]; !ok {
			t.Fatalf("settle-serve.yaml has no %s", k)
		}
	}
	var dep struct {
		Replicas int `yaml:"replicas"`
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec yaml.Node `yaml:"spec"`
		} `yaml:"template"`
	}
	d := kinds["Deployment"]
	decode(t, &d.Spec, &dep)
	for k, v := range dep.Selector.MatchLabels {
		if dep.Template.Metadata.Labels[k] != v {
			t.Errorf("Deployment selector %s=%s does not match its pods", k, v)
		}
	}
	if dep.Replicas != 1 {
		t.Errorf("Deployment replicas %d: one page per store", dep.Replicas)
	}
	var pod podSpec
	decode(t, &dep.Template.Spec, &pod)
	image, claim := checkPod(t, "Deployment", pod)
	if image != jobImage || claim != jobClaim || claim != kinds["PersistentVolumeClaim"].Metadata.Name {
		t.Errorf("image %q / %q, claim %q / %q / PVC %q: want the same", jobImage, image, jobClaim, claim, kinds["PersistentVolumeClaim"].Metadata.Name)
	}
	c := pod.Containers[0]
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != 8080 || !slices.Contains(c.Args, "0.0.0.0:8080") {
		t.Errorf("Deployment ports %+v, args %v", c.Ports, c.Args)
	}
	for what, probe := range map[string]*probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		if probe == nil || probe.HTTPGet.Path != "/healthz" || probe.HTTPGet.Port != c.Ports[0].Name {
			t.Errorf("%s probe %+v", what, probe)
		}
	}
	// The page answers /healthz (web.routes).
	web, err := os.ReadFile("../web/web.go")
	if err != nil || !bytes.Contains(web, []byte(`"GET /healthz"`)) {
		t.Errorf("web serves no GET /healthz (%v)", err)
	}
	var svc struct {
		Selector map[string]string `yaml:"selector"`
		Ports    []struct {
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
	}
	s := kinds["Service"]
	decode(t, &s.Spec, &svc)
	for k, v := range svc.Selector {
		if dep.Template.Metadata.Labels[k] != v {
			t.Errorf("Service selector %s=%s selects no page", k, v)
		}
	}
	if len(svc.Ports) != 1 || svc.Ports[0].TargetPort != c.Ports[0].Name {
		t.Errorf("Service ports %+v", svc.Ports)
	}
}

// TestContainerfile reads the container build: a build stage named build that makes a static
// binary (CGO_ENABLED=0) of the whole tree (so the embedded font comes along), a final stage
// that copies only the binary from it, and a non-root USER.
func TestContainerfile(t *testing.T) {
	data, err := os.ReadFile("Containerfile")
	if err != nil {
		t.Fatal(err)
	}
	var stages [][]string // instructions per stage
	for _, line := range strings.Split(strings.ReplaceAll(string(data), "\\\n", " "), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "FROM ") {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			t.Fatalf("instruction before FROM: %q", line)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], line)
	}
	if len(stages) != 2 {
		t.Fatalf("%d stages, want 2 (build, run)", len(stages))
	}
	build, final := stages[0], stages[1]
	if !regexp.MustCompile(`(?i)^FROM \S*golang:\S+ AS build$`).MatchString(build[0]) {
		t.Errorf("first stage %q: want FROM …golang:… AS build", build[0])
	}
	has := func(stage []string, re string) bool {
		return slices.ContainsFunc(stage, regexp.MustCompile(re).MatchString)
	}
	if !has(build, `^RUN .*CGO_ENABLED=0 .*go build .*\./cmd/settle`) {
		t.Errorf("the build stage does not build ./cmd/settle with CGO_ENABLED=0")
	}
	if !has(build, `^COPY \. \.$`) {
		t.Errorf("the build stage does not copy the whole tree (assets/fonts is embedded from it)")
	}
	if !has(final, `^COPY --from=build \S*settle /usr/local/bin/settle$`) || has(final, `^COPY [^-]`) {
		t.Errorf("the final stage should copy only the binary from build: %q", final)
	}
	users := slices.DeleteFunc(slices.Clone(final), func(s string) bool { return !strings.HasPrefix(s, "USER ") })
	if len(users) != 1 {
		t.Fatalf("final stage USER: %v", users)
	}
	u, _, _ := strings.Cut(strings.TrimPrefix(users[0], "USER "), ":")
	if u == "root" || u == "0" || u == "" {
		t.Errorf("final stage runs as %q", u)
	}
	if !has(final, `^ENTRYPOINT \["/usr/local/bin/settle"\]$`) || !has(final, `^ENV SETTLE_STORE=/var/lib/settle$`) {
		t.Errorf("final stage: no settle ENTRYPOINT or SETTLE_STORE")
	}
	// The font the PDF reports need is embedded: the binary carries it.
	font, err := os.ReadFile("../assets/fonts/fonts.go")
	if err != nil || !bytes.Contains(font, []byte("//go:embed wqy-microhei.ttf")) {
		t.Errorf("the report font is not embedded (%v): the image would lack it", err)
	}
}

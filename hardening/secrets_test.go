package hardening

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOutputPermissions: whatever the umask, a run's files are never writable by group or
// others; under the usual umask 022 files are exactly 0644 and directories 0755. Nothing is
// written outside the store.
func TestOutputPermissions(t *testing.T) {
	t.Parallel()
	for _, umask := range []string{"022", "000", "077"} {
		t.Run("umask "+umask, func(t *testing.T) {
			t.Parallel()
			top := t.TempDir()
			st := filepath.Join(top, "store")
			tmp := t.TempDir()
			settleOK := func() {
				t.Helper()
				r := settleLimited(t, env(tmp, umaskEnv+"="+umask), "run", "--date", date, "--source", "demo?outlets=2&counters=1",
					"--store", st, "--quiet")
				if r.code != 0 {
					t.Fatalf("run: %s", r)
				}
			}
			settleOK()
			settleOK() // a second run: the date directory exists, the lock file is reused
			noFilesOutside(t, top, "store")
			noFilesOutside(t, tmp)
			for p, e := range tree(t, st) {
				want := map[string]fs.FileMode{"022": 0o644, "000": 0o644, "077": 0o600}[umask]
				switch e.kind {
				case "link":
					if p != date+"/current" {
						t.Errorf("symbolic link %s", p)
					}
					continue
				case "dir":
					want |= want >> 2 & 0o111 // x wherever r
					want |= 0o100
				case "file":
				default:
					t.Errorf("%s is a %s", p, e.kind)
					continue
				}
				if e.perm != want {
					t.Errorf("%s: mode %04o under umask %s, want %04o", p, e.perm, umask, want)
				}
				if strings.Contains(p, "/.tmp-") || strings.Contains(p, "/.old-") {
					t.Errorf("leftover %s", p)
				}
			}
		})
	}
}

// TestBossTokenNeverLeaks pulls a day from the BOSS API simulator (settle fixtures serve
// --token) with faults injected, so that retries, throttling and cut bodies are logged, and
// checks that SETTLE_BOSS_TOKEN appears in no log line, message, manifest or other file of
// the store: with the right token (the run publishes), a wrong one (401: the run fails and
// says so), a password in the source URL, and a malformed token (exit 2).
func TestBossTokenNeverLeaks(t *testing.T) {
	t.Parallel()
	secret := func(prefix string) string {
		b := make([]byte, 12)
		rand.Read(b)
		return prefix + hex.EncodeToString(b)
	}
	token := secret("tok-")
	tmp := t.TempDir()
	srv := start(t, env(tmp), "fixtures", "serve", "--addr", "127.0.0.1:0", "--date", date,
		"--outlets", "2", "--counters", "2", "--token", token, "--fail-rate", "0.15", "--throttle-rate", "0.1",
		"--truncate-rate", "0.1", "--retry-after", "1s", "--quiet")
	var base string
	if !waitFor(time.Minute, func() bool {
		_, rest, ok := strings.Cut(srv.stdout.String(), " on http://")
		if line, _, nl := strings.Cut(rest, "\n"); ok && nl {
			base = "http://" + strings.TrimSpace(line)
			return true
		}
		return false
	}) {
		t.Fatalf("the simulator did not say where it serves:\n%s\n%s", srv.stdout.String(), srv.stderr.String())
	}
	host := strings.TrimPrefix(base, "http://")
	wrong, password := secret("wrong-"), secret("pw-")
	tests := []struct {
		name, source, token string
		code                int
		want                string // in stderr
		secrets             []string
	}{
		{"right token", base, token, 0, "", []string{token}},
		{"wrong token", base, wrong, 1, "401", []string{wrong, token}},
		{"password in the URL", "http://settle:" + password + "@" + host, token, 0, "", []string{password, token}},
		{"malformed token", base, token + " " + wrong, 2, "token", []string{token, wrong}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := filepath.Join(t.TempDir(), "store")
			r := settle(t, env(tmp, "SETTLE_BOSS_TOKEN="+tt.token), "run", "--date", date, "--source", tt.source,
				"--store", st, "--log-format", "json", "--formats", "xlsx")
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("want exit %d and %q in stderr, got\n%s", tt.code, tt.want, r)
			}
			if tt.code == 0 && !strings.Contains(r.stderr, `"level":"WARN"`) && !strings.Contains(r.stderr, "retr") {
				t.Logf("no retry was logged (the faults are random):\n%s", r.stderr)
			}
			for _, s := range tt.secrets {
				if strings.Contains(r.stdout+r.stderr, s) {
					t.Errorf("the output shows the secret %q:\n%s", s, r)
				}
				filepath.WalkDir(filepath.Dir(st), func(p string, d fs.DirEntry, err error) error {
					if err != nil || !d.Type().IsRegular() {
						return err
					}
					if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(s)) {
						t.Errorf("%s holds the secret %q", p, s)
					}
					return nil
				})
			}
			if tt.code == 0 {
				_, m := currentRun(t, st)
				if strings.Contains(m.Source, "@") {
					t.Errorf("manifest source %q carries credentials", m.Source)
				}
			}
		})
	}
}

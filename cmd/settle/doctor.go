package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"settle/internal/i18n"
	"settle/store"
	"settle/web/users"
)

// The levels of a finding of settle doctor.
type level int

const (
	levelOK level = iota
	levelWarn
	levelProblem
)

type finding struct {
	level level
	text  string
}

// doctor collects the findings of `settle doctor`.
type doctor struct {
	lang     i18n.Lang
	findings []finding
	// free is the free space of a directory's file system (freeSpace; tests replace it).
	free func(dir string) (uint64, error)
}

func (d *doctor) add(l level, k i18n.Key, args ...any) {
	d.findings = append(d.findings, finding{l, d.lang.F(k, args...)})
}

// counts returns the problems and the warnings found.
func (d *doctor) counts() (problems, warnings int) {
	for _, f := range d.findings {
		switch f.level {
		case levelProblem:
			problems++
		case levelWarn:
			warnings++
		}
	}
	return problems, warnings
}

func (d *doctor) print(w io.Writer) {
	for _, f := range d.findings {
		tag := map[level]i18n.Key{levelOK: i18n.OpsLevelOK, levelWarn: i18n.OpsLevelWarn, levelProblem: i18n.OpsLevelProblem}[f.level]
		fmt.Fprintf(w, "[%s] %s\n", d.lang.S(tag), f.text)
	}
	p, wn := d.counts()
	if p == 0 {
		fmt.Fprintln(w, d.lang.F(i18n.OpsSummaryOK, wn))
	} else {
		fmt.Fprintln(w, d.lang.F(i18n.OpsSummaryBad, p, wn))
	}
}

// doctorFailed is the exit of a doctor that found problems: 1, its findings already printed.
type doctorFailed struct{ problems int }

func (e doctorFailed) Error() string { return fmt.Sprintf("doctor: %d problems", e.problems) }
func (e doctorFailed) ExitCode() int { return exitFailed }

func doctorCommand(stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "doctor",
		Usage:     "check a store and a config before the night: permissions, free space, locks, source token, users file",
		UsageText: "settle doctor [--store DIR] [--config FILE] [--source SRC] [--users FILE] [--lang zh|en]",
		Description: "Prints one line per check ([正常]/[警告]/[问题]) and exits 1 when a problem was found.\n" +
			"--config is a config file of settle run or settle serve: its keys are checked, and its\n" +
			"store, source and users are taken where the flags do not give them.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "store", Value: defaultStore(), Usage: "run store directory (env SETTLE_STORE)"},
			&cli.StringFlag{Name: "config", Usage: "the config file of settle run or settle serve"},
			&cli.StringFlag{Name: "source", Usage: "the source of the runs, as for settle run (default: the config's, else demo)"},
			&cli.StringFlag{Name: "users", Usage: "users file (default: the config's, else <store>/users.json)"},
			&cli.StringFlag{Name: "lang", Value: "zh", Usage: "language of the findings: zh or en"},
		},
		Action: func(c *cli.Context) error {
			lang, err := i18n.Parse(c.String("lang"))
			if err != nil {
				return usagef("--lang: %v", err)
			}
			d := &doctor{lang: lang, free: freeSpace}
			conf := map[string]string{}
			if p := c.String("config"); p != "" {
				conf = d.checkConfig(p, configKeys(stderr))
			}
			pick := func(flag, def string) string {
				if c.IsSet(flag) {
					return c.String(flag)
				}
				if v, ok := conf[flag]; ok {
					return v
				}
				return def
			}
			dir := pick("store", c.String("store"))
			d.checkStore(dir)
			d.checkSource(pick("source", "demo"))
			usersFile, explicit := pick("users", ""), true
			if usersFile == "" {
				usersFile, explicit = filepath.Join(dir, "users.json"), false
			}
			d.checkUsers(usersFile, explicit)
			d.print(c.App.Writer)
			if p, _ := d.counts(); p > 0 {
				return doctorFailed{p}
			}
			return nil
		},
	}
}

// configKeys are the keys a config file may hold: the flags of settle run and settle serve.
func configKeys(stderr io.Writer) map[string]bool {
	known := map[string]bool{}
	for _, cmd := range []*cli.Command{runCommand(stderr), serveCommand(stderr)} {
		for _, f := range cmd.Flags {
			for _, n := range f.Names() {
				known[n] = true
			}
		}
	}
	delete(known, "config")
	return known
}

// checkConfig reads a config file as applyConfig does and returns its values; a line that
// is malformed or has an unknown key is a problem naming the line.
func (d *doctor) checkConfig(path string, known map[string]bool) map[string]string {
	vals := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		d.add(levelProblem, i18n.OpsConfigBad, path, err)
		return vals
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	bad := false
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		key, val, ok := strings.Cut(text, "=")
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = val[1 : len(val)-1]
		}
		switch {
		case !ok:
			d.add(levelProblem, i18n.OpsConfigBad, path, fmt.Errorf("line %d: want key = value, got %q", line, text))
			bad = true
		case !known[key]:
			d.add(levelProblem, i18n.OpsConfigBad, path, fmt.Errorf("line %d: unknown key %q", line, key))
			bad = true
		default:
			vals[key] = val
		}
	}
	if err := sc.Err(); err != nil {
		d.add(levelProblem, i18n.OpsConfigBad, path, err)
		bad = true
	}
	if !bad {
		d.add(levelOK, i18n.OpsConfigOK, path)
	}
	return vals
}

// checkStore checks the store directory: it exists, this user may write it and every date
// directory in it, it is not writable by everyone, its file system has room for another run
// as large as the last, and which dates a run holds the lock of.
func (d *doctor) checkStore(dir string) {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		d.add(levelProblem, i18n.OpsStoreMissing, dir)
		return
	case err != nil:
		d.add(levelProblem, i18n.OpsStoreNotWritable, dir, err)
		return
	case !fi.IsDir():
		d.add(levelProblem, i18n.OpsStoreNotDir, dir)
		return
	}
	mode := fi.Mode().Perm()
	if err := canWrite(dir); err != nil {
		d.add(levelProblem, i18n.OpsStoreNotWritable, dir, err)
	} else {
		d.add(levelOK, i18n.OpsStoreWritable, dir, fmt.Sprintf("%04o", mode))
	}
	if mode&0o002 != 0 {
		d.add(levelWarn, i18n.OpsStoreWorldWritable, dir, fmt.Sprintf("%04o", mode))
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		d.add(levelProblem, i18n.OpsStoreNotWritable, dir, err)
		return
	}
	var dates, unwritable []string
	for _, e := range ents {
		if !e.IsDir() || !isDate(e.Name()) {
			continue
		}
		dates = append(dates, e.Name())
		for _, sub := range []string{e.Name(), filepath.Join(e.Name(), "runs")} {
			p := filepath.Join(dir, sub)
			if _, err := os.Stat(p); err == nil && canWrite(p) != nil {
				unwritable = append(unwritable, p)
			}
		}
	}
	if len(unwritable) > 0 {
		d.add(levelProblem, i18n.OpsDirsNotWritable, len(unwritable), unwritable[0])
	}
	st, err := store.Open(dir) // exists: Open creates nothing
	if err != nil {
		d.add(levelProblem, i18n.OpsStoreNotWritable, dir, err)
		return
	}
	d.checkSpace(st, dates)
	holders, err := st.Holders()
	if err != nil {
		d.add(levelWarn, i18n.OpsLocksUnknown, err)
	}
	for _, h := range holders {
		d.add(levelWarn, i18n.OpsLockHeld, h.Date, h.Holder)
	}
	if err == nil && len(holders) == 0 {
		d.add(levelOK, i18n.OpsLocksFree)
	}
}

// checkSpace compares the free space with the size of the latest date's current run with
// the kept inputs it names and its date's parse cache (a run of a new date writes all
// three): less than one more such run is
// a problem, less than three a warning. It also sizes every date's kept inputs.
func (d *doctor) checkSpace(st *store.Store, dates []string) {
	if n, ds, files, err := st.InputsUse(); err != nil {
		d.add(levelWarn, i18n.OpsInputsUnknown, err)
	} else {
		d.add(levelOK, i18n.OpsInputsUse, humanBytes(n), ds, files)
	}
	free, err := d.free(st.Dir())
	if err != nil {
		d.add(levelWarn, i18n.OpsSpaceUnknown, err)
		return
	}
	slices.Sort(dates)
	for i := len(dates) - 1; i >= 0; i-- {
		run, ok, err := st.Current(dates[i])
		if err != nil || !ok {
			continue
		}
		size, err := dirSize(run)
		if err != nil {
			d.add(levelWarn, i18n.OpsSpaceUnknown, err)
			return
		}
		kept, err := st.KeptSize(dates[i], run)
		if err != nil {
			d.add(levelWarn, i18n.OpsSpaceUnknown, err)
			return
		}
		size += uint64(kept)
		// A run of a new date also writes its parse cache (engine's, <date>/parsed).
		var cache uint64
		if pc, err := st.ParseCacheDir(dates[i]); err == nil {
			if _, err := os.Stat(pc); err == nil {
				if cache, err = dirSize(pc); err != nil {
					d.add(levelWarn, i18n.OpsSpaceUnknown, err)
					return
				}
			}
		}
		size += cache
		what := dates[i] + "/" + filepath.Base(run)
		args := []any{humanBytes(int64(free)), what, humanBytes(int64(size)), humanBytes(kept), humanBytes(int64(cache))}
		switch {
		case free < size:
			d.add(levelProblem, i18n.OpsSpaceShort, args...)
		case free < 3*size:
			d.add(levelWarn, i18n.OpsSpaceLow, args...)
		default:
			d.add(levelOK, i18n.OpsSpaceOK, args...)
		}
		return
	}
	d.add(levelOK, i18n.OpsSpaceNoRuns, humanBytes(int64(free)))
}

// checkSource checks what the source needs: a readable directory, or for the BOSS report
// API the token variable.
func (d *doctor) checkSource(src string) {
	switch {
	case src == "demo" || strings.HasPrefix(src, "demo?"):
		d.add(levelOK, i18n.OpsSourceDemo)
	case strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://"):
		if os.Getenv(envToken) == "" {
			d.add(levelProblem, i18n.OpsSourceNoToken, src, envToken)
		} else {
			d.add(levelOK, i18n.OpsSourceToken, src, envToken)
		}
	default:
		if _, err := os.ReadDir(src); err != nil {
			d.add(levelProblem, i18n.OpsSourceDirBad, src, err)
		} else {
			d.add(levelOK, i18n.OpsSourceDir, src)
		}
	}
}

// checkUsers reads the users file. A missing default one is only a warning: settle run does
// not need it.
func (d *doctor) checkUsers(path string, explicit bool) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) && !explicit {
		d.add(levelWarn, i18n.OpsUsersMissing, path)
		return
	}
	f, err := users.Load(path)
	if err != nil {
		d.add(levelProblem, i18n.OpsUsersBad, path, err)
		return
	}
	d.add(levelOK, i18n.OpsUsersOK, path, len(f.Users))
}

func isDate(s string) bool {
	return len(s) == 10 && s[4] == '-' && s[7] == '-' && strings.Trim(s[:4]+s[5:7]+s[8:], "0123456789") == ""
}

// dirSize sums the sizes of the regular files under dir.
func dirSize(dir string) (uint64, error) {
	var n uint64
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.Type().IsRegular() {
			fi, err := e.Info()
			if err != nil {
				return err
			}
			n += uint64(fi.Size())
		}
		return nil
	})
	return n, err
}

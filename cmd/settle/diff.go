package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"settle/diff"
	"settle/internal/atomicfile"
	"settle/store"
)

// errRunsDiffer is diff's verdict when the runs differ: exit 1, with nothing printed beyond
// the diff itself (diff(1)).
type errRunsDiffer struct{}

func (errRunsDiffer) Error() string { return "the runs differ" }
func (errRunsDiffer) ExitCode() int { return exitFailed }

// diffFormats are the values of --format.
var diffFormats = []string{"table", "csv", "json", "xlsx"}

func diffCommand(stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "diff",
		Usage:     "show what changed between two runs: figures per counter, exceptions, and why",
		UsageText: "settle diff A [B] [--store DIR] [--format table|csv|json|xlsx] [--out FILE]",
		Description: `A and B are run directories, DATE@RUN_ID in the store, or DATE (its current run).
A lone DATE (or DATE@RUN_ID) compares the run published before it with it; a date's
single run (reruns over the same inputs share its id) is compared with itself.
DATE is YYYY-MM-DD, today or yesterday. Flags may also follow the runs.

--format table (the default) is for reading; csv is one row per changed figure or field;
json is one document (see diff.WriteJSON); xlsx is a workbook with a sheet per
kind of change, written to --out or to stdout when stdout is not a terminal.

Exit status: 0 when the runs agree, 1 when they differ, 2 on trouble (like diff(1)).`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "store", Value: defaultStore(), Usage: "run store directory (env SETTLE_STORE)"},
			&cli.StringFlag{Name: "format", Value: "table", Usage: "output format: table, csv, json or xlsx"},
			&cli.StringFlag{Name: "out", Usage: "write the diff to this file instead of stdout"},
		},
		Action: func(c *cli.Context) error {
			args, done, err := trailingFlags(c)
			if done || err != nil {
				return err
			}
			opts := diffOptions{args: args, storeDir: c.String("store"), format: c.String("format"), out: c.String("out")}
			if err := diffRuns(opts, c.App.Writer, stderr, time.Now()); err != nil {
				var differ errRunsDiffer
				var ue usageError
				if errors.As(err, &differ) || errors.As(err, &ue) {
					return err
				}
				return usageError{err} // every other failure of diff is exit 2 too
			}
			return nil
		},
	}
}

// trailingFlags returns the command's arguments with the flags that follow them applied:
// urfave/cli stops parsing flags at the first argument, and `settle diff A B --format json`
// or `settle users add zhang --role clerk` is the natural order. It takes --name value,
// --name=value and -name forms of the command's own flags (a bool flag takes no value). On
// --help/-h it shows the command's help and reports done: the command has nothing left to do.
func trailingFlags(c *cli.Context) (args []string, done bool, err error) {
	all := c.Args().Slice()
	for i := 0; i < len(all); i++ {
		a := all[i]
		if a == "--" {
			return append(args, all[i+1:]...), false, nil
		}
		if len(a) < 2 || a[0] != '-' {
			args = append(args, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name == "h" || name == "help" {
			return nil, true, cli.ShowSubcommandHelp(c)
		}
		var fl cli.Flag
		for _, f := range c.Command.Flags {
			if slices.Contains(f.Names(), name) {
				fl = f
			}
		}
		if fl == nil {
			return nil, false, usagef("flag provided but not defined: -%s", name)
		}
		if _, isBool := fl.(*cli.BoolFlag); isBool && !hasValue {
			value, hasValue = "true", true
		}
		if !hasValue {
			if i+1 == len(all) {
				return nil, false, usagef("flag needs an argument: -%s", name)
			}
			i++
			value = all[i]
		}
		if err := c.Set(name, value); err != nil {
			return nil, false, usageError{err}
		}
	}
	return args, false, nil
}

// diffOptions are the arguments and flags of `settle diff`.
type diffOptions struct {
	args     []string
	storeDir string
	format   string
	out      string
}

// diffRuns resolves the runs, compares them and writes the diff; it returns errRunsDiffer
// when they differ.
func diffRuns(opts diffOptions, stdout, stderr io.Writer, now time.Time) error {
	if !slices.Contains(diffFormats, opts.format) {
		return usagef("--format %q: want table, csv, json or xlsx", opts.format)
	}
	if opts.format == "xlsx" && opts.out == "" && isTerminal(stdout) {
		return usagef("--format xlsx writes a workbook: give --out FILE or redirect stdout")
	}
	r := &runResolver{storeDir: opts.storeDir, now: now}
	var dirA, dirB string
	var err error
	switch len(opts.args) {
	case 1:
		var note string
		dirA, dirB, note, err = r.withPrevious(opts.args[0])
		if note != "" {
			fmt.Fprintln(stderr, "settle:", note)
		}
	case 2:
		if dirA, err = r.resolve(opts.args[0]); err == nil {
			dirB, err = r.resolve(opts.args[1])
		}
	default:
		return usagef("diff takes one or two runs (A [B]), got %d arguments", len(opts.args))
	}
	if err != nil {
		return err
	}
	a, err := diff.Load(dirA)
	if err != nil {
		return err
	}
	b, err := diff.Load(dirB)
	if err != nil {
		return err
	}
	d := diff.Compare(a, b)
	write := map[string]func(io.Writer, *diff.Diff) error{
		"table": diff.WriteTable, "csv": diff.WriteCSV, "json": diff.WriteJSON, "xlsx": diff.WriteXLSX,
	}[opts.format]
	if opts.out != "" {
		// A failed diff leaves no partial file.
		if err = atomicfile.Write(opts.out, 0o644, func(w io.Writer) error { return write(w, d) }); err != nil {
			err = fmt.Errorf("write %q: %w", opts.out, err)
		}
	} else {
		err = write(stdout, d)
	}
	if err != nil {
		return err
	}
	if !d.Equal() {
		return errRunsDiffer{}
	}
	return nil
}

// runResolver turns diff's arguments into run directories, opening the store when an
// argument names a run in it.
type runResolver struct {
	storeDir string
	now      time.Time
	st       *store.Store
}

func (r *runResolver) store() (*store.Store, error) {
	if r.st != nil {
		return r.st, nil
	}
	// store.Open would create a missing directory; a diff only reads.
	fi, err := os.Stat(r.storeDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, usagef("store %q does not exist", r.storeDir)
	}
	if err != nil {
		return nil, usagef("store %q: %w", r.storeDir, err)
	}
	if !fi.IsDir() {
		return nil, usagef("store %q is not a directory", r.storeDir)
	}
	st, err := store.Open(r.storeDir)
	if err != nil {
		return nil, err
	}
	r.st = st
	return st, nil
}

// runRef is a parsed argument: a run directory, or a date of the store with or without a
// run id.
type runRef struct {
	dir   string
	date  string
	runID string
}

// parse reads an argument: an existing directory holding manifest.json is a run directory;
// otherwise DATE@RUN_ID or DATE; an existing directory without a manifest is an error.
func (r *runResolver) parse(arg string) (runRef, error) {
	if arg == "" {
		return runRef{}, usagef("empty run argument")
	}
	if fi, err := os.Stat(filepath.Join(arg, store.ManifestName)); err == nil && fi.Mode().IsRegular() {
		return runRef{dir: arg}, nil
	}
	datePart, id, hasID := strings.Cut(arg, "@")
	if d, err := parseDate("date", datePart, r.now); err == nil && (!hasID || id != "") {
		return runRef{date: d.Format(time.DateOnly), runID: id}, nil
	}
	if fi, err := os.Stat(arg); err == nil && fi.IsDir() {
		return runRef{}, usagef("run %q: %v", arg, diff.ErrNotRun)
	}
	return runRef{}, usagef("no run %q: not a run directory, DATE@RUN_ID or DATE", arg)
}

// resolve returns the directory of an argument; a lone DATE is its current run.
func (r *runResolver) resolve(arg string) (string, error) {
	ref, err := r.parse(arg)
	if err != nil || ref.dir != "" {
		return ref.dir, err
	}
	if ref.runID != "" {
		return r.runDir(ref.date, ref.runID)
	}
	return r.current(ref.date)
}

// withPrevious resolves a lone DATE or DATE@RUN_ID into the run before it (A) and it (B);
// the single run of a date is compared with itself, with a note saying so.
func (r *runResolver) withPrevious(arg string) (dirA, dirB, note string, err error) {
	ref, err := r.parse(arg)
	if err != nil {
		return "", "", "", err
	}
	if ref.dir != "" {
		return "", "", "", usagef("one run directory alone: give B, or name the run as DATE or DATE@RUN_ID")
	}
	if ref.runID != "" {
		dirB, err = r.runDir(ref.date, ref.runID)
	} else {
		dirB, err = r.current(ref.date)
	}
	if err != nil {
		return "", "", "", err
	}
	st, _ := r.store()
	id := filepath.Base(dirB)
	prev, single, err := st.Previous(ref.date, id)
	switch {
	case errors.Is(err, store.ErrNoPrevious):
		return "", "", "", usagef("%s@%s has no run before it in store %q: name two runs", ref.date, id, r.storeDir)
	case err != nil:
		return "", "", "", err
	case single:
		note = fmt.Sprintf("%s has a single run, %s: nothing earlier to compare it with "+
			"(a rerun over the same inputs and version gets the same run id and replaces it)", ref.date, id)
		return dirB, dirB, note, nil
	}
	dirA, err = r.runDir(ref.date, prev)
	return dirA, dirB, "", err
}

func (r *runResolver) runDir(date, id string) (string, error) {
	st, err := r.store()
	if err != nil {
		return "", err
	}
	dir, err := st.RunDir(date, id)
	if errors.Is(err, fs.ErrNotExist) {
		return "", usagef("no run %s@%s in store %q", date, id, r.storeDir)
	}
	if err != nil {
		return "", usageError{err}
	}
	return dir, nil
}

func (r *runResolver) current(date string) (string, error) {
	st, err := r.store()
	if err != nil {
		return "", err
	}
	dir, ok, err := st.Current(date)
	if err != nil {
		return "", usageError{err}
	}
	if !ok {
		return "", usagef("no run of %s in store %q", date, r.storeDir)
	}
	return dir, nil
}

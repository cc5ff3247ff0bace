// Command settle reconciles a telecom operator's nine daily counter revenue feeds into one
// settlement report per counter. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"settle/job"
)

// Exit codes of OUTPUTS.md.
const (
	exitOK         = 0
	exitFailed     = 1
	exitUsage      = 2
	exitFailOn     = 3
	exitIncomplete = 4
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfile := cpuProfile(os.Getenv("SETTLE_CPUPROFILE"))
	err := run(ctx, os.Args, os.Stdout, os.Stderr)
	stopProfile()
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// usageError is bad usage or configuration: exit 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitCoder is an error that carries its own exit code (settle diff: 1 when different).
type exitCoder interface{ ExitCode() int }

// exitCode maps an error to the exit code, printing it: the one place this is decided.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var ue usageError
	var ec exitCoder
	switch {
	case errors.Is(err, job.ErrIncomplete):
		fmt.Fprintln(stderr, "settle: run published, but incomplete: some feeds are missing or truncated")
		return exitIncomplete
	case errors.Is(err, job.ErrFailOn):
		fmt.Fprintln(stderr, "settle: run published with exceptions at or above --fail-on")
		return exitFailOn
	case errors.As(err, &ec):
		return ec.ExitCode()
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "settle:", err)
		return exitUsage
	}
	fmt.Fprintln(stderr, "settle:", err)
	return exitFailed
}

// run is the whole program: it parses args and runs one command.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	app := &cli.App{
		Name:                 "settle",
		Usage:                "reconcile a day of counter revenue feeds into settlement reports",
		Version:              job.Version,
		Writer:               stdout,
		ErrWriter:            stderr,
		EnableBashCompletion: false,
		HideHelpCommand:      true,
		Commands: []*cli.Command{runCommand(stderr), fixturesCommand(stderr), diffCommand(stderr), serveCommand(stderr), usersCommand(stderr),
			pruneCommand(stderr), doctorCommand(stderr), periodCommand(stderr), itemsCommand(stderr)},
		// Usage errors from urfave/cli (unknown flag, missing value) are exit 2.
		OnUsageError:   func(c *cli.Context, err error, isSub bool) error { return usageError{err} },
		ExitErrHandler: func(c *cli.Context, err error) {},
	}
	for _, c := range app.Commands {
		setUsageErrors(c)
	}
	if err := app.RunContext(ctx, args); err != nil {
		var ae actionError
		if errors.As(err, &ae) {
			return ae.err // a command's own error: its type alone decides the exit code
		}
		var ue usageError
		if !errors.As(err, &ue) && isCLIUsage(err) {
			return usageError{err}
		}
		return err
	}
	return nil
}

// actionError marks an error a command's Action returned, so that run never takes it
// for one of urfave/cli's usage complaints by its text: a source's or a file's data may
// say "invalid value" too, and no data problem may exit 2.
type actionError struct{ err error }

func (e actionError) Error() string { return e.err.Error() }
func (e actionError) Unwrap() error { return e.err }

func setUsageErrors(c *cli.Command) {
	c.OnUsageError = func(ctx *cli.Context, err error, isSub bool) error { return usageError{err} }
	if act := c.Action; act != nil {
		c.Action = func(ctx *cli.Context) error {
			if err := act(ctx); err != nil {
				return actionError{err}
			}
			return nil
		}
	}
	for _, s := range c.Subcommands {
		setUsageErrors(s)
	}
}

// isCLIUsage recognises urfave/cli's own complaints (required flags, unknown commands),
// which come by text alone; it is never asked about a command's own errors.
func isCLIUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"Required flag", "flag provided but not defined", "No help topic", "invalid value"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// cpuProfile writes a CPU profile of the whole command to path (SETTLE_CPUPROFILE), for
// benchmarks measured from outside the process (bench/README.md); "" does nothing.
func cpuProfile(path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "settle: SETTLE_CPUPROFILE:", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "settle: SETTLE_CPUPROFILE:", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

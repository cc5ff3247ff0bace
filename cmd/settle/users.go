package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"settle/internal/i18n"
	"settle/web/users"
)

func usersCommand(stderr io.Writer) *cli.Command {
	fileFlags := []cli.Flag{
		&cli.StringFlag{Name: "store", Value: defaultStore(), Usage: "run store directory (env SETTLE_STORE)"},
		&cli.StringFlag{Name: "users", Usage: "users file (default <store>/users.json)"},
	}
	return &cli.Command{
		Name:  "users",
		Usage: "manage who may log in to `settle serve`",
		Subcommands: []*cli.Command{
			{
				Name:      "add",
				Usage:     "add a user (the password is read from stdin, or asked for on a terminal)",
				UsageText: "settle users add NAME --role clerk|reviewer|auditor [--counters ID,...] [--outlets ID,...] [--display NAME] [--replace]",
				Description: "A clerk sees the counters listed (--counters), a reviewer the counters of the outlets listed\n" +
					"(--outlets); ids that no current run of the store's latest 14 dates has seen are warned\n" +
					"about on stderr (the user is saved all the same; a store without runs is not checked).\n" +
					"An auditor sees every counter, read-only. The password (at least 8 characters) is\n" +
					"kept as a bcrypt hash; it is read from the first line of stdin, or asked for twice on a\n" +
					"terminal. --replace changes an existing user (and ends their sessions).",
				Flags: append([]cli.Flag{
					&cli.StringFlag{Name: "role", Usage: "clerk, reviewer or auditor (required)"},
					&cli.StringSliceFlag{Name: "counters", Usage: "a clerk's counter ids"},
					&cli.StringSliceFlag{Name: "outlets", Usage: "a reviewer's outlet ids"},
					&cli.StringFlag{Name: "display", Usage: "the name to show, e.g. 张三"},
					&cli.BoolFlag{Name: "replace", Usage: "replace the user if it exists"},
					&cli.StringFlag{Name: "lang", Value: "zh", Usage: "language of the warnings: zh or en"},
				}, fileFlags...),
				Action: func(c *cli.Context) error {
					name, done, err := oneName(c, "users add")
					if done || err != nil {
						return err
					}
					if c.String("role") == "" {
						return usagef("users add: --role is required (clerk, reviewer or auditor)")
					}
					lang, err := i18n.Parse(c.String("lang"))
					if err != nil {
						return usagef("--lang: %v", err)
					}
					role, err := users.ParseRole(c.String("role"))
					if err != nil {
						return usagef("--role: %v", err)
					}
					u := users.User{Name: name, Display: c.String("display"), Role: role,
						Counters: splitList(c.StringSlice("counters")), Outlets: splitList(c.StringSlice("outlets"))}
					password, err := readPassword(c.App.Reader, stderr)
					if err != nil {
						return err
					}
					path := usersPath(c)
					if err := addUser(path, u, password, c.Bool("replace")); err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "user %s (%s) saved in %s\n", u.Name, u.Role, path)
					warnUnseen(stderr, lang, c.String("store"), u)
					return nil
				},
			},
			{
				Name:      "list",
				Usage:     "list the users: name, role, scope",
				UsageText: "settle users list [--users FILE]",
				Flags:     fileFlags,
				Action: func(c *cli.Context) error {
					f, err := users.Load(usersPath(c))
					if err != nil {
						return err
					}
					for _, u := range f.Users {
						scope := strings.Join(append(u.Counters, u.Outlets...), ",")
						if u.Role == users.Auditor {
							scope = "*"
						}
						fmt.Fprintf(c.App.Writer, "%-16s %-9s %s\t%s\n", u.Name, u.Role, scope, u.Display)
					}
					return nil
				},
			},
			{
				Name:      "unlock",
				Usage:     "let a user whose failed logins are being slowed down log in at once",
				UsageText: "settle users unlock NAME [--users FILE]",
				Description: "After a few wrong passwords `settle serve` makes the next attempts of that user wait,\n" +
					"doubling the wait with each failure. unlock records the time in the users file\n" +
					"(unlocked_at); a running server re-reads the file and forgets the user's failures at once.\n" +
					"A new password (users add --replace) unlocks too.",
				Flags: fileFlags,
				Action: func(c *cli.Context) error {
					name, done, err := oneName(c, "users unlock")
					if done || err != nil {
						return err
					}
					path := usersPath(c)
					err = users.Update(path, func(f *users.File) error {
						if !f.Unlock(name, time.Now()) {
							return usagef("users unlock: no user %q in %s", name, path)
						}
						return nil
					})
					if err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "user %s unlocked in %s\n", name, path)
					return nil
				},
			},
			{
				Name:      "remove",
				Usage:     "remove a user (their sessions end)",
				UsageText: "settle users remove NAME [--users FILE]",
				Flags:     fileFlags,
				Action: func(c *cli.Context) error {
					name, done, err := oneName(c, "users remove")
					if done || err != nil {
						return err
					}
					return users.Update(usersPath(c), func(f *users.File) error {
						if !f.Remove(name) {
							return usagef("users remove: no user %q", name)
						}
						return nil
					})
				},
			},
		},
	}
}

func usersPath(c *cli.Context) string {
	if p := c.String("users"); p != "" {
		return p
	}
	return filepath.Join(c.String("store"), "users.json")
}

// splitList flattens comma-separated values and drops empty ones.
func splitList(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// addUser adds u to the users file at path, making the file (and its folder) if needed.
func addUser(path string, u users.User, password []byte, replace bool) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("users file %q: %w", path, err)
	}
	err := users.Update(path, func(f *users.File) error {
		if err := f.Add(u, password, 0, replace); err != nil {
			return err
		}
		if replace { // a new password also ends the wait of failed logins
			f.Unlock(u.Name, time.Now())
		}
		return nil
	})
	if errors.Is(err, users.ErrInvalid) || errors.Is(err, users.ErrExists) {
		return usageError{err}
	}
	return err
}

// readPassword asks twice on a terminal (without echo) or reads the first line of in.
func readPassword(in io.Reader, stderr io.Writer) ([]byte, error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "password: ")
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return nil, fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(stderr, "again: ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return nil, fmt.Errorf("read password: %w", err)
		}
		if string(p1) != string(p2) {
			return nil, usagef("the two passwords differ")
		}
		return p1, nil
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read password from stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return nil, usagef("no password on stdin (pipe it in, or run on a terminal to be asked)")
	}
	return []byte(line), nil
}

// oneName returns the one NAME argument of a users subcommand (cmd, e.g. "users add"),
// with the flags after it applied (trailingFlags); done as trailingFlags reports it.
func oneName(c *cli.Context, cmd string) (name string, done bool, err error) {
	args, done, err := trailingFlags(c)
	if done || err != nil {
		return "", done, err
	}
	if len(args) != 1 {
		return "", false, usagef("%s: want one NAME, got %d arguments", cmd, len(args))
	}
	return args[0], false, nil
}

// warnUnseen warns on w about the user's counter and outlet ids that no run of the store's
// latest dates has seen: most likely a typo, which would leave the user an empty page.
// Reading the store is best effort: a failure is logged, the user is saved anyway.
func warnUnseen(w io.Writer, lang i18n.Lang, storeDir string, u users.User) {
	if len(u.Counters) == 0 && len(u.Outlets) == 0 {
		return
	}
	seen, err := storeSeen(storeDir)
	if err != nil {
		slog.Warn("users add: could not check the ids against the store", "store", storeDir, "err", err)
		return
	}
	if seen.dates == 0 {
		fmt.Fprintln(w, lang.S(i18n.OpsUsersNoRuns))
		return
	}
	if ids := unseen(u.Counters, seen.counters); len(ids) > 0 {
		fmt.Fprintln(w, lang.F(i18n.OpsUsersUnseenCounters, seen.dates, strings.Join(ids, ", ")))
	}
	// '*' is the whole city (users.WholeCity), no outlet id.
	if ids := unseen(slices.DeleteFunc(slices.Clone(u.Outlets), func(o string) bool { return o == users.WholeCity }), seen.outlets); len(ids) > 0 {
		fmt.Fprintln(w, lang.F(i18n.OpsUsersUnseenOutlets, seen.dates, strings.Join(ids, ", ")))
	}
}

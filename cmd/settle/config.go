package main

import (
	"bufio"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
)

// applyConfig reads a config file of `key = value` lines (# comments, values optionally in
// double quotes; keys are the command's long flag names) and sets every flag the command
// line did not: flags win. An unknown key or a malformed line is a usage error naming the
// file and line.
func applyConfig(c *cli.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return usagef("--config: %v", err)
	}
	defer f.Close()
	known := map[string]bool{}
	for _, fl := range c.Command.Flags {
		for _, n := range fl.Names() {
			known[n] = true
		}
	}
	delete(known, "config")
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	line := 0
	seen := map[string]int{}
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		key, val, ok := strings.Cut(text, "=")
		if !ok {
			return usagef("%s:%d: want key = value, got %q", path, line, text)
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = val[1 : len(val)-1]
		}
		if !known[key] {
			return usagef("%s:%d: unknown key %q", path, line, key)
		}
		if prev, dup := seen[key]; dup {
			return usagef("%s:%d: key %q already set on line %d", path, line, key, prev)
		}
		seen[key] = line
		if c.IsSet(key) {
			continue
		}
		if err := c.Set(key, val); err != nil {
			return usagef("%s:%d: %s: %v", path, line, key, err)
		}
	}
	if err := sc.Err(); err != nil {
		return usagef("--config %s: %v", path, err)
	}
	return nil
}

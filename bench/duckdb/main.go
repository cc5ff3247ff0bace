// Command peer is settle's DuckDB peer (bench/README.md): the SQL-expressible core of
// RULES.md — settlement and deposit variance, summary against detail, purchase ↔ order,
// reversal ↔ original within the day — as DuckDB SQL (peer.sql) over the same canonical CSVs
// settle reads, run through go-duckdb. It writes settlement.csv, variance.csv and
// exceptions.csv in settle's formats; with -check it compares them with a settle run.
//
//	peer -src /tmp/bench/city -date 2026-11-21 -out /tmp/peer            # what the benchmark times
//	peer -src /tmp/bench/city -date 2026-11-21 -out /tmp/peer -check RUN # and compare with settle's run directory
//
// It lives in its own module so that settle's stays free of cgo.
package main

import (
	"bytes"
	"database/sql"
	_ "embed"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

//go:embed peer.sql
var script string

// codes are the exception codes the peer raises; -check compares settle's rows of these codes.
var codes = []string{
	"DEPOSIT_SHORT", "DEPOSIT_OVER", "SUMMARY_MISMATCH", "PURCHASE_NO_ORDER", "ORDER_NO_PURCHASE",
	"VOID_NOT_SAME_DAY", "REFUND_NOT_APPROVED", "REVERSAL_ORPHAN", "VOID_PARTIAL", "REVERSAL_METHOD_MISMATCH",
	"REVERSAL_EXCEEDS_ORIGINAL",
}

func main() {
	src := flag.String("src", "", "source directory of canonical CSVs (any sub-folders)")
	date := flag.String("date", "2026-11-21", "business date")
	out := flag.String("out", "", "directory to write settlement.csv, variance.csv and exceptions.csv into")
	check := flag.String("check", "", "a settle run directory to compare the results with")
	threads := flag.Int("threads", 0, "DuckDB threads (0: DuckDB's default, one per core)")
	verbose := flag.Bool("v", false, "print the time of each statement")
	flag.Parse()
	if err := run(*src, *date, *out, *check, *threads, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "peer:", err)
		os.Exit(1)
	}
}

func run(src, date, out, check string, threads int, verbose bool) error {
	if src == "" || out == "" {
		return errors.New("-src and -out are required")
	}
	d, err := time.Parse("2006-01-02", date)
	if err != nil {
		return fmt.Errorf("-date %q: %w", date, err)
	}
	abs, err := filepath.Abs(src)
	if err != nil {
		return err
	}
	start := time.Now()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one connection: the macros and tables are the session's
	if threads > 0 {
		if _, err := db.Exec(fmt.Sprintf("SET threads = %d", threads)); err != nil {
			return err
		}
	}
	s := strings.NewReplacer("{{SRC}}", strings.TrimSuffix(filepath.ToSlash(abs), "/"), "{{DATE}}", date,
		"{{DATE_SLASH}}", d.Format("2006/01/02"), "{{DATE_COMPACT}}", d.Format("20060102"),
		"{{CEILING}}", "1000000.00").Replace(script)
	for _, stmt := range statements(s) {
		t := time.Now()
		if _, err := db.Exec(stmt); err != nil {
			return fmt.Errorf("%w\n%s", err, stmt)
		}
		if verbose {
			fmt.Fprintf(os.Stderr, "%7.1f ms  %s\n", float64(time.Since(t).Microseconds())/1000, firstLine(stmt))
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	queries := []struct{ file, query string }{
		{"settlement.csv", `SELECT '` + date + `' AS biz_date, city, outlet_id, counter_id, category, pay_method, txn_count, gross::VARCHAR AS gross, reversed::VARCHAR AS reversed, net::VARCHAR AS net
			FROM settlement ORDER BY city, outlet_id, counter_id, category, pay_method`},
		{"variance.csv", `SELECT '` + date + `' AS biz_date, city, outlet_id, counter_id, pay_method, expected::VARCHAR AS expected, deposited::VARCHAR AS deposited, variance::VARCHAR AS variance
			FROM variance ORDER BY city, outlet_id, counter_id, pay_method`},
		{"exceptions.csv", `SELECT '` + date + `' AS biz_date, code, severity, city, outlet_id, counter_id, feed, txn_id,
			coalesce(CAST(amount AS VARCHAR), '') AS amount, detail, source FROM findings
			ORDER BY code, severity, city, outlet_id, counter_id, feed, txn_id, amount, detail, source`},
	}
	for _, q := range queries {
		if err := writeCSV(db, q.query, filepath.Join(out, q.file)); err != nil {
			return fmt.Errorf("%s: %w", q.file, err)
		}
	}
	if verbose {
		fmt.Fprintf(os.Stderr, "%7.1f ms  total\n", float64(time.Since(start).Microseconds())/1000)
	}
	if check != "" {
		return compare(out, check)
	}
	return nil
}

// statements splits the script at the semicolons that end a line; comments are dropped.
func statements(s string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		out = append(out, cur.String())
	}
	return out
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 90 {
		s = s[:90] + "…"
	}
	return s
}

// writeCSV writes a query's rows as text, with a header, the way settle writes its CSVs
// (encoding/csv).
func writeCSV(db *sql.DB, query, path string) error {
	rows, err := db.Query(query)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(cols); err != nil {
		return err
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	rec := make([]string, len(cols))
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, v := range vals {
			rec[i] = v.String
		}
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	w.Flush()
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// compare checks the peer's files against a settle run: settlement.csv and variance.csv
// byte for byte, and exceptions.csv's rows of the peer's codes as a set.
func compare(peer, run string) error {
	var problems []string
	for _, f := range []string{"settlement.csv", "variance.csv"} {
		a, err := os.ReadFile(filepath.Join(peer, f))
		if err != nil {
			return err
		}
		b, err := os.ReadFile(filepath.Join(run, f))
		if err != nil {
			return err
		}
		if !bytes.Equal(a, b) {
			problems = append(problems, fmt.Sprintf("%s differs: %s", f, firstDiff(a, b)))
		} else {
			fmt.Printf("%-15s identical (%d lines)\n", f, bytes.Count(a, []byte("\n")))
		}
	}
	pe, err := readRows(filepath.Join(peer, "exceptions.csv"), nil)
	if err != nil {
		return err
	}
	se, err := readRows(filepath.Join(run, "exceptions.csv"), codes)
	if err != nil {
		return err
	}
	slices.Sort(pe)
	slices.Sort(se)
	if slices.Equal(pe, se) {
		fmt.Printf("%-15s identical rows of %d codes (%d rows)\n", "exceptions.csv", len(codes), len(pe))
	} else {
		for _, r := range pe {
			if !slices.Contains(se, r) {
				problems = append(problems, "exception only the peer raises: "+r)
			}
		}
		for _, r := range se {
			if !slices.Contains(pe, r) {
				problems = append(problems, "exception only settle raises: "+r)
			}
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

// readRows reads a CSV's data rows as lines of their fields joined by tabs, only those whose
// second field (the code) is in codes when codes is not nil.
func readRows(path string, codes []string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []string
	for i, r := range recs {
		if i == 0 || codes != nil && !slices.Contains(codes, r[1]) {
			continue
		}
		out = append(out, strings.Join(r, "\t"))
	}
	return out, nil
}

func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < min(len(al), len(bl)); i++ {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d: peer %q, settle %q", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("peer has %d lines, settle %d", len(al), len(bl))
}

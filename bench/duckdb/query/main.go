// Command query runs one SQL statement in an in-memory DuckDB and prints the rows,
// tab-separated, under a header of column names and DuckDB types: a way to see a run's
// Parquet through DuckDB's own reader (docs/PARQUET.md). It shares the DuckDB peer's module.
//
//	go run ./query "SELECT sum(net) FROM 'RUN/settlement.parquet'"   (in bench/duckdb)
package main

import (
	"database/sql"
	"fmt"
	"os"
	"strings"

	_ "github.com/duckdb/duckdb-go/v2"
)

func main() {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		panic(err)
	}
	rows, err := db.Query(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cols, _ := rows.Columns()
	types, _ := rows.ColumnTypes()
	var hdr []string
	for i, c := range cols {
		hdr = append(hdr, c+" "+types[i].DatabaseTypeName())
	}
	fmt.Println(strings.Join(hdr, "\t"))
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			panic(err)
		}
		var out []string
		for _, v := range vals {
			out = append(out, fmt.Sprint(v))
		}
		fmt.Println(strings.Join(out, "\t"))
	}
}

// Command duckdb runs SQL in an in-memory DuckDB, for recal's tests: it
// writes exports with DuckDB's own types and reads recal's outputs as an
// independent reader. It lives in its own module so that cgo and DuckDB
// never enter the recal binary.
//
// Usage: go run . -sql 'COPY (...) TO ...' [-sql ...]
// Each statement's result rows are printed tab-separated.
package main

import (
	"database/sql"
	"flag"
	"fmt"
	"os"
	"strings"

	_ "github.com/duckdb/duckdb-go/v2"
)

type sqls []string

func (s *sqls) String() string     { return strings.Join(*s, "; ") }
func (s *sqls) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	var stmts sqls
	flag.Var(&stmts, "sql", "statement to run (repeatable)")
	flag.Parse()
	ext, err := os.MkdirTemp("", "duckdb-ext-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(ext)
	db, err := sql.Open("duckdb", "?extension_directory="+ext+"&autoinstall_known_extensions=false&autoload_known_extensions=false")
	if err != nil {
		fail(err)
	}
	defer db.Close()
	for _, q := range stmts {
		rows, err := db.Query(q)
		if err != nil {
			fail(fmt.Errorf("%s: %w", q, err))
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				fail(err)
			}
			out := make([]string, len(vals))
			for i, v := range vals {
				out[i] = fmt.Sprint(v)
			}
			fmt.Println(strings.Join(out, "\t"))
		}
		if err := rows.Err(); err != nil {
			fail(err)
		}
		rows.Close()
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "duckdb:", err)
	os.Exit(1)
}

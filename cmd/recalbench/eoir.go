package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/recal-project/recal/pipeline/eoirimport/eoirtest"
	"github.com/recal-project/recal/pipeline/refdata"
)

// benchImport measures `recal import-eoir` on a generated release of n
// proceedings (eoirtest.Generate, cached under -data), against DuckDB
// reading the same B_TblProceeding once and finding each case's latest
// proceeding: the floor of one pass over the text, where the import makes
// two passes over it and reads four more tables. It returns the table's
// lines.
func benchImport(c config, n int64) (string, error) {
	dir := filepath.Join(c.data, fmt.Sprintf("eoir-%d", n))
	if _, err := os.Stat(filepath.Join(dir, "tbl_CustodyHistory.csv")); err != nil {
		fmt.Fprintf(os.Stderr, "generating an EOIR release of %d proceedings into %s (once)\n", n, dir)
		ref, err := refdata.Load(refdata.Paths{})
		if err != nil {
			return "", err
		}
		var courts []string
		for _, ct := range ref.Courts {
			courts = append(courts, ct.Code)
		}
		tmp := dir + ".tmp"
		os.RemoveAll(tmp)
		if err := eoirtest.Generate(tmp, eoirtest.GenerateSizes{Proceedings: n}, courts, 7); err != nil {
			return "", err
		}
		if err := os.Rename(tmp, dir); err != nil {
			return "", err
		}
	}
	size := int64(0)
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if fi, err := e.Info(); err == nil {
			size += fi.Size()
		}
	}
	work := filepath.Join(c.out, fmt.Sprintf("eoir-%d", n))
	os.RemoveAll(work)
	proc := filepath.Join(dir, "B_TblProceeding.csv")
	variants := []variant{
		{"recal import-eoir", func(rep int) (*exec.Cmd, error) {
			out := filepath.Join(work, "import")
			os.RemoveAll(out)
			return exec.Command(c.recal, "import-eoir", "--release", dir, "--output", out), nil
		}},
		{"duckdb: latest proceeding per case", func(rep int) (*exec.Cmd, error) {
			return exec.Command(c.duckdb, sqlArgs([]string{"SELECT count(*), sum(latest) FROM (SELECT IDNCASE, max(IDNPROCEEDING) AS latest FROM read_csv(" +
				q(proc) + ", delim='\t', header=true, all_varchar=false) GROUP BY IDNCASE)"})...), nil
		}},
	}
	samples, err := interleave(c.reps, variants, filepath.Join(work, "logs"), fmt.Sprintf("%d proceedings", n))
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nEOIR import: a generated release of %d proceedings (%d MiB, five tables, tab-delimited)\n\n", n, size>>20)
	b.WriteString("| what | wall s | proceeding rows/s | peak RSS MiB | vs DuckDB |\n|---|---:|---:|---:|---:|\n")
	duck := median(samples[1])
	for i, v := range variants {
		m := median(samples[i])
		fmt.Fprintf(&b, "| %s | %.2f | %.0f | %d | %.2f× |\n", v.name, m.wall.Seconds(), float64(n)/m.wall.Seconds(), m.rssKiB/1024, m.wall.Seconds()/duck.wall.Seconds())
	}
	return b.String(), nil
}

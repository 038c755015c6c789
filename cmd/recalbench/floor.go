package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"golang.org/x/sync/errgroup"
)

// floorColumns are the export columns a run of castro-tum-2018 needs
// (validation, policy, scheduling and reports).
var floorColumns = []string{"idncase", "idnproceeding", "base_city_code", "hearing_loc_code", "ij_code", "custody", "nat", "lang",
	"osc_date", "comp_date", "other_comp", "crim_ind", "aggravate_felon", "c_birthdate", "casepriority_code"}

// floor decodes the needed columns of every object with pqarrow, two
// objects at a time, and discards them: the least any Go reader of these
// files must spend.
func floor(dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.parquet"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	var g errgroup.Group
	g.SetLimit(2)
	rows := make([]int64, len(files))
	for i, f := range files {
		g.Go(func() error {
			fh, err := os.Open(f)
			if err != nil {
				return err
			}
			defer fh.Close()
			pr, err := file.NewParquetReader(fh, file.WithReadProps(parquet.NewReaderProperties(memory.DefaultAllocator)))
			if err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			defer pr.Close()
			fr, err := pqarrow.NewFileReader(pr, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, memory.DefaultAllocator)
			if err != nil {
				return err
			}
			var cols []int
			sc := pr.MetaData().Schema
			for _, name := range floorColumns {
				if i := sc.ColumnIndexByName(name); i >= 0 {
					cols = append(cols, i)
				}
			}
			rr, err := fr.GetRecordReader(context.Background(), cols, nil)
			if err != nil {
				return err
			}
			defer rr.Release()
			for rr.Next() {
				rows[i] += rr.Record().NumRows()
			}
			if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	var n int64
	for _, r := range rows {
		n += r
	}
	fmt.Println("decoded rows", n)
	return nil
}

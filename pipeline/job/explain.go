package job

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/recal-project/recal/pipeline/source"
	"github.com/recal-project/recal/pipeline/sysexit"
	"github.com/recal-project/recal/transforms/export"
	"github.com/recal-project/recal/transforms/validate"
)

// Explain executes `recal run --explain IDNPROCEEDING`: it reads the
// export, finds every row with that proceeding id and writes to w why each
// got its outcome — its rejection, or each policy rule consulted with the
// values it read. It writes no outputs and prints no A-number or name.
func Explain(ctx context.Context, cfg Config, idn int64, w io.Writer) error {
	if cfg.Input == "" {
		return sysexit.Errorf(sysexit.ErrUsage, "--input is required")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	su, err := load(ctx, &cfg, true)
	if err != nil {
		return err
	}
	type hit struct {
		object int
		row    int64
		text   []byte
	}
	var (
		mu   sync.Mutex
		hits []hit
	)
	val := validate.New(su.ref, su.asOf)
	_, err = source.Read(ctx, su.in, su.objs, source.Options{Workers: cfg.Workers}, func(ctx context.Context, b *export.Batch) error {
		for i := 0; i < b.N; i++ {
			if b.IDNProceeding.S[i] != export.Valid || b.IDNProceeding.V[i] != idn {
				continue
			}
			var buf bytes.Buffer
			var q validate.Quality
			if r, ok := val.Row(b, i, &q); !ok {
				fmt.Fprintf(&buf, "case idnproceeding %d (%s row %d)\noutcome: rejected, %s: %s\n", idn, b.Key, b.Row0+int64(i), r.Code, r.Message())
			} else if err := su.pol.NewEvaluator(su.ref, su.asOf).Explain(&buf, b, i); err != nil {
				return err
			}
			mu.Lock()
			hits = append(hits, hit{b.Object, b.Row0 + int64(i), buf.Bytes()})
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(hits) == 0 {
		return sysexit.Errorf(sysexit.ErrNoInput, "no row of %s has idnproceeding %d", cfg.Input, idn)
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].object != hits[j].object {
			return hits[i].object < hits[j].object
		}
		return hits[i].row < hits[j].row
	})
	for k, h := range hits {
		if k == 1 {
			fmt.Fprintf(w, "\n%d rows share this idnproceeding: the first valid one (in object and row order) is the case; later valid ones are rejected as %s.\n", len(hits), validate.DuplicateProceeding)
		}
		if k > 0 {
			fmt.Fprintln(w)
		}
		if _, err := w.Write(h.text); err != nil {
			return err
		}
	}
	return nil
}

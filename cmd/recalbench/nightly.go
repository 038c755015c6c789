package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/recal-project/recal/pipeline/gen"
	"github.com/recal-project/recal/pipeline/manifest"
	"github.com/recal-project/recal/pipeline/refdata"
	"github.com/recal-project/recal/pipeline/storage/local"
)

// benchNightly runs a week of nightly runs on a churning export: a base
// of rows cases in 20 objects (5% each); every night the oldest object
// leaves the export and an object of new cases (5%) arrives, and the
// as-of date advances a day. Each night runs with --previous (the last
// night's run) and without, interleaved; it reports the changes and both
// run times (best of -reps). With one calendar all week no move is
// forced, so the moved column should read 0.
func benchNightly(c config, rows int64, nights int) (string, error) {
	dir := filepath.Join(c.data, fmt.Sprintf("nightly-%d", rows))
	ref, err := refdata.Load(refdata.Paths{})
	if err != nil {
		return "", err
	}
	per := rows / 20
	object := func(k int) string { return filepath.Join(dir, fmt.Sprintf("obj-%03d.parquet", k)) }
	if _, err := os.Stat(object(20 + nights - 1)); err != nil {
		fmt.Fprintf(os.Stderr, "generating %d nights of %d rows into %s (once)\n", nights, rows, dir)
		tmp := dir + ".tmp"
		os.RemoveAll(tmp)
		if err := os.MkdirAll(tmp, 0o755); err != nil {
			return "", err
		}
		for k := 0; k < 20+nights; k++ {
			g := filepath.Join(tmp, fmt.Sprintf("gen-%03d", k))
			_, err := gen.Generate(context.Background(), local.New(g), ref, gen.Options{Rows: per, Seed: uint64(100 + k), Objects: 1, FirstRow: int64(k) * per, Layout: "reference"})
			if err != nil {
				return "", err
			}
			if err := os.Rename(filepath.Join(g, "export", "part-00000.parquet"), filepath.Join(tmp, fmt.Sprintf("obj-%03d.parquet", k))); err != nil {
				return "", err
			}
			if k == 0 {
				// One calendar for the week, sized for the whole export.
				if _, err := gen.Generate(context.Background(), local.New(filepath.Join(tmp, "cal")), ref, gen.Options{Rows: rows, Seed: 99, Objects: 1, Layout: "reference"}); err != nil {
					return "", err
				}
			}
		}
		if err := os.Rename(tmp, dir); err != nil {
			return "", err
		}
	}
	work := filepath.Join(c.out, fmt.Sprintf("nightly-%d", rows))
	os.RemoveAll(work)
	start, _ := time.Parse(time.DateOnly, asOf)
	type night struct {
		with, without sample
		ch            *manifest.Changes
	}
	var res []night
	prev := ""
	for n := 0; n < nights; n++ {
		in := filepath.Join(work, fmt.Sprintf("in-%d", n), "export")
		if err := os.MkdirAll(in, 0o755); err != nil {
			return "", err
		}
		for k := n; k < n+20; k++ {
			if err := os.Link(object(k), filepath.Join(in, filepath.Base(object(k)))); err != nil {
				return "", err
			}
		}
		day := start.AddDate(0, 0, n).Format(time.DateOnly)
		args := func(out string) []string {
			return []string{"run", "--input", in, "--capacity", filepath.Join(dir, "cal", "capacity.csv"), "--closures", filepath.Join(dir, "cal", "closures.csv"),
				"--policy", "castro-tum-2018", "--as-of", day, "--output", out, "--workers", "2"}
		}
		var r night
		for rep := 0; rep < c.reps; rep++ {
			out := filepath.Join(work, fmt.Sprintf("night-%d", n))
			os.RemoveAll(out)
			a := args(out)
			if prev != "" {
				a = append(a, "--previous", prev)
			}
			s, err := measure(exec.Command(c.recal, a...), filepath.Join(work, "logs", fmt.Sprintf("night-%d-%d.log", n, rep)))
			if err != nil {
				return "", fmt.Errorf("night %d: %w", n, err)
			}
			if rep == 0 || s.wall < r.with.wall {
				r.with = s
			}
			plain := filepath.Join(work, fmt.Sprintf("night-%d-plain", n))
			os.RemoveAll(plain)
			s, err = measure(exec.Command(c.recal, args(plain)...), filepath.Join(work, "logs", fmt.Sprintf("night-%d-plain-%d.log", n, rep)))
			if err != nil {
				return "", fmt.Errorf("night %d without --previous: %w", n, err)
			}
			if rep == 0 || s.wall < r.without.wall {
				r.without = s
			}
		}
		out := filepath.Join(work, fmt.Sprintf("night-%d", n))
		m, err := readManifest(filepath.Join(out, "manifest.json"))
		if err != nil {
			return "", err
		}
		r.ch = m.Changes
		fmt.Fprintf(os.Stderr, "night %d (%s): with --previous %.2f s, without %.2f s\n", n+1, day, r.with.wall.Seconds(), r.without.wall.Seconds())
		res = append(res, r)
		prev = out
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nNightly: %d nights, %d cases in 20 objects; each night 5%% of the cases leave and 5%% arrive, as-of +1 day; best of %d\n\n", nights, rows, c.reps)
	b.WriteString("| night | new | unchanged | moved | released | with --previous s | without s | ratio |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for i, r := range res {
		if r.ch == nil {
			fmt.Fprintf(&b, "| %d | (first night) | | | | | %.2f | |\n", i+1, r.without.wall.Seconds())
			continue
		}
		fmt.Fprintf(&b, "| %d | %d | %d | %d %v | %d %v | %.2f | %.2f | %.2f× |\n", i+1, r.ch.New, r.ch.Unchanged, r.ch.Moved, r.ch.MovedByReason, r.ch.Released, r.ch.ReleasedByReason,
			r.with.wall.Seconds(), r.without.wall.Seconds(), r.with.wall.Seconds()/r.without.wall.Seconds())
	}
	return b.String(), nil
}

// readManifest reads a run's manifest.json.
func readManifest(path string) (*manifest.Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m manifest.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &m, nil
}

// Package report writes recal's impact reports — impact.json (the source
// of truth), impact.csv, impact.md and a self-contained impact.html with
// inline SVG charts — and the scenario comparison of `recal report
// --compare`. Formats and fields: docs/reports.md.
package report

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/recal-project/recal/pipeline/location"
	"github.com/recal-project/recal/pipeline/manifest"
	"github.com/recal-project/recal/pipeline/sink"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/sysexit"
	"github.com/recal-project/recal/transforms/impact"
)

// DefaultSuppressBelow is the disclosure threshold of the publication
// formats (impact.md, impact.html) when none is given: counts of 1 to 10
// are suppressed, the small-cell rule of CMS and many state agencies.
const DefaultSuppressBelow = 11

// Dir is where a run writes its reports, under its output prefix.
const Dir = "reports/"

// Options are the rendering settings.
type Options struct {
	// SuppressBelow is the disclosure threshold of impact.md and
	// impact.html (0 or 1: off).
	SuppressBelow int
	// SuppressData applies SuppressBelow to impact.csv too (impact.json
	// always stays exact).
	SuppressData bool
}

// file is one rendered report file.
type file struct {
	name string
	data []byte
	rows int64
}

// renderImpact renders the four impact files.
func renderImpact(imp *impact.Impact, opt Options) ([]file, error) {
	j, err := marshal(imp)
	if err != nil {
		return nil, fmt.Errorf("render impact.json: %w", err)
	}
	pub := disclosure{below: int64(opt.SuppressBelow)}
	data := disclosure{}
	if opt.SuppressData {
		data = pub
	}
	c, rows, err := impactCSV(imp, data)
	if err != nil {
		return nil, fmt.Errorf("render impact.csv: %w", err)
	}
	doc := impactDoc(imp, pub)
	h, err := doc.html()
	if err != nil {
		return nil, err
	}
	return []file{{"impact.json", j, 0}, {"impact.csv", c, rows}, {"impact.md", doc.markdown(), 0}, {"impact.html", h, 0}}, nil
}

func renderComparison(c *impact.Comparison, opt Options) ([]file, error) {
	j, err := marshal(c)
	if err != nil {
		return nil, fmt.Errorf("render comparison.json: %w", err)
	}
	doc := compareDoc(c, disclosure{below: int64(opt.SuppressBelow)})
	h, err := doc.html()
	if err != nil {
		return nil, err
	}
	return []file{{"comparison.json", j, 0}, {"comparison.md", doc.markdown(), 0}, {"comparison.html", h, 0}}, nil
}

func put(ctx context.Context, out storage.Store, dir string, files []file) ([]sink.Object, error) {
	objs := make([]sink.Object, 0, len(files))
	for _, f := range files {
		key := dir + f.name
		if err := storage.Put(ctx, out, key, bytes.NewReader(f.data)); err != nil {
			return nil, fmt.Errorf("write %s: %w", key, err)
		}
		sum := sha256.Sum256(f.data)
		objs = append(objs, sink.Object{Key: key, Rows: f.rows, Bytes: int64(len(f.data)), SHA256: hex.EncodeToString(sum[:])})
	}
	return objs, nil
}

// Write renders imp and writes impact.json, impact.csv, impact.md and
// impact.html under dir of out, returning the objects for the manifest.
func Write(ctx context.Context, out storage.Store, dir string, imp *impact.Impact, opt Options) ([]sink.Object, error) {
	files, err := renderImpact(imp, opt)
	if err != nil {
		return nil, sysexit.With(sysexit.ErrInternal, err)
	}
	return put(ctx, out, dir, files)
}

// WriteComparison renders the comparison of runs (runs[0] is the
// reference) and writes comparison.json, .md and .html under dir of out.
func WriteComparison(ctx context.Context, out storage.Store, dir string, runs []*impact.Impact, opt Options) ([]sink.Object, error) {
	files, err := renderComparison(impact.Compare(runs), opt)
	if err != nil {
		return nil, sysexit.With(sysexit.ErrInternal, err)
	}
	return put(ctx, out, dir, files)
}

// ErrNoReport is wrapped when a run's output has no usable impact.json.
var ErrNoReport = errors.New("no impact report")

// Load reads the impact.json of the committed run under uri: the run must
// have its _SUCCESS, and the file must match the sha256 its manifest lists.
func Load(ctx context.Context, uri string, o location.Options) (*impact.Impact, error) {
	st, err := location.Open(ctx, uri, o)
	if err != nil {
		return nil, err
	}
	if _, err := st.Stat(ctx, "_SUCCESS"); err != nil {
		if errors.Is(err, storage.ErrNotExist) {
			return nil, sysexit.Errorf(sysexit.ErrNoInput, "run %s: no _SUCCESS: the run is not committed (unfinished, failed or not a recal output)", st)
		}
		return nil, err
	}
	mb, err := storage.ReadAll(ctx, st, "manifest.json")
	if err != nil {
		return nil, fmt.Errorf("run %s: read manifest.json: %w", st, err)
	}
	m, err := manifest.Parse(mb)
	if err != nil {
		return nil, sysexit.With(sysexit.ErrData, fmt.Errorf("run %s: %w", st, err))
	}
	key := Dir + "impact.json"
	var want string
	for _, o := range m.Outputs {
		if o.Key == key {
			want = o.SHA256
		}
	}
	if want == "" {
		return nil, sysexit.With(sysexit.ErrData, fmt.Errorf("run %s: %w: its manifest lists no %s (written by a recal without reports?)", st, ErrNoReport, key))
	}
	b, err := storage.ReadAll(ctx, st, key)
	if err != nil {
		return nil, fmt.Errorf("run %s: read %s: %w", st, key, err)
	}
	if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != want {
		return nil, sysexit.With(sysexit.ErrData, fmt.Errorf("run %s: %s does not match the sha256 in manifest.json (changed after the run committed)", st, key))
	}
	return Parse(b, st.String()+"/"+key)
}

// Parse decodes impact.json, checking its kind and schema version.
func Parse(b []byte, name string) (*impact.Impact, error) {
	var imp impact.Impact
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&imp); err != nil {
		return nil, sysexit.With(sysexit.ErrData, fmt.Errorf("%s: %w: %w", name, ErrNoReport, err))
	}
	if imp.Kind != impact.Kind {
		return nil, sysexit.With(sysexit.ErrData, fmt.Errorf("%s: %w: kind %q, want %q", name, ErrNoReport, imp.Kind, impact.Kind))
	}
	if imp.SchemaVersion != impact.SchemaVersion {
		return nil, sysexit.With(sysexit.ErrData, fmt.Errorf("%s: %w: schema_version %d, this recal reads %d", name, ErrNoReport, imp.SchemaVersion, impact.SchemaVersion))
	}
	return &imp, nil
}

// Config is `recal report`'s configuration.
type Config struct {
	// Run is the committed run to report on; Compare lists more runs to
	// set beside it (Run is the reference).
	Run     string
	Compare []string
	Output  string
	Options
	// BaselinePending, when set, replaces the runs' backlog baseline.
	BaselinePending *int64
	Locations       location.Options
}

// Command executes `recal report`: it re-renders a run's reports, or
// compares runs, from the runs' committed outputs alone, and returns the
// keys written relative to the output.
func Command(ctx context.Context, cfg Config) ([]sink.Object, string, error) {
	if cfg.Run == "" || cfg.Output == "" {
		return nil, "", sysexit.Errorf(sysexit.ErrUsage, "--run and --output are required")
	}
	runs := []*impact.Impact{}
	for _, uri := range append([]string{cfg.Run}, cfg.Compare...) {
		imp, err := Load(ctx, uri, cfg.Locations)
		if err != nil {
			return nil, "", err
		}
		if cfg.BaselinePending != nil {
			imp = impact.WithBaseline(imp, cfg.BaselinePending)
		}
		runs = append(runs, imp)
	}
	out, err := location.Open(ctx, cfg.Output, cfg.Locations)
	if err != nil {
		return nil, "", err
	}
	var objs []sink.Object
	if len(runs) == 1 {
		objs, err = Write(ctx, out, "", runs[0], cfg.Options)
	} else {
		objs, err = WriteComparison(ctx, out, "", runs, cfg.Options)
	}
	return objs, out.String(), err
}

// Package job runs recal's batch jobs: `run` (read → validate → select →
// schedule → write) and `validate` (read and check, write nothing).
package job

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/recal-project/recal/pipeline/location"
	"github.com/recal-project/recal/pipeline/manifest"
	"github.com/recal-project/recal/pipeline/progress"
	"github.com/recal-project/recal/pipeline/refdata"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/pipeline/sysexit"
	"github.com/recal-project/recal/transforms/civil"
	"github.com/recal-project/recal/transforms/policy"
	"github.com/recal-project/recal/transforms/reference"
	"github.com/recal-project/recal/transforms/schedule"
)

// Version is the tool version recorded in manifests (set by the build).
var Version = "dev"

// Config is a run's configuration (flags and RECAL_* variables).
type Config struct {
	Input, Capacity, Closures, Output string
	Policy                            string
	AsOf                              string
	Workers                           int
	ShardIndex, ShardCount            int
	Force                             bool
	OnCorrupt                         string
	// QuarantineLimit is the largest share of the input, in objects and in
	// rows by footer, that OnCorrupt "quarantine" may drop before the run
	// fails instead (0: DefaultQuarantineLimit).
	QuarantineLimit float64
	// ClaimStale is how long another run's claim on the output may go
	// without a heartbeat before this run takes it over (0:
	// claim.DefaultStale).
	ClaimStale time.Duration
	// claimHeartbeat is how often the claim is rewritten (0: 30 s), and
	// afterClaim runs once the output is claimed: for tests.
	claimHeartbeat time.Duration
	afterClaim     func()
	// ReleaseLimit and InputFloor are the release guard of a run with
	// Previous (nil: DefaultReleaseLimit, DefaultInputFloor).
	ReleaseLimit, InputFloor *float64
	// Previous is the last committed run (--previous): its standing
	// hearings are kept where they still can be, and changes/ says what
	// changed. PreviousPolicyChange accepts a previous run of another
	// policy.
	Previous                 string
	PreviousPolicyChange     bool
	Courts, HearingLocations string
	TempDir                  string
	// SuppressBelow is the disclosure threshold of the publication reports
	// (impact.md, impact.html): 0 means report.DefaultSuppressBelow and a
	// negative value turns suppression off. BaselinePending the pending caseload the
	// backlog increase is measured against (nil: none).
	SuppressBelow   int
	BaselinePending *int64
	Locations       location.Options
	Log             *slog.Logger
	// Progress, when set, is updated as the run goes (for a display or
	// metrics).
	Progress *progress.Progress
}

// ParseAsOf parses the as-of date.
func ParseAsOf(s string) (int32, error) {
	if s == "" {
		return 0, sysexit.Errorf(sysexit.ErrUsage, "--as-of is required (YYYY-MM-DD)")
	}
	d, ok := civil.ParseDate(s)
	if !ok || len(s) != 10 {
		return 0, sysexit.Errorf(sysexit.ErrUsage, "--as-of %q is not a date (YYYY-MM-DD)", s)
	}
	return d, nil
}

// DefaultPolicy is the policy `validate` evaluates when none is given.
const DefaultPolicy = "castro-tum-2018"

// LoadPolicy resolves --policy: the id of a shipped policy, or the URI of
// a YAML policy file (a local path, file://… or s3://…). A policy is
// checked completely here, before any data is read.
func LoadPolicy(ctx context.Context, idOrFile string, o location.Options) (*policy.Policy, error) {
	if idOrFile == "" {
		return nil, sysexit.Errorf(sysexit.ErrUsage, "--policy is required (a policy file, or a shipped id: %s)", strings.Join(policy.Shipped(), ", "))
	}
	if _, ok := policy.ShippedSource(idOrFile); ok {
		return policy.LoadShipped(idOrFile)
	}
	if !strings.ContainsAny(idOrFile, "/\\") && !strings.HasSuffix(idOrFile, ".yaml") && !strings.HasSuffix(idOrFile, ".yml") {
		return nil, sysexit.Errorf(sysexit.ErrConfig, "policy %q: no shipped policy has that id (shipped: %s); a policy file needs a path or a .yaml name",
			idOrFile, strings.Join(policy.Shipped(), ", "))
	}
	b, err := location.ReadFile(ctx, idOrFile, o)
	if err != nil {
		if errors.Is(err, storage.ErrNotExist) {
			return nil, sysexit.With(sysexit.ErrConfig, fmt.Errorf("policy %s: no such file", idOrFile))
		}
		return nil, err
	}
	return policy.Load(idOrFile, b)
}

// inputs lists the export objects under the input URI.
func inputs(ctx context.Context, cfg *Config) (storage.Store, []storage.ObjectInfo, error) {
	st, err := location.Open(ctx, cfg.Input, cfg.Locations)
	if err != nil {
		return nil, nil, err
	}
	objs, err := listInputs(ctx, st, cfg.Input)
	return st, objs, err
}

// listInputs lists the export objects of st, skipping hidden and marker
// files, sorted by key whatever order the store lists them in.
func listInputs(ctx context.Context, st storage.Store, uri string) ([]storage.ObjectInfo, error) {
	all, err := st.List(ctx, "")
	if err != nil {
		return nil, err
	}
	var objs []storage.ObjectInfo
	for _, o := range all {
		base := o.Key[strings.LastIndexByte(o.Key, '/')+1:]
		if strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_") {
			continue // hidden and marker files (_SUCCESS, .crc …), as Spark and Hive skip them
		}
		objs = append(objs, o)
	}
	// Object order decides "the first idnproceeding wins"; never trust a
	// store's listing order.
	sort.Slice(objs, func(i, j int) bool { return objs[i].Key < objs[j].Key })
	if len(objs) == 0 {
		return nil, sysexit.Errorf(sysexit.ErrNoInput, "input %s: no objects", uri)
	}
	return objs, nil
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// stageTimer records stage durations for logs and the manifest's timing.
type stageTimer struct {
	log     *slog.Logger
	prog    *progress.Progress
	seconds map[string]float64
	start   time.Time
	stage   string
}

func newStageTimer(log *slog.Logger) *stageTimer {
	return &stageTimer{log: log, seconds: map[string]float64{}}
}

func (t *stageTimer) begin(stage string) {
	t.end()
	t.stage, t.start = stage, time.Now()
	t.prog.SetStage(stage)
	t.log.Info("stage start", "stage", stage)
}

func (t *stageTimer) end(attrs ...any) {
	if t.stage == "" {
		return
	}
	d := time.Since(t.start)
	t.seconds[t.stage] = d.Seconds()
	t.log.Info("stage done", append([]any{"stage", t.stage, "seconds", d.Seconds()}, attrs...)...)
	t.stage = ""
}

func logger(cfg *Config) *slog.Logger {
	if cfg.Log != nil {
		return cfg.Log
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, nil))
}

// setup is what a job loads and checks before it reads any data.
type setup struct {
	asOf                int32
	pol                 *policy.Policy
	ref                 *reference.Data
	cal                 *schedule.Calendar
	capBytes, closBytes []byte
	// capSource is the capacity.json beside the calendar that describes
	// it (nil: none).
	capSource *manifest.CapacitySource
	in        storage.Store
	objs      []storage.ObjectInfo
}

// load checks the configuration and reads the small inputs: as-of date,
// policy, reference data, capacity calendar, closures, and the listing of
// the export. For `run` (strict) the as-of date, policy and capacity are
// required; `validate` defaults the as-of date to today (UTC) and the
// policy to DefaultPolicy, and checks the calendar only when given.
func load(ctx context.Context, cfg *Config, strict bool) (*setup, error) {
	su := &setup{}
	var err error
	if !strict && cfg.AsOf == "" {
		y, mo, d := time.Now().UTC().Date()
		su.asOf = civil.DaysFromCivil(y, int(mo), d)
	} else if su.asOf, err = ParseAsOf(cfg.AsOf); err != nil {
		return nil, err
	}
	pol := cfg.Policy
	if !strict && pol == "" {
		pol = DefaultPolicy
	}
	if su.pol, err = LoadPolicy(ctx, pol, cfg.Locations); err != nil {
		return nil, err
	}
	if su.asOf < su.pol.Effective {
		logger(cfg).Warn("the as-of date precedes the policy's effective date; evaluating it as a what-if",
			"policy", su.pol.ID, "effective", civil.FormatDate(su.pol.Effective), "as_of", civil.FormatDate(su.asOf))
	}
	if su.ref, err = refdata.Load(refdata.Paths{Courts: cfg.Courts, HearingLocations: cfg.HearingLocations}); err != nil {
		return nil, err
	}
	su.cal = schedule.NewCalendar()
	if cfg.Capacity != "" {
		if su.capBytes, err = location.ReadFile(ctx, cfg.Capacity, cfg.Locations); err != nil {
			return nil, err
		}
		if err := parseCapacity(su.cal, cfg.Capacity, su.capBytes, su.ref); err != nil {
			return nil, err
		}
		if su.capSource, err = capacitySource(ctx, cfg, su.capBytes); err != nil {
			return nil, err
		}
	}
	if cfg.Closures != "" {
		if su.closBytes, err = location.ReadFile(ctx, cfg.Closures, cfg.Locations); err != nil {
			return nil, err
		}
		if err := su.cal.ParseClosures(cfg.Closures, su.closBytes, su.ref); err != nil {
			return nil, err
		}
	}
	if cfg.Input == "" { // recal merge: the shards listed the export
		return su, nil
	}
	if su.in, su.objs, err = inputs(ctx, cfg); err != nil {
		return nil, err
	}
	return su, nil
}

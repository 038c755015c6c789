package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"time"

	"github.com/recal-project/recal/pipeline/job"
	"github.com/recal-project/recal/pipeline/manifest"
	"github.com/recal-project/recal/pipeline/metrics"
	"github.com/recal-project/recal/pipeline/nightly"
	"github.com/recal-project/recal/pipeline/progress"
)

// pusher holds the metrics flags of run and merge.
type pusher struct {
	gateway, job string
}

func pushFlags(fs *flag.FlagSet) *pusher {
	p := &pusher{}
	fs.StringVar(&p.gateway, "pushgateway", "", "push the run's metrics to this Prometheus Pushgateway URL when it ends (off by default)")
	fs.StringVar(&p.job, "pushgateway-job", "recal", "job name of the pushed metrics (one per nightly job, so that jobs do not replace each other's)")
	return p
}

// send pushes the metrics of a run that ended with res and err, when a
// gateway was given. A push that fails is logged; it never changes the
// run's outcome.
func (p *pusher) send(ctx context.Context, log *slog.Logger, grouping [][2]string, res *job.Result, prog *progress.Progress, runErr error) {
	if p.gateway == "" {
		return
	}
	r := &metrics.Run{Job: p.job, Grouping: grouping, Success: runErr == nil, Finished: time.Now(), ExitCode: classify(runErr)} // 0 for nil
	if res != nil && res.Manifest != nil && runErr == nil {
		c := res.Manifest.Counts
		r.Rows = map[string]int64{"input": c.InputRows, "assigned": c.Assigned, "remain_closed": c.RemainClosed, "overflow": c.Overflow, "rejected": c.Rejected}
		if ch := res.Manifest.Changes; ch != nil {
			r.Changes = map[string]int64{"new": ch.New, "unchanged": ch.Unchanged, "moved": ch.Moved, "released": ch.Released}
			r.Guard = guardMeasures(ch.Guard)
		}
		if !res.AlreadyComplete { // a no-op rerun read and wrote nothing
			r.StageSeconds = res.Manifest.Timing.Seconds
			s := prog.Snapshot()
			r.BytesRead, r.BytesWritten = s.BytesRead, s.BytesWritten
		}
	}
	if ge := (*nightly.GuardError)(nil); errors.As(runErr, &ge) {
		r.Guard = guardMeasures(&ge.Guard) // how far past its thresholds the refused night was
	}
	// The run's own context may be cancelled (SIGTERM): the push gets a
	// short one of its own so the failure still reaches the gateway.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := metrics.Push(pctx, &http.Client{Timeout: 10 * time.Second}, p.gateway, r); err != nil {
		log.Warn("metrics not pushed", "error", err)
		return
	}
	log.Info("metrics pushed", "success", r.Success, "exit_code", r.ExitCode)
}

// guardMeasures are the release guard's shares and thresholds as metrics.
func guardMeasures(g *manifest.Guard) []metrics.GuardMeasure {
	if g == nil {
		return nil
	}
	return []metrics.GuardMeasure{
		{Measure: "released_left_export", Share: g.ReleaseShare, Threshold: g.ReleaseLimit},
		{Measure: "input_rows", Share: g.InputShare, Threshold: g.InputFloor},
	}
}

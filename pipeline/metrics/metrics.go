// Package metrics pushes a run's metrics to a Prometheus Pushgateway at the
// end of the run (batch jobs are gone before a scraper could come by). The
// metrics are counts, durations and timestamps: never a value from a row.
//
// A successful run replaces its group's metrics (HTTP PUT), with
// recal_last_success_timestamp_seconds. A failed run only adds or
// replaces the failure metrics (HTTP POST), so the group keeps the last
// success's timestamp: "time since the last success" stays an alert that
// works.
package metrics

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Run is what a run reports.
type Run struct {
	// Job is the Pushgateway job name; Grouping adds label pairs (name,
	// value) to the group's key, e.g. the shard.
	Job      string
	Grouping [][2]string
	// Success reports whether the run committed (or found its output
	// complete). Finished is when it ended.
	Success  bool
	Finished time.Time
	// ExitCode is the run's exit code (0 on success).
	ExitCode int
	// Rows counts rows by outcome (input, assigned, remain_closed,
	// overflow, rejected); StageSeconds the wall time of each stage.
	Rows         map[string]int64
	StageSeconds map[string]float64
	// Changes counts hearings against the previous run by change (new,
	// unchanged, moved, released): nightly runs with --previous only.
	Changes map[string]int64
	// Guard is the release guard of a nightly run (--previous), pushed on
	// success and on failure alike: how close the night came.
	Guard []GuardMeasure
	// BytesRead and BytesWritten are the run's input and output volumes.
	BytesRead, BytesWritten int64
	// Labels are constant labels put on every metric (e.g. policy).
	Labels [][2]string
}

// GuardMeasure is one measure of the release guard: the night's share
// (released_left_export: of the previous run's hearings; input_rows: of
// its input rows) and the threshold it is held to (a limit for the first,
// a floor for the second).
type GuardMeasure struct {
	Measure          string
	Share, Threshold float64
}

// Text renders the run in the Prometheus text exposition format.
func (r *Run) Text() []byte {
	var b bytes.Buffer
	constLabels := func(extra ...[2]string) string {
		ls := append(slices.Clone(r.Labels), extra...)
		if len(ls) == 0 {
			return ""
		}
		parts := make([]string, len(ls))
		for i, l := range ls {
			parts[i] = fmt.Sprintf(`%s="%s"`, l[0], escape(l[1]))
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	metric := func(name, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
	}
	ts := float64(r.Finished.UnixMilli()) / 1000
	if r.Success {
		metric("recal_last_success_timestamp_seconds", "When the last successful run finished (Unix time).")
		fmt.Fprintf(&b, "recal_last_success_timestamp_seconds%s %.3f\n", constLabels(), ts)
		if len(r.Rows) > 0 {
			metric("recal_rows", "Rows of the last successful run, by outcome.")
			for _, k := range slices.Sorted(maps.Keys(r.Rows)) {
				fmt.Fprintf(&b, "recal_rows%s %d\n", constLabels([2]string{"outcome", k}), r.Rows[k])
			}
		}
		if len(r.Changes) > 0 {
			metric("recal_hearing_changes", "Hearings of the last successful run against its previous run, by change (moved and released: standing hearings that had to give way).")
			for _, k := range slices.Sorted(maps.Keys(r.Changes)) {
				fmt.Fprintf(&b, "recal_hearing_changes%s %d\n", constLabels([2]string{"change", k}), r.Changes[k])
			}
		}
		if len(r.StageSeconds) > 0 {
			metric("recal_stage_duration_seconds", "Wall time of each stage of the last successful run.")
			var total float64
			for _, k := range slices.Sorted(maps.Keys(r.StageSeconds)) {
				fmt.Fprintf(&b, "recal_stage_duration_seconds%s %g\n", constLabels([2]string{"stage", k}), r.StageSeconds[k])
				total += r.StageSeconds[k]
			}
			metric("recal_run_duration_seconds", "Wall time of the last successful run.")
			fmt.Fprintf(&b, "recal_run_duration_seconds%s %g\n", constLabels(), total)
		}
		metric("recal_bytes_read", "Bytes of export objects the last successful run read.")
		fmt.Fprintf(&b, "recal_bytes_read%s %d\n", constLabels(), r.BytesRead)
		metric("recal_bytes_written", "Bytes of output objects the last successful run wrote.")
		fmt.Fprintf(&b, "recal_bytes_written%s %d\n", constLabels(), r.BytesWritten)
	}
	metric("recal_last_run_timestamp_seconds", "When the last run, successful or not, finished (Unix time).")
	fmt.Fprintf(&b, "recal_last_run_timestamp_seconds%s %.3f\n", constLabels(), ts)
	metric("recal_last_run_exit_code", "Exit code of the last run (contract §4; 0 is success).")
	fmt.Fprintf(&b, "recal_last_run_exit_code%s %d\n", constLabels(), r.ExitCode)
	if len(r.Guard) > 0 {
		metric("recal_release_guard_share", "The last nightly run's release guard measures: the share of the previous run's hearings released because their cases left the export, and tonight's input rows as a share of the previous run's (pushed by refused runs too).")
		for _, g := range r.Guard {
			fmt.Fprintf(&b, "recal_release_guard_share%s %g\n", constLabels([2]string{"measure", g.Measure}), g.Share)
		}
		metric("recal_release_guard_threshold", "The thresholds of those measures: --release-limit (a ceiling) and --input-floor (a floor).")
		for _, g := range r.Guard {
			fmt.Fprintf(&b, "recal_release_guard_threshold%s %g\n", constLabels([2]string{"measure", g.Measure}), g.Threshold)
		}
	}
	if !r.Success {
		metric("recal_last_failure_timestamp_seconds", "When the last failed run finished (Unix time).")
		fmt.Fprintf(&b, "recal_last_failure_timestamp_seconds%s %.3f\n", constLabels(), ts)
	}
	return b.Bytes()
}

func escape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// GroupURL returns the Pushgateway URL of the run's group under gateway.
// Label values go base64url-encoded when they hold a slash or are empty,
// as the Pushgateway's API asks.
func (r *Run) GroupURL(gateway string) (string, error) {
	u, err := url.Parse(strings.TrimSuffix(gateway, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("--pushgateway %q: want an http:// or https:// URL", redact(gateway))
	}
	if r.Job == "" {
		return "", fmt.Errorf("metrics: no job name")
	}
	seg := func(name, value string) string {
		if value == "" || strings.Contains(value, "/") {
			if value == "" {
				return name + "@base64/="
			}
			return name + "@base64/" + base64.URLEncoding.EncodeToString([]byte(value))
		}
		return name + "/" + value
	}
	p := u.Path + "/metrics/" + seg("job", r.Job)
	for _, g := range r.Grouping {
		p += "/" + seg(g[0], g[1])
	}
	u.Path, u.RawPath = p, ""
	return u.String(), nil
}

// Push sends the run's metrics to the Pushgateway at gateway: PUT for a
// success, POST for a failure (see the package comment). Errors name the
// gateway's host, never credentials in its URL.
func Push(ctx context.Context, client *http.Client, gateway string, r *Run) error {
	target, err := r.GroupURL(gateway)
	if err != nil {
		return err
	}
	method := http.MethodPost
	if r.Success {
		method = http.MethodPut
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(r.Text()))
	if err != nil {
		return fmt.Errorf("push metrics to %s: %w", redact(gateway), err)
	}
	req.Header.Set("Content-Type", "text/plain; version=0.0.4")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("push metrics to %s: %w", redact(gateway), redactErr(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("push metrics to %s: %s: %s", redact(gateway), resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// redact returns the gateway URL without user information.
func redact(gateway string) string {
	u, err := url.Parse(gateway)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	return u.String()
}

// redactErr drops the URL (which may hold credentials) from a client
// error, keeping its cause.
func redactErr(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

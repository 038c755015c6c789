package metrics_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/recal-project/recal/pipeline/metrics"
	"github.com/recal-project/recal/pipeline/metrics/pushgatewaytest"
)

func TestGroupURL(t *testing.T) {
	for _, c := range []struct {
		gateway  string
		grouping [][2]string
		want     string
	}{
		{"http://gw:9091", nil, "http://gw:9091/metrics/job/recal"},
		{"http://gw:9091/", [][2]string{{"shard", "3"}}, "http://gw:9091/metrics/job/recal/shard/3"},
		{"https://gw/base", [][2]string{{"output", "s3://b/p"}}, "https://gw/base/metrics/job/recal/output@base64/czM6Ly9iL3A="},
		{"http://gw", [][2]string{{"shard", ""}}, "http://gw/metrics/job/recal/shard@base64/="},
	} {
		r := &metrics.Run{Job: "recal", Grouping: c.grouping}
		got, err := r.GroupURL(c.gateway)
		if err != nil || got != c.want {
			t.Errorf("GroupURL(%s, %v) = %s, %v; want %s", c.gateway, c.grouping, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "gw:9091", "ftp://gw", "http://"} {
		if _, err := (&metrics.Run{Job: "recal"}).GroupURL(bad); err == nil {
			t.Errorf("GroupURL(%q) accepted", bad)
		}
	}
	// Credentials in the URL never show in an error.
	err := metrics.Push(context.Background(), http.DefaultClient, "http://user:s3cret@127.0.0.1:1", &metrics.Run{Job: "recal"})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("push to a closed port: %v", err)
	}
}

// TestPushToPushgateway pushes a success and then a failure to a real
// Pushgateway and reads back what it serves: the success's rows, stage
// times and timestamp; after the failure, the failure's exit code and
// timestamp while the last success's timestamp and rows stay.
func TestPushToPushgateway(t *testing.T) {
	g := pushgatewaytest.Start(t)
	ctx := context.Background()
	ok := &metrics.Run{Job: "recal", Grouping: [][2]string{{"shard", "1"}}, Success: true, Finished: time.Unix(1767225600, 0),
		Rows:         map[string]int64{"input": 100, "assigned": 60, "remain_closed": 30, "overflow": 5, "rejected": 5},
		StageSeconds: map[string]float64{"read": 1.5, "write": 0.25}, BytesRead: 1000, BytesWritten: 2000,
		Changes: map[string]int64{"new": 7, "unchanged": 50, "moved": 3, "released": 4},
		Guard:   []metrics.GuardMeasure{{Measure: "released_left_export", Share: 0.05, Threshold: 0.1}, {Measure: "input_rows", Share: 1.01, Threshold: 0.8}}}
	if err := metrics.Push(ctx, http.DefaultClient, g.URL, ok); err != nil {
		t.Fatal(err)
	}
	lbl := `instance="",job="recal",shard="1"`
	for series, want := range map[string]string{
		`recal_last_success_timestamp_seconds{` + lbl + `}`:                         "1.7672256e+09",
		`recal_rows{` + lbl + `,outcome="assigned"}`:                                "60",
		`recal_stage_duration_seconds{` + lbl + `,stage="read"}`:                    "1.5",
		`recal_run_duration_seconds{` + lbl + `}`:                                   "1.75",
		`recal_bytes_written{` + lbl + `}`:                                          "2000",
		`recal_hearing_changes{` + lbl + `,change="moved"}`:                         "3",
		`recal_last_run_exit_code{` + lbl + `}`:                                     "0",
		`recal_release_guard_share{` + lbl + `,measure="released_left_export"}`:     "0.05",
		`recal_release_guard_threshold{` + lbl + `,measure="released_left_export"}`: "0.1",
		`recal_release_guard_share{` + lbl + `,measure="input_rows"}`:               "1.01",
		`recal_release_guard_threshold{` + lbl + `,measure="input_rows"}`:           "0.8",
	} {
		if got := g.Value(t, reorder(series)); got != want {
			t.Errorf("%s = %s, want %s", series, got, want)
		}
	}
	// A night the release guard refused pushes how far past it was.
	fail := &metrics.Run{Job: "recal", Grouping: [][2]string{{"shard", "1"}}, Finished: time.Unix(1767312000, 0), ExitCode: 65,
		Guard: []metrics.GuardMeasure{{Measure: "released_left_export", Share: 1, Threshold: 0.1}, {Measure: "input_rows", Share: 0, Threshold: 0.8}}}
	if err := metrics.Push(ctx, http.DefaultClient, g.URL, fail); err != nil {
		t.Fatal(err)
	}
	for series, want := range map[string]string{
		`recal_last_success_timestamp_seconds{` + lbl + `}`:                     "1.7672256e+09", // kept
		`recal_rows{` + lbl + `,outcome="assigned"}`:                            "60",
		`recal_last_failure_timestamp_seconds{` + lbl + `}`:                     "1.767312e+09",
		`recal_last_run_exit_code{` + lbl + `}`:                                 "65",
		`recal_release_guard_share{` + lbl + `,measure="released_left_export"}`: "1",
		`recal_release_guard_share{` + lbl + `,measure="input_rows"}`:           "0",
	} {
		if got := g.Value(t, reorder(series)); got != want {
			t.Errorf("after the failure: %s = %s, want %s", series, got, want)
		}
	}
	// A new success replaces the group: the failure's timestamp goes.
	ok.Finished = time.Unix(1767398400, 0)
	if err := metrics.Push(ctx, http.DefaultClient, g.URL, ok); err != nil {
		t.Fatal(err)
	}
	if m := g.Metrics(t, "recal_last_failure_timestamp_seconds{"); len(m) != 0 {
		t.Errorf("a success kept the failure's series: %v", m)
	}
}

// reorder puts a series' labels in the order the Pushgateway prints them
// (sorted by name).
func reorder(series string) string {
	name, rest, _ := strings.Cut(series, "{")
	labels := strings.Split(strings.TrimSuffix(rest, "}"), ",")
	for i := range labels {
		for j := i + 1; j < len(labels); j++ {
			if labels[j] < labels[i] {
				labels[i], labels[j] = labels[j], labels[i]
			}
		}
	}
	return name + "{" + strings.Join(labels, ",") + "}"
}

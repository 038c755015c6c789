package job

import (
	"testing"
	"time"
)

func TestResolveDates(t *testing.T) {
	now := time.Date(2026, 3, 2, 23, 30, 0, 0, time.FixedZone("EST", -5*3600)) // 2026-03-03 in UTC
	for _, c := range []struct {
		name          string
		in            Config
		asOf, out, pr string
		bad           bool
	}{
		{"today, placeholders", Config{AsOf: "today", Output: "s3://r/runs/{as_of}", Previous: "s3://r/runs/{as_of-1}"}, "2026-03-03", "s3://r/runs/2026-03-03", "s3://r/runs/2026-03-02", false},
		{"a date, across a month", Config{AsOf: "2026-03-01", Output: "/runs/{as_of}", Previous: "/runs/{as_of-3}"}, "2026-03-01", "/runs/2026-03-01", "/runs/2026-02-26", false},
		{"no placeholders", Config{AsOf: "2026-01-15", Output: "/out"}, "2026-01-15", "/out", "", false},
		{"placeholder without a date", Config{AsOf: "", Output: "/runs/{as_of}"}, "", "", "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.in
			err := ResolveDates(&cfg, now)
			if (err != nil) != c.bad {
				t.Fatalf("error %v, want error %v", err, c.bad)
			}
			if c.bad {
				return
			}
			if cfg.AsOf != c.asOf || cfg.Output != c.out || cfg.Previous != c.pr {
				t.Fatalf("as-of %q output %q previous %q", cfg.AsOf, cfg.Output, cfg.Previous)
			}
		})
	}
}

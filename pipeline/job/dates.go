package job

import (
	"regexp"
	"strconv"
	"time"

	"github.com/recal-project/recal/pipeline/sysexit"
)

// datePattern matches the date placeholders of URIs: {as_of} and
// {as_of-N} (N days before the as-of date).
var datePattern = regexp.MustCompile(`\{as_of(?:-([0-9]{1,4}))?\}`)

// ResolveDates makes a nightly job's configuration fixed for the night:
// an as-of date of "today" becomes today's UTC date, and {as_of} or
// {as_of-N} in the input, capacity, closures, output and previous URIs
// become that date, or N days before it (YYYY-MM-DD). The run records
// the resolved values, so a rerun of the same night names them.
func ResolveDates(cfg *Config, now time.Time) error {
	if cfg.AsOf == "today" {
		cfg.AsOf = now.UTC().Format(time.DateOnly)
	}
	asOf, err := time.Parse(time.DateOnly, cfg.AsOf)
	if err != nil {
		for _, s := range []string{cfg.Input, cfg.Capacity, cfg.Closures, cfg.Output, cfg.Previous} {
			if datePattern.MatchString(s) {
				return sysexit.Errorf(sysexit.ErrUsage, "%s uses a date placeholder, but --as-of %q is not a date (YYYY-MM-DD or today)", s, cfg.AsOf)
			}
		}
		return nil // the run reports the bad date itself
	}
	for _, p := range []*string{&cfg.Input, &cfg.Capacity, &cfg.Closures, &cfg.Output, &cfg.Previous} {
		*p = datePattern.ReplaceAllStringFunc(*p, func(m string) string {
			days := 0
			if sub := datePattern.FindStringSubmatch(m); sub[1] != "" {
				days, _ = strconv.Atoi(sub[1])
			}
			return asOf.AddDate(0, 0, -days).Format(time.DateOnly)
		})
	}
	return nil
}

package source

import "github.com/recal-project/recal/transforms/civil"

// Sane date bounds for decoded values: anything outside is Malformed, so a
// wrapped INT96 or a garbage epoch offset never becomes a plausible date.
var (
	minSaneDay = civil.DaysFromCivil(1800, 1, 1)
	maxSaneDay = civil.DaysFromCivil(2200, 12, 31)
)

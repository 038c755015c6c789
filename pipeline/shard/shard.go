// Package shard splits a run across processes by court.
package shard

import (
	"fmt"
	"hash/fnv"

	"github.com/recal-project/recal/pipeline/sysexit"
	"github.com/recal-project/recal/transforms/reference"
)

// Sharding (docs/operations.md): a run split across N processes, each
// scheduling the courts that hash to its index. Scheduling is independent
// per court, so shards never need each other's cases, with one exception
// the design has to honour: duplicate idnproceedings. The first valid
// record of an id wins, ordered by object key then row, whatever court
// each record names; so every shard reads and validates every row, keeps
// the ids of all valid rows through deduplication, and only then drops
// the rows of other shards' courts. Policy evaluation, scheduling, the
// report's aggregation and the writers run on the shard's rows only.
//
// Every row has exactly one owning shard: the shard of its base_city_code
// when that is a known court, else shard 0 (rows rejected for an unknown
// or missing court). The owner counts the row (input_rows, the inputs'
// rows, data quality) and writes its outcome.

// Of returns the shard (0 ≤ shard < count) that schedules court:
// FNV-1a of the court code, modulo count. It depends on nothing but the
// code, so it is the same on every machine and for every export.
func Of(court string, count int) int {
	h := fnv.New32a()
	h.Write([]byte(court))
	return int(h.Sum32() % uint32(count))
}

// Plan is one shard's share of the courts. A nil *Plan is an unsharded
// run: it owns everything.
type Plan struct {
	index, count int
	// own[c] reports whether the shard schedules court index c.
	own []bool
}

// New returns the plan of shard index of count, or nil for an unsharded
// run (count 1).
func New(ref *reference.Data, index, count int) *Plan {
	if count <= 1 {
		return nil
	}
	p := &Plan{index: index, count: count, own: make([]bool, len(ref.Courts))}
	for i, c := range ref.Courts {
		p.own[i] = Of(c.Code, count) == index
	}
	return p
}

// OwnsCourt reports whether the shard schedules the court of index court.
func (p *Plan) OwnsCourt(court uint16) bool {
	return p == nil || p.own[court]
}

// OwnsRow reports whether the shard owns a row whose court index is court
// (-1: not a known court, owned by shard 0).
func (p *Plan) OwnsRow(court int) bool {
	if p == nil {
		return true
	}
	if court < 0 {
		return p.index == 0
	}
	return p.own[court]
}

// Check validates --shard-index and --shard-count.
func Check(index, count int) error {
	if count < 1 {
		return sysexit.Errorf(sysexit.ErrUsage, "--shard-count=%d: want 1 or more", count)
	}
	if index < 0 || index >= count {
		return sysexit.Errorf(sysexit.ErrUsage, "--shard-index=%d: want 0 to %d (--shard-count=%d)", index, count-1, count)
	}
	return nil
}

// Prefix is where shard index of count keeps what only `recal merge`
// reads: its manifest and _SUCCESS, its impact state, and its parts of the
// datasets that merge combines in order (remain_closed, overflow,
// rejects). The leading underscore keeps Spark, DuckDB and pandas from
// taking it for data.
func Prefix(index, count int) string {
	return fmt.Sprintf("%s%05d-of-%05d/", Dir, index, count)
}

// Dir holds the shards' staging prefixes.
const Dir = "_shards/"

// ImpactStateKey is a shard's impact.Builder state, under its prefix.
const ImpactStateKey = "impact-state.json"

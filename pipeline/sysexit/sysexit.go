// Package sysexit is recal's exit-code policy (contract §4, sysexits), so
// that orchestrators can tell retryable failures from fatal ones.
//
// Libraries never choose an exit code. They return errors that wrap a
// sentinel: one of their own (storage.ErrUnavailable, source.ErrCorrupt,
// policy.ErrPolicy, …) or, where no package sentinel says it, one of the
// kinds below (ErrUsage, ErrData, …), attached with Errorf or With without
// changing the message. Code is the one table from sentinels to codes; the
// command layer (cmd/recal) calls it once, for the exit status and the
// pushed metrics.
package sysexit

import (
	"context"
	"errors"
	"fmt"

	"github.com/recal-project/recal/pipeline/claim"
	"github.com/recal-project/recal/pipeline/location"
	"github.com/recal-project/recal/pipeline/source"
	"github.com/recal-project/recal/pipeline/storage"
	"github.com/recal-project/recal/transforms/policy"
	"github.com/recal-project/recal/transforms/reference"
	"github.com/recal-project/recal/transforms/schedule"
)

// Exit codes of contract §4.
const (
	OK          = 0
	Usage       = 64
	DataErr     = 65
	NoInput     = 66
	Unavailable = 69
	Software    = 70
	IOErr       = 74
	TempFail    = 75
	Config      = 78
)

// Kinds of failure, for errors no package sentinel describes.
var (
	// ErrUsage: bad flags or arguments, an output holding another job.
	ErrUsage = errors.New("usage error")
	// ErrData: input data that is wrong (a calendar, a shard's manifest).
	ErrData = errors.New("input data error")
	// ErrNoInput: an input that is not there.
	ErrNoInput = errors.New("input missing")
	// ErrInternal: a bug: an invariant of recal's own broke.
	ErrInternal = errors.New("internal error")
	// ErrIO: a local I/O failure (temporary files).
	ErrIO = errors.New("I/O error")
	// ErrTemporary: try again later (another run committed meanwhile).
	ErrTemporary = errors.New("temporary failure")
	// ErrConfig: a bad policy or configuration.
	ErrConfig = errors.New("configuration error")
)

// kinded is an error with a kind attached; its message is the error's.
type kinded struct {
	kind, err error
}

func (e *kinded) Error() string   { return e.err.Error() }
func (e *kinded) Unwrap() []error { return []error{e.kind, e.err} }

// With attaches kind to err (nil stays nil); the message is err's.
func With(kind, err error) error {
	if err == nil {
		return nil
	}
	return &kinded{kind: kind, err: err}
}

// Errorf formats an error (%w wraps as in fmt.Errorf) of the given kind.
func Errorf(kind error, format string, a ...any) error {
	return &kinded{kind: kind, err: fmt.Errorf(format, a...)}
}

// Sentinel defines a package's sentinel error of a kind: its message is
// msg, and errors.Is(it, kind) holds.
func Sentinel(kind error, msg string) error { return &kinded{kind: kind, err: errors.New(msg)} }

// rule maps errors wrapping target to code.
type rule struct {
	target error
	code   int
}

// table is the policy, in order: the first rule whose target the error
// wraps decides. What is retryable comes first, since it is the cause of
// whatever else broke (a cancelled read the decoder took for bad bytes, a
// store that failed under a step that named its own kind).
var table = []rule{
	{claim.ErrClaimed, TempFail},
	{claim.ErrLost, TempFail},
	{context.Canceled, TempFail},
	{context.DeadlineExceeded, TempFail},
	{storage.ErrUnavailable, Unavailable},

	{ErrUsage, Usage},
	{ErrData, DataErr},
	{ErrNoInput, NoInput},
	{ErrInternal, Software},
	{ErrIO, IOErr},
	{ErrTemporary, TempFail},
	{ErrConfig, Config},

	{location.ErrBadURI, Usage},
	{storage.ErrInvalidKey, Usage},
	{reference.ErrBadReference, Config},
	{policy.ErrPolicy, Config},
	{storage.ErrNotExist, NoInput},
	{source.ErrRead, IOErr},
	{source.ErrCorrupt, DataErr},
	{source.ErrSchema, DataErr},
	{source.ErrRowCount, DataErr},
	{source.ErrUnsupported, DataErr},
	{schedule.ErrField, DataErr},
	{schedule.ErrHeader, DataErr},
	{schedule.ErrOverlap, DataErr},
}

// Code is the exit code for err: 0 for nil, the first matching rule of the
// table, else 70 (an error no rule knows is a bug).
func Code(err error) int {
	if err == nil {
		return OK
	}
	for _, r := range table {
		if errors.Is(err, r.target) {
			return r.code
		}
	}
	return Software
}

// Package sysexit maps errors to the exit codes of contract §4 (sysexits),
// so that orchestrators can tell retryable failures from fatal ones.
package sysexit

import (
	"context"
	"errors"
	"fmt"
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

// Error attaches an exit code to an error.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// With wraps err with an exit code (nil stays nil).
func With(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}

// Errorf formats an error with an exit code.
func Errorf(code int, format string, a ...any) error {
	return &Error{Code: code, Err: fmt.Errorf(format, a...)}
}

// Classifier maps a sentinel error to an exit code.
type Classifier struct {
	Target error
	Code   int
}

// CodeOf returns the exit code for err: an explicit *Error wins, then the
// first matching classifier, then cancellation (75), then 70.
func CodeOf(err error, cls ...Classifier) int {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	for _, c := range cls {
		if errors.Is(err, c.Target) {
			return c.Code
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return TempFail
	}
	return Software
}

package policy

import (
	"errors"
	"fmt"
	"strings"
)

// ErrPolicy is wrapped by every error that makes a policy unusable, so
// callers can map them all to one exit code (78).
var ErrPolicy = errors.New("bad policy")

// Errors wrapped by Error, in the manner of encoding/csv's ErrQuote and
// friends. Each also wraps ErrPolicy.
var (
	ErrSyntax       = fmt.Errorf("%w: syntax error", ErrPolicy)
	ErrUnknownKey   = fmt.Errorf("%w: unknown key", ErrPolicy)
	ErrMissingKey   = fmt.Errorf("%w: missing key", ErrPolicy)
	ErrValue        = fmt.Errorf("%w: bad value", ErrPolicy)
	ErrDuplicateID  = fmt.Errorf("%w: duplicate rule id", ErrPolicy)
	ErrExprSyntax   = fmt.Errorf("%w: expression syntax error", ErrPolicy)
	ErrUnknownField = fmt.Errorf("%w: unknown field", ErrPolicy)
	ErrType         = fmt.Errorf("%w: type error", ErrPolicy)
	ErrEval         = fmt.Errorf("%w: evaluation error", ErrPolicy)
)

// Error is one problem in a policy file, located by file, line and column
// (1-based; 0 when unknown) and by the path of the YAML key (for example
// "tiers[1].when").
type Error struct {
	File         string
	Line, Column int
	Path         string
	// Msg says what is wrong and what was expected.
	Msg string
	// Err is one of the sentinel errors above.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ErrorList is every problem found in one policy file, in file order. A
// policy is checked completely before it is refused, so that its author
// can fix everything in one pass.
type ErrorList []*Error

func (l ErrorList) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	if len(l) > 1 {
		return fmt.Sprintf("%d problems in policy:\n  %s", len(l), strings.Join(s, "\n  "))
	}
	return strings.Join(s, "")
}

// Unwrap lets errors.Is see every listed error's sentinel.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// maxErrors bounds the list; past it the author has enough to fix.
const maxErrors = 25

package exitcode

import (
	"errors"
	"fmt"
)

// The exit codes of every failcast command.
const (
	OK       = 0
	Internal = 1
	Usage    = 2
	Input    = 3
	Locked   = 4
)

// Error is an error marked with the exit code it should end a command
// with.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Wrap marks err with code; a nil err stays nil.
func Wrap(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}

// Usagef returns a usage error (exit 2).
func Usagef(format string, args ...any) error {
	return &Error{Code: Usage, Err: fmt.Errorf(format, args...)}
}

// Inputf returns a bad-input error (exit 3).
func Inputf(format string, args ...any) error {
	return &Error{Code: Input, Err: fmt.Errorf(format, args...)}
}

// AsInput marks err as bad input (exit 3); a nil err stays nil.
func AsInput(err error) error { return Wrap(Input, err) }

// Of returns the exit code for err: OK for nil, the code of the
// outermost *Error in its chain, and Internal otherwise.
func Of(err error) int {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Name is the short name of a code for logs and metrics: ok, internal,
// usage, input, locked.
func Name(code int) string {
	switch code {
	case OK:
		return "ok"
	case Usage:
		return "usage"
	case Input:
		return "input"
	case Locked:
		return "locked"
	}
	return "internal"
}

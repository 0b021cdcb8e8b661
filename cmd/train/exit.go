package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/failcast/failcast/models/registry"
)

// Exit codes (documented in --help and docs/train.md).
const (
	exitOK       = 0 // published, or kept out because worse than the champion
	exitInternal = 1 // internal failure
	exitUsage    = 2 // bad usage
	exitData     = 3 // bad or missing input data
	exitLocked   = 4 // another run holds the registry lock
)

// dataError is bad or missing input data: exit code 3.
type dataError struct{ err error }

func (e *dataError) Error() string { return e.err.Error() }
func (e *dataError) Unwrap() error { return e.err }

func dataErrorf(format string, args ...any) error {
	return &dataError{fmt.Errorf(format, args...)}
}

// asDataError marks err (if not nil) as an input data error.
func asDataError(err error) error {
	if err == nil {
		return nil
	}
	return &dataError{err}
}

// exitCode maps a run's error to its exit code.
func exitCode(err error) int {
	var ue *usageError
	var de *dataError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return exitInternal // interrupted, whatever stage it reached
	case errors.Is(err, registry.ErrLocked):
		return exitLocked
	case errors.As(err, &de):
		return exitData
	}
	return exitInternal
}

package main

import (
	"errors"

	"github.com/deskfleet/deskfleet/provider/connect"
)

// hintedError is an error that carries the suggestion run prints after it.
type hintedError struct {
	err  error
	hint string
}

func (e *hintedError) Error() string { return e.err.Error() }
func (e *hintedError) Unwrap() error { return e.err }
func (e *hintedError) Hint() string  { return e.hint }

// withHint attaches a one-line suggestion to err; run prints it as "hint: ..." after the error.
func withHint(err error, hint string) error { return &hintedError{err: err, hint: hint} }

// hintFor returns a one-line suggestion for errors whose cause a user can act on: the hint attached
// with withHint, else one derived from the API error's kind or the connection's failure (connect.Hint),
// else "".
func hintFor(err error) string {
	var h *hintedError
	if errors.As(err, &h) {
		return h.hint
	}
	return connect.Hint(err)
}

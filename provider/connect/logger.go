package connect

import (
	"fmt"
	"io"
	"log/slog"
)

// NewLogger builds the logger a front end gives the client, writing to w (stderr): level is debug,
// info, warn or error (no level ever logs a secret or a signature), format text or json; an error
// names the flag (--log-level, --log-format) and what it takes.
func NewLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

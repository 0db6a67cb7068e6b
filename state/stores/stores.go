// Package stores opens a state store from the location a person gives (`--state`,
// DESKFLEET_STATE): a PostgreSQL URL or keyword DSN for a team's shared state, else a bbolt file. It
// also says who this process is as a lock holder, and shows locations and command lines without their
// secrets. Every front end opens its store here, so a location means the same everywhere.
package stores

import (
	"context"
	"errors"
	"net/url"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/bolt"
	"github.com/deskfleet/deskfleet/state/postgres"
)

// ErrCannotRestore is Restore's error for a store that keeps no previous generation.
var ErrCannotRestore = errors.New("this state keeps no previous generation to restore")

// IsShared reports whether location names a PostgreSQL database (a URL or a keyword DSN).
func IsShared(location string) bool { return postgres.IsDSN(location) }

// Open opens the store at location: a PostgreSQL database, whose schema is created or migrated on
// first use, or else a bbolt file, which nothing creates until the first write (an apply's lock): a
// missing file reads as empty. The caller closes the store. Errors never carry a password.
func Open(ctx context.Context, location string) (state.Store, error) {
	if IsShared(location) {
		s, err := postgres.Open(ctx, location, postgres.Options{})
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	s, err := bolt.Open(location, bolt.Options{})
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return s, nil
}

// Restore puts back the previous generation of the state at location: for a damaged file, the whole
// file; otherwise the damaged records (fleet's only, when not ""). State that is not damaged is left
// alone unless force. holder takes the locks a database needs.
func Restore(ctx context.Context, location, fleet string, holder state.Holder, force bool) ([]state.Restored, error) {
	if !IsShared(location) {
		return bolt.Restore(location, fleet, force, bolt.Options{})
	}
	st, err := postgres.Open(ctx, location, postgres.Options{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return st.Restore(ctx, fleet, holder, force)
}

// Describe shows a location, or any argument, without its secret: a PostgreSQL location has its
// password masked (URL or keyword DSN, postgres.Redact); any other URL with user information
// (https://user:pass@host/...) has its password masked, and a user information without a password
// (https://TOKEN@host/..., a common way to pass a token) is masked whole; a password= query parameter
// is masked too. Anything else is shown as it is.
func Describe(location string) string {
	if IsShared(location) {
		return postgres.Redact(location)
	}
	if strings.Contains(location, "://") {
		return redactURL(location)
	}
	return location
}

// redactURL masks the secrets of a URL that is not a PostgreSQL location: postgres.Redact masks the
// password of its user information (and everything up to the last '@' when the URL is ambiguous) and
// password= query parameters, whatever the scheme; a user information that is only a user is then
// masked whole, since over HTTP it is usually a token. A URL that parses without user information
// and has no password parameter is kept as it is, an '@' in its path included.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.Opaque == "" && u.User == nil &&
		!strings.Contains(strings.ToLower(u.RawQuery), "password") {
		return s
	}
	s = postgres.Redact(s)
	i := strings.Index(s, "://")
	head, body := s[:i+3], s[i+3:]
	authority := body
	if j := strings.IndexAny(authority, "/?#"); j >= 0 {
		authority = authority[:j]
	}
	at := strings.LastIndex(authority, "@")
	if at < 0 || strings.Contains(authority[:at], ":") || authority[:at] == mask {
		return s
	}
	return head + mask + body[at:]
}

// mask replaces a secret (as postgres.Redact writes it).
const mask = "***"

// CommandLine is args as a journal records them: every argument that is, or is a flag's value that is,
// a location or URL has its secret masked as Describe does (a PostgreSQL password, the password or
// token in the user information of any URL such as --endpoint https://user:pass@host/gcw), since the
// journal is read by everyone who can read the state.
func CommandLine(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if name, value, ok := strings.Cut(a, "="); ok && strings.HasPrefix(name, "-") {
			out[i] = name + "=" + Describe(value)
			continue
		}
		out[i] = Describe(a)
	}
	return strings.Join(out, " ")
}

// CurrentHolder describes this process as a lock holder: the user (from the OS, else $USER), host,
// pid, the command it runs, since now.
func CurrentHolder(command string) state.Holder {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = "unknown"
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return state.Holder{User: name, Host: host, PID: os.Getpid(), Command: command, Since: time.Now()}
}

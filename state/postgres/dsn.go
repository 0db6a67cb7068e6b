package postgres

import (
	"context"
	"errors"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/deskfleet/deskfleet/state"
)

// mask replaces a password in what this package prints.
const mask = "***"

// IsDSN reports whether s is a PostgreSQL connection URL: postgres:// or postgresql:// (the scheme in
// any case). A state location that is not one is a file path.
func IsDSN(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// Redact returns dsn with its password replaced by "***": the URL's user information
// (postgres://user:***@host/db) and a password= query parameter. A URL that does not parse (or whose
// parts are ambiguous, such as an '@' after the host) has everything between "://" and its last '@'
// masked, user included. A keyword/value string (host=... password=...) has its password= value
// masked. Redact never returns the password; it is what messages and Describe print.
func Redact(dsn string) string {
	i := strings.Index(dsn, "://")
	if i < 0 {
		return keywordPassword.ReplaceAllString(dsn, "${1}"+mask)
	}
	head, body := dsn[:i+3], dsn[i+3:]
	rest, query, hasQuery := strings.Cut(body, "?")

	u, err := url.Parse(dsn)
	if err != nil || u.Opaque != "" || strings.Contains(u.Path, "@") || strings.Contains(u.Fragment, "@") ||
		strings.Contains(rest, "#") {
		// Ambiguous: mask the whole user information, wherever the last '@' is.
		if at := strings.LastIndex(body, "@"); at >= 0 {
			return head + mask + body[at:]
		}
		if hasQuery {
			return head + rest + "?" + redactQuery(query)
		}
		return dsn
	}
	// The URL parsed: its user information is what precedes the authority's last '@'.
	authority := rest
	if j := strings.IndexByte(authority, '/'); j >= 0 {
		authority = authority[:j]
	}
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		if user, _, hasPassword := strings.Cut(authority[:at], ":"); hasPassword {
			rest = user + ":" + mask + rest[at:]
		}
	}
	if hasQuery {
		return head + rest + "?" + redactQuery(query)
	}
	return head + rest
}

// keywordPassword matches a password in a keyword/value connection string: quoted or not.
var keywordPassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'?|\S+)`)

// redactQuery masks the value of every password parameter of a raw query, keeping the rest as written.
func redactQuery(query string) string {
	parts := strings.Split(query, "&")
	for i, p := range parts {
		k, _, _ := strings.Cut(p, "=")
		if key, err := url.QueryUnescape(k); (err == nil && strings.EqualFold(key, "password")) || strings.EqualFold(k, "password") {
			parts[i] = k + "=" + mask
		}
	}
	return strings.Join(parts, "&")
}

// dsnSecrets returns the passwords to scrub from messages: dsn's as written and decoded, in every
// place Redact masks, longest first (so that a password containing another is replaced whole).
func dsnSecrets(dsn string, more ...string) []string {
	var found []string
	add := func(s string) {
		if s != "" {
			found = append(found, s, url.QueryEscape(s), url.PathEscape(s))
			if d, err := url.QueryUnescape(s); err == nil {
				found = append(found, d)
			}
		}
	}
	for _, m := range more {
		add(m)
	}
	if i := strings.Index(dsn, "://"); i >= 0 {
		body := dsn[i+3:]
		rest, query, _ := strings.Cut(body, "?")
		if at := strings.LastIndex(body, "@"); at >= 0 {
			// The raw user information, as any parser might read it.
			info := body[:at]
			if _, pw, ok := strings.Cut(info, ":"); ok {
				add(pw)
			}
			if at := strings.LastIndex(rest, "@"); at >= 0 {
				if _, pw, ok := strings.Cut(rest[:at], ":"); ok {
					add(pw)
				}
			}
		}
		if u, err := url.Parse(dsn); err == nil && u.User != nil {
			pw, _ := u.User.Password()
			add(pw)
		}
		for _, p := range strings.Split(query, "&") {
			k, v, _ := strings.Cut(p, "=")
			if key, _ := url.QueryUnescape(k); strings.EqualFold(key, "password") || strings.EqualFold(k, "password") {
				add(v)
			}
		}
	} else {
		for _, m := range keywordPassword.FindAllStringSubmatch(dsn, -1) {
			add(m[2])
			add(strings.Trim(m[2], "'"))
		}
	}
	sort.Slice(found, func(i, j int) bool { return len(found[i]) > len(found[j]) })
	return found
}

// scrubber cleans driver messages of the DSN and its passwords.
type scrubber struct {
	dsn, redacted string
	secrets       []string
}

func newScrubber(dsn string, passwords ...string) *scrubber {
	return &scrubber{dsn: dsn, redacted: Redact(dsn), secrets: dsnSecrets(dsn, passwords...)}
}

func (sc *scrubber) clean(msg string) string {
	if sc.dsn != "" {
		msg = strings.ReplaceAll(msg, sc.dsn, sc.redacted)
	}
	for _, s := range sc.secrets {
		msg = strings.ReplaceAll(msg, s, mask)
	}
	return msg
}

// wrap returns err, from the driver, as an error of this package: "what: message" with the message
// scrubbed of passwords. It unwraps only to what is safe to expose and worth testing for (context
// errors, state.ErrNotLocked, ErrClosed, the server's *pgconn.PgError, a *net.OpError): never to the
// driver's connection errors, which carry the configuration (password included).
func (sc *scrubber) wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	msg := sc.clean(err.Error())
	if what != "" {
		msg = what + ": " + msg
	}
	return &dbError{msg: msg, causes: safeCauses(err)}
}

// notLocked is an error wrapping state.ErrNotLocked, with why.
func (sc *scrubber) notLocked(fleet, why string, err error) error {
	msg := "fleet " + fleet + ": " + state.ErrNotLocked.Error() + ": " + why
	causes := []error{state.ErrNotLocked}
	if err != nil {
		msg += ": " + sc.clean(err.Error())
		causes = append(causes, safeCauses(err)...)
	}
	return &dbError{msg: msg, causes: causes}
}

type dbError struct {
	msg    string
	causes []error
}

func (e *dbError) Error() string   { return e.msg }
func (e *dbError) Unwrap() []error { return e.causes }

func safeCauses(err error) []error {
	var out []error
	for _, target := range []error{context.Canceled, context.DeadlineExceeded, state.ErrNotLocked, ErrClosed} {
		if errors.Is(err, target) {
			out = append(out, target)
		}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		out = append(out, pgErr)
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		out = append(out, opErr)
	}
	return out
}

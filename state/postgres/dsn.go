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

// IsDSN reports whether s is a PostgreSQL connection string: a URL (postgres:// or postgresql://, the
// scheme in any case), or a keyword/value string as libpq accepts it (host=db dbname=deskfleet ...):
// made only of keyword=value pairs (values quoted '...' or not, backslash escapes), at least one of
// whose keywords is libpq's. A state location that is not one is a file path (a file name with an
// '=' in it, such as "state=prod.db", is not a connection string: "state" is no libpq keyword).
func IsDSN(s string) bool {
	l := strings.ToLower(s)
	if strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://") {
		return true
	}
	pairs, ok := parseKeywords(s)
	if !ok {
		return false
	}
	for _, p := range pairs {
		if libpqKeywords[p.key] {
			return true
		}
	}
	return false
}

// libpqKeywords are the connection parameters libpq knows (PostgreSQL 17's list).
var libpqKeywords = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range strings.Fields(`host hostaddr port dbname user password passfile require_auth
		channel_binding connect_timeout client_encoding options application_name fallback_application_name
		keepalives keepalives_idle keepalives_interval keepalives_count tcp_user_timeout replication
		gssencmode sslmode sslnegotiation requiressl sslcompression sslcert sslkey sslpassword sslcertmode
		sslrootcert sslcrl sslcrldir sslsni requirepeer ssl_min_protocol_version ssl_max_protocol_version
		krbsrvname gsslib gssdelegation service target_session_attrs load_balance_hosts`) {
		m[k] = true
	}
	return m
}()

// secretKeywords are the parameters whose values Redact masks.
var secretKeywords = map[string]bool{"password": true, "sslpassword": true}

// kwPair is one keyword=value pair of a keyword/value string: its keyword, its value decoded, and
// where the value is written (s[start:end], quotes included).
type kwPair struct {
	key, value string
	start, end int
}

// parseKeywords splits a keyword/value connection string as libpq does; ok is false when s is not
// one (empty, or anything but keyword=value pairs separated by white space).
func parseKeywords(s string) (pairs []kwPair, ok bool) {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' }
	i := 0
	skip := func() {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
	}
	for {
		skip()
		if i == len(s) {
			return pairs, len(pairs) > 0
		}
		k := i
		for i < len(s) && (s[i] == '_' || 'a' <= s[i] && s[i] <= 'z' || 'A' <= s[i] && s[i] <= 'Z' || i > k && '0' <= s[i] && s[i] <= '9') {
			i++
		}
		if i == k {
			return nil, false
		}
		key := s[k:i]
		skip()
		if i == len(s) || s[i] != '=' {
			return nil, false
		}
		i++
		skip()
		start := i
		var val strings.Builder
		if i < len(s) && s[i] == '\'' {
			i++
			closed := false
			for i < len(s) {
				c := s[i]
				if c == '\\' && i+1 < len(s) {
					val.WriteByte(s[i+1])
					i += 2
					continue
				}
				i++
				if c == '\'' {
					closed = true
					break
				}
				val.WriteByte(c)
			}
			if !closed {
				return nil, false
			}
		} else {
			for i < len(s) && !isSpace(s[i]) {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				val.WriteByte(s[i])
				i++
			}
		}
		pairs = append(pairs, kwPair{key: key, value: val.String(), start: start, end: i})
	}
}

// redactKeywords masks the secret values of a keyword/value string, keeping the rest as written.
func redactKeywords(s string, pairs []kwPair) string {
	var b strings.Builder
	last := 0
	for _, p := range pairs {
		if secretKeywords[strings.ToLower(p.key)] {
			b.WriteString(s[last:p.start])
			b.WriteString(mask)
			last = p.end
		}
	}
	b.WriteString(s[last:])
	return b.String()
}

// Redact returns dsn with its password replaced by "***": the URL's user information
// (postgres://user:***@host/db) and a password= query parameter. A URL that does not parse (or whose
// parts are ambiguous, such as an '@' after the host) has everything between "://" and its last '@'
// masked, user included. A keyword/value string (host=... password=...) has its password= value
// masked, whole however it is written (quoted, with escaped spaces); sslpassword (the client key's
// passphrase) is masked like password, in both forms. Redact never returns the password; it is what
// messages and Describe print.
func Redact(dsn string) string {
	i := strings.Index(dsn, "://")
	if i < 0 {
		if pairs, ok := parseKeywords(dsn); ok {
			return redactKeywords(dsn, pairs)
		}
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
		if key, err := url.QueryUnescape(k); (err == nil && secretKeywords[strings.ToLower(key)]) || secretKeywords[strings.ToLower(k)] {
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
			if key, _ := url.QueryUnescape(k); secretKeywords[strings.ToLower(key)] || secretKeywords[strings.ToLower(k)] {
				add(v)
			}
		}
	} else {
		if pairs, ok := parseKeywords(dsn); ok {
			for _, p := range pairs {
				if secretKeywords[strings.ToLower(p.key)] {
					add(p.value)
					add(dsn[p.start:p.end])
				}
			}
		}
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

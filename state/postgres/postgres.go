// Package postgres is a state.Store in a PostgreSQL database, for fleets applied from several machines
// (CI runners, laptops): every deskfleet process that opens the same DSN shares the records and the
// locks. It passes the conformance suite (state/statetest) like state/bolt.
//
// Storage. Open creates and migrates the schema: a versioned list of migrations, recorded in table
// deskfleet_schema_version and applied in one transaction under a transaction-level advisory lock, so
// two processes opening a new database at once are safe and a re-run changes nothing. Table
// deskfleet_records maps a fleet to its serial and its base record (a state.Record as jsonb); table
// deskfleet_changes holds the change sets written since the base, one row per object an Update
// changed (changes.go: an Update costs what it changed); table deskfleet_locks holds each fleet's lock: token, holder (user, host, pid, command, since,
// heartbeat) and the database session holding it (backend_pid). The tables are created in the first
// schema of the connection's search_path; an already migrated database is used without any CREATE.
//
// Locking. The lock is a session-level advisory lock (pg_try_advisory_lock on a 64-bit key derived
// from the fleet's name), taken on a connection of its own that the Store keeps, outside its pool, for
// as long as the lock is held; with it, Lock writes the lock row (holder, a new random token, the
// heartbeat). The server, not deskfleet, is therefore the judge of who holds the lock: when the
// holding process dies its connection drops and the server releases the advisory lock at once (a
// vanished machine is noticed by TCP keepalive, which the lock's session sets to about two minutes).
// A process that finds the advisory lock taken reads the lock row and returns a
// *state.LockedError naming its holder (Stale when that process is known to be gone), polling until
// its timeout like the other stores. A process that gets the advisory lock while a row remains (its
// holder's session ended without unlocking: a crashed runner) takes the lock over: the row is
// overwritten with the new holder and a new token. A row whose session is alive is never taken over.
// CurrentLock reports such an abandoned row as no lock (nil): the fleet is free, and `state list`
// must not name a holder who is gone. Locks are taken and released under a transaction-level
// advisory lock of the fleet's row, so a contender finds the advisory lock held with its row, not
// without (unless a holder's row was cleared but its session could not be ended: see Unlock).
//
// Fencing. Update runs its transaction on the lock's own connection and first locks the lock row
// (SELECT ... FOR UPDATE): when the row is gone or holds another token, or the connection is dead
// (so the advisory lock may be someone else's), Update fails with an error wrapping
// state.ErrNotLocked and changes nothing. So a holder whose lock was cleared or taken over cannot
// write, whatever it believes. A lock is only good in the Store that took it (which holds its
// connection): unlike a bolt lock, it does not survive reopening the store or its process.
//
// Unlock deletes the row only while it holds l's token. When this Store holds l's connection it
// releases the advisory lock and closes the connection. Otherwise (`deskfleet state unlock` clearing
// a lock that another process holds or abandoned, via CurrentLock then Unlock) it deletes the row and
// ends the holder's database session (pg_terminate_backend of the recorded backend, only while that
// backend holds this fleet's advisory lock), which releases the advisory lock and fences the holder.
// Ending another role's session needs the privileges pg_terminate_backend asks for; without them the
// row is removed (the holder can no longer Update) but Unlock reports that the fleet stays locked
// until that process ends.
//
// Requirements: the connection must be a real session (a pooler in transaction mode, such as
// PgBouncer's, cannot hold session advisory locks). The password may come from the DSN, PGPASSWORD or
// a password file, as with libpq; no error of this package contains it (driver messages are
// scrubbed), and Describe and messages show the DSN redacted.
package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/internal/locking"
)

// DefaultConnectTimeout is Options.ConnectTimeout's default when the DSN sets no connect_timeout.
const DefaultConnectTimeout = 10 * time.Second

// releaseTimeout bounds Unlock and Close: they run even when the caller's context has ended (an
// interrupted apply still releases its lock).
const releaseTimeout = 10 * time.Second

// terminateWait is how long Unlock waits for a holder's session to end (servers 14 and later).
const terminateWait = 5 * time.Second

// ErrClosed is the error of every operation after Close.
var ErrClosed = errors.New("state store closed")

// Options tune a Store.
type Options struct {
	// ConnectTimeout bounds each connection attempt (0: the DSN's connect_timeout, else
	// DefaultConnectTimeout).
	ConnectTimeout time.Duration
}

// Store is a state.Store in a PostgreSQL database. It is safe for concurrent use. Reads go through
// a connection pool; each held lock has a connection of its own (see the package comment).
type Store struct {
	redacted string
	sc       *scrubber
	pool     *pgxpool.Pool
	connCfg  *pgx.ConnConfig // for the locks' own connections
	// terminateWaits: the server (14 or later) has pg_terminate_backend(pid, timeout).
	terminateWaits bool

	mu   sync.Mutex
	held map[string]*heldLock // by token

	closeMu sync.RWMutex
	closed  bool
}

var _ state.Store = (*Store)(nil)

// heldLock is a lock this Store holds: the connection whose session holds the advisory lock.
type heldLock struct {
	mu    sync.Mutex // serialises the lock's Updates (one connection) and its release
	fleet string
	conn  *pgx.Conn // nil once released
	// kept is the record the lock's last Update wrote (nil: read it again), changes the number of
	// change rows since the fleet's base (see changes.go).
	kept    *state.Record
	changes int
}

// Open connects to the database at dsn (a postgres:// URL, or keyword/value string; libpq's
// environment variables and password file apply), creates or migrates the schema, and returns the
// store. Errors never contain the password.
func Open(ctx context.Context, dsn string, opt Options) (*Store, error) {
	sc := newScrubber(dsn)
	redacted := sc.redacted
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		var pce *pgconn.ParseConfigError
		if errors.As(err, &pce) {
			// Its message quotes the DSN (redacted best effort, by the driver): do not repeat it.
			if msg, ok := parseConfigReason(pce); ok {
				return nil, fmt.Errorf("state database %s: cannot parse the connection string: %s", redacted, sc.clean(msg))
			}
		}
		return nil, fmt.Errorf("state database %s: cannot parse the connection string: %s", redacted, sc.clean(err.Error()))
	}
	sc = newScrubber(dsn, cfg.ConnConfig.Password)
	switch {
	case opt.ConnectTimeout > 0:
		cfg.ConnConfig.ConnectTimeout = opt.ConnectTimeout
	case cfg.ConnConfig.ConnectTimeout == 0:
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "deskfleet"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, sc.wrap("state database "+redacted, err)
	}
	s := &Store{
		redacted: redacted,
		sc:       sc,
		pool:     pool,
		connCfg:  cfg.ConnConfig.Copy(),
		held:     map[string]*heldLock{},
	}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// parseConfigReason is the driver's reason for refusing a connection string, without the string.
func parseConfigReason(e *pgconn.ParseConfigError) (string, bool) {
	msg := e.Error()
	// "cannot parse `<conn string>`: <reason>"
	if i := lastIndexBacktickColon(msg); i >= 0 {
		return msg[i+3:], true
	}
	return "", false
}

func lastIndexBacktickColon(s string) int {
	for i := len(s) - 3; i >= 0; i-- {
		if s[i] == '`' && s[i+1] == ':' && s[i+2] == ' ' {
			return i
		}
	}
	return -1
}

// Describe names the database for messages: the DSN with its password masked.
func (s *Store) Describe() string { return s.redacted }

// migration is one step of the schema.
type migration struct {
	version int
	stmts   []string
}

// migrations are applied in order, each once; never edit one that has shipped: add another.
var migrations = []migration{
	{1, []string{
		`CREATE TABLE deskfleet_records (
			fleet      text PRIMARY KEY,
			serial     bigint NOT NULL,
			record     jsonb NOT NULL,
			updated_at timestamptz NOT NULL DEFAULT now()
		)`,
		`CREATE TABLE deskfleet_locks (
			fleet          text PRIMARY KEY,
			token          text NOT NULL,
			holder_user    text NOT NULL,
			holder_host    text NOT NULL,
			holder_pid     integer NOT NULL,
			holder_command text NOT NULL,
			since          timestamptz NOT NULL,
			heartbeat      timestamptz NOT NULL,
			backend_pid    integer NOT NULL
		)`,
	}},
	// Damage detection and the previous generation: checksum is the SHA-256 (hex) of record's text as
	// the server prints it (jsonb's normal form); NULL for records written before (accepted as they
	// are). Every Update moves the record it replaces, with its serial and checksum, to previous.
	{2, []string{
		`ALTER TABLE deskfleet_records
			ADD COLUMN checksum          text,
			ADD COLUMN previous          jsonb,
			ADD COLUMN previous_serial   bigint,
			ADD COLUMN previous_checksum text`,
	}},
	migration3, // change sets: changes.go
}

// recordChecksum is the SQL expression of a jsonb value's checksum (see migration 2).
func recordChecksum(expr string) string {
	return `encode(sha256(convert_to((` + expr + `)::text, 'UTF8')), 'hex')`
}

// SchemaVersion is the schema version this package migrates to.
var SchemaVersion = migrations[len(migrations)-1].version

// Advisory lock keys: 64-bit FNV-1a of a namespaced name, so that they do not meet other programs'.
var migrationKey = advisoryKey("deskfleet/schema-migration")

// lockKey is the key of fleet's lock: a session advisory lock, held as long as the fleet's lock.
func lockKey(fleet string) int64 { return advisoryKey("deskfleet/fleet-lock\x00" + fleet) }

// rowKey is the key of the transaction advisory lock under which fleet's lock is taken or released
// (the advisory lock and the lock row change together).
func rowKey(fleet string) int64 { return advisoryKey("deskfleet/fleet-lock-row\x00" + fleet) }

func advisoryKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int64(h.Sum64())
}

// migrate brings the schema to SchemaVersion in one transaction, under an advisory transaction lock
// (concurrent Opens wait for each other, then find nothing to do).
func (s *Store) migrate(ctx context.Context) error {
	fail := func(err error) error { return s.sc.wrap("state database "+s.redacted, err) }
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fail(err)
	}
	defer rollback(ctx, tx)
	var versionNum string
	if err := tx.QueryRow(ctx, `SHOW server_version_num`).Scan(&versionNum); err != nil {
		return fail(err)
	}
	if n, err := strconv.Atoi(versionNum); err == nil {
		s.terminateWaits = n >= 140000
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationKey); err != nil {
		return fail(fmt.Errorf("waiting for the schema migration lock: %w", err))
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass('deskfleet_schema_version') IS NOT NULL`).Scan(&exists); err != nil {
		return fail(err)
	}
	if !exists {
		if _, err := tx.Exec(ctx, `CREATE TABLE deskfleet_schema_version (
			version    integer PRIMARY KEY,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return fail(fmt.Errorf("creating the schema: %w", err))
		}
	}
	var current int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM deskfleet_schema_version`).Scan(&current); err != nil {
		return fail(err)
	}
	if current > SchemaVersion {
		return fmt.Errorf("state database %s has schema version %d; this deskfleet knows version %d at most: upgrade deskfleet",
			s.redacted, current, SchemaVersion)
	}
	if current == SchemaVersion && exists {
		return nil // nothing written: the transaction is rolled back
	}
	for _, m := range migrations {
		if m.version <= current {
			continue
		}
		for _, stmt := range m.stmts {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return fail(fmt.Errorf("schema migration %d: %w", m.version, err))
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO deskfleet_schema_version (version) VALUES ($1)`, m.version); err != nil {
			return fail(fmt.Errorf("schema migration %d: %w", m.version, err))
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fail(fmt.Errorf("committing the schema: %w", err))
	}
	return nil
}

// rollback ends tx (a no-op after Commit), even when ctx has ended.
func rollback(ctx context.Context, tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	tx.Rollback(ctx) //nolint:errcheck // a failed rollback leaves nothing committed
}

// begin marks an operation in flight (Close waits for it); end must be called after.
func (s *Store) begin() error {
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return ErrClosed
	}
	return nil
}

func (s *Store) end() { s.closeMu.RUnlock() }

// connect opens a connection of its own for a lock. A canceled context interrupts its statement with
// a cancel request instead of closing it, so that canceling an Update does not drop the lock; its
// session asks for TCP keepalives (idle 60s, then 6 probes 10s apart), so that the server notices a
// vanished client within about two minutes and releases its lock.
func (s *Store) connect(ctx context.Context) (*pgx.Conn, error) {
	cfg := s.connCfg.Copy()
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, CancelRequestDelay: 0, DeadlineDelay: 5 * time.Second}
	}
	for k, v := range map[string]string{"tcp_keepalives_idle": "60", "tcp_keepalives_interval": "10", "tcp_keepalives_count": "6"} {
		if _, ok := cfg.RuntimeParams[k]; !ok {
			cfg.RuntimeParams[k] = v
		}
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, s.sc.wrap("connecting to "+s.redacted, err)
	}
	return conn, nil
}

// Lock takes fleet's lock for holder (see the package comment): when another session holds it, Lock
// polls every 100ms for up to timeout, then returns a *state.LockedError naming the holder, Stale when
// its process is known to be gone. A lock whose session has ended is taken over. The store sets the
// holder's Heartbeat, and Since when zero (both to the microsecond, as the database keeps them).
func (s *Store) Lock(ctx context.Context, fleet string, holder state.Holder, timeout time.Duration) (*state.Lock, error) {
	var conn *pgx.Conn // reused by the tries; handed to the lock when one succeeds
	defer func() {
		if conn != nil {
			closeConn(ctx, conn)
		}
	}()
	var last *state.LockedError
	return locking.Wait(ctx, timeout, func() (*state.Lock, error) {
		l, err := s.tryLock(ctx, &conn, fleet, holder)
		var le *state.LockedError
		switch {
		case errors.As(err, &le):
			last = le
		case err != nil && ctx.Err() != nil && last != nil:
			// The context ended during a try: report the holder last seen (locking.Wait adds ctx's error).
			return nil, last
		}
		return l, err
	})
}

func (s *Store) tryLock(ctx context.Context, connp **pgx.Conn, fleet string, holder state.Holder) (*state.Lock, error) {
	if err := s.begin(); err != nil {
		return nil, err
	}
	defer s.end()
	if *connp != nil && (*connp).IsClosed() {
		*connp = nil
	}
	if *connp == nil {
		c, err := s.connect(ctx)
		if err != nil {
			return nil, err
		}
		*connp = c
	}
	conn := *connp
	key := lockKey(fleet)
	fail := func(err error) error { return withContext(ctx, s.sc.wrap("locking fleet "+fleet, err)) }
	// The advisory lock is tried, and the row written, under a transaction-level advisory lock of the
	// fleet's own, which Unlock takes too: so whoever finds the advisory lock taken also finds the
	// row of its holder (committed), not a row being written or removed.
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, fail(err)
	}
	defer rollback(ctx, tx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, rowKey(fleet)); err != nil {
		return nil, fail(err)
	}
	var got bool
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil {
		return nil, fail(err)
	}
	if !got {
		return nil, s.lockedError(ctx, tx, fleet, key)
	}
	now := dbTime(time.Now())
	h := holder
	if h.Since.IsZero() {
		h.Since = now
	}
	h.Since = dbTime(h.Since)
	h.Heartbeat = now
	token := locking.NewToken()
	// One statement: a new row, or the takeover of a row whose session has ended (we hold the
	// advisory lock, so its holder's session cannot be alive).
	_, err = tx.Exec(ctx, `INSERT INTO deskfleet_locks
			(fleet, token, holder_user, holder_host, holder_pid, holder_command, since, heartbeat, backend_pid)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, pg_backend_pid())
		ON CONFLICT (fleet) DO UPDATE SET token = excluded.token, holder_user = excluded.holder_user,
			holder_host = excluded.holder_host, holder_pid = excluded.holder_pid,
			holder_command = excluded.holder_command, since = excluded.since,
			heartbeat = excluded.heartbeat, backend_pid = excluded.backend_pid`,
		fleet, token, h.User, h.Host, h.PID, h.Command, h.Since, h.Heartbeat)
	if err == nil {
		err = tx.Commit(ctx)
	}
	if err != nil {
		// A session advisory lock outlives a rolled back transaction: end the session to release it.
		closeConn(ctx, conn)
		*connp = nil
		return nil, fail(err)
	}
	s.mu.Lock()
	s.held[token] = &heldLock{fleet: fleet, conn: conn}
	s.mu.Unlock()
	*connp = nil // the lock owns it now
	return &state.Lock{Fleet: fleet, Holder: h, Token: token}, nil
}

// lockedError names the holder of fleet's advisory lock: the lock row's holder, or, when there is no
// row (a Lock between taking the advisory lock and writing its row, or a holder whose row was cleared
// but whose session could not be ended), the session holding the advisory lock.
func (s *Store) lockedError(ctx context.Context, q querier, fleet string, key int64) error {
	cur, err := scanLock(q.QueryRow(ctx, selectLock, fleet), fleet)
	if err != nil {
		return withContext(ctx, s.sc.wrap("reading the lock of fleet "+fleet, err))
	}
	if cur != nil {
		return &state.LockedError{Fleet: fleet, Holder: cur.Holder, Stale: cur.Holder.ProcessGone()}
	}
	h := state.Holder{Command: "a database session without a lock record (taking or releasing the lock)"}
	var (
		pid           int
		user, host    string
		app           string
		backendStarts time.Time
	)
	hi, lo := keyHalves(key)
	err = q.QueryRow(ctx, `SELECT a.pid, coalesce(a.usename, ''), coalesce(host(a.client_addr), 'local'),
			coalesce(a.application_name, ''), a.backend_start
		FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE `+advisoryLockMatch+` LIMIT 1`, hi, lo).Scan(&pid, &user, &host, &app, &backendStarts)
	if err == nil {
		h = state.Holder{User: user, Host: host, Since: backendStarts,
			Command: fmt.Sprintf("database session %d (%s) without a lock record: taking or releasing the lock", pid, app)}
	}
	return &state.LockedError{Fleet: fleet, Holder: h}
}

// advisoryLockMatch selects, in pg_locks l, the granted session advisory lock of this database with
// the key whose halves are $1 (high) and $2 (low): pg_locks shows a bigint key as classid and objid.
const advisoryLockMatch = `l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
	AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
	AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid`

func keyHalves(key int64) (hi, lo int64) {
	u := uint64(key)
	return int64(u >> 32), int64(u & 0xffffffff)
}

const selectLock = `SELECT token, holder_user, holder_host, holder_pid, holder_command, since, heartbeat
	FROM deskfleet_locks WHERE fleet = $1`

func scanLock(row pgx.Row, fleet string) (*state.Lock, error) {
	l := &state.Lock{Fleet: fleet}
	h := &l.Holder
	err := row.Scan(&l.Token, &h.User, &h.Host, &h.PID, &h.Command, &h.Since, &h.Heartbeat)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return l, nil
}

// withContext adds ctx's error to err when ctx has ended: a statement interrupted by a cancel request
// fails with the server's "canceling statement" error, which does not say why.
func withContext(ctx context.Context, err error) error {
	cerr := ctx.Err()
	if err == nil || cerr == nil || errors.Is(err, cerr) {
		return err
	}
	return &dbError{msg: err.Error() + " (" + cerr.Error() + ")", causes: []error{err, cerr}}
}

// dbTime is t as the database keeps it: microseconds, no monotonic reading.
func dbTime(t time.Time) time.Time { return t.Round(0).Truncate(time.Microsecond) }

// closeConn closes a lock's connection, ending its session (and so its advisory locks).
func closeConn(ctx context.Context, conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	conn.Close(ctx) //nolint:errcheck // closing: the session ends either way
}

// Unlock releases l (see the package comment): the row only while it holds l's token; this Store's
// connection for l, or else the holder's database session. A lock already released or taken over is
// left alone, without error. It runs even when ctx has ended (for up to 10s).
func (s *Store) Unlock(ctx context.Context, l *state.Lock) error {
	if l == nil {
		return nil
	}
	if err := s.begin(); err != nil {
		return err
	}
	defer s.end()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	if hl := s.takeHeld(l); hl != nil {
		return s.release(ctx, hl, l.Token)
	}
	return s.clear(ctx, l)
}

// takeHeld removes and returns this Store's held lock for l, nil when it holds none.
func (s *Store) takeHeld(l *state.Lock) *heldLock {
	s.mu.Lock()
	defer s.mu.Unlock()
	hl := s.held[l.Token]
	if hl == nil || hl.fleet != l.Fleet {
		return nil
	}
	delete(s.held, l.Token)
	return hl
}

// heldFor returns this Store's held lock for l, nil when it holds none.
func (s *Store) heldFor(l *state.Lock) *heldLock {
	s.mu.Lock()
	defer s.mu.Unlock()
	if hl := s.held[l.Token]; hl != nil && hl.fleet == l.Fleet {
		return hl
	}
	return nil
}

// release gives up a lock this Store holds: deletes its row (if still its token) and releases the
// advisory lock on its connection, then closes the connection.
func (s *Store) release(ctx context.Context, hl *heldLock, token string) error {
	hl.mu.Lock()
	defer hl.mu.Unlock()
	conn := hl.conn
	hl.conn = nil
	if conn != nil {
		defer closeConn(ctx, conn)
		if !conn.IsClosed() {
			s.fold(ctx, conn, hl, token)
			err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, rowKey(hl.fleet)); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `WITH gone AS (DELETE FROM deskfleet_locks WHERE fleet = $1 AND token = $2)
					SELECT pg_advisory_unlock($3)`, hl.fleet, token, lockKey(hl.fleet))
				return err
			})
			if err == nil {
				return nil
			}
			if !conn.IsClosed() {
				return s.sc.wrap("unlocking fleet "+hl.fleet, err)
			}
		}
	}
	// The lock's session is gone, and its advisory lock with it: remove the row, if still ours.
	if _, err := s.pool.Exec(ctx, `DELETE FROM deskfleet_locks WHERE fleet = $1 AND token = $2`, hl.fleet, token); err != nil {
		return s.sc.wrap("unlocking fleet "+hl.fleet, err)
	}
	return nil
}

// clear removes a lock held (or abandoned) by another Store: its row, if it still holds l's token,
// then its holder's session, if it still holds the fleet's advisory lock.
func (s *Store) clear(ctx context.Context, l *state.Lock) error {
	// Under the fleet's row lock (see tryLock), so that Lock finds the fleet either held with its row
	// or free, not held without a row while the holder's session ends.
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return s.sc.wrap("unlocking fleet "+l.Fleet, err)
	}
	defer rollback(ctx, tx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, rowKey(l.Fleet)); err != nil {
		return s.sc.wrap("unlocking fleet "+l.Fleet, err)
	}
	var backend int
	err = tx.QueryRow(ctx, `DELETE FROM deskfleet_locks WHERE fleet = $1 AND token = $2 RETURNING backend_pid`,
		l.Fleet, l.Token).Scan(&backend)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // released or taken over since it was read
	}
	if err != nil {
		return s.sc.wrap("unlocking fleet "+l.Fleet, err)
	}
	// End the holder's session while it still holds the fleet's advisory lock (never another
	// session: the backend pid may have been reused). In a savepoint: when it fails, the row is still
	// removed, so the holder is fenced.
	terminate := `pg_terminate_backend(l.pid)`
	if s.terminateWaits {
		terminate = fmt.Sprintf(`pg_terminate_backend(l.pid, %d)`, terminateWait.Milliseconds())
	}
	hi, lo := keyHalves(lockKey(l.Fleet))
	termErr := pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
		rows, err := sp.Query(ctx, `SELECT `+terminate+` FROM pg_locks l
			WHERE `+advisoryLockMatch+` AND l.pid = $3 AND l.pid <> pg_backend_pid()`, hi, lo, backend)
		if err != nil {
			return err
		}
		ended, err := pgx.CollectRows(rows, pgx.RowTo[bool])
		if err != nil {
			return err
		}
		if slices.Contains(ended, false) {
			return fmt.Errorf("it did not end within %v", terminateWait)
		}
		return nil
	})
	if err := tx.Commit(ctx); err != nil {
		return s.sc.wrap("unlocking fleet "+l.Fleet, err)
	}
	if termErr != nil {
		return s.sc.wrap(fmt.Sprintf("fleet %s: removed the lock of %s, which can no longer update the state, "+
			"but could not end its database session (backend %d), so the fleet stays locked until that process ends",
			l.Fleet, l.Holder, backend), termErr)
	}
	return nil
}

// CurrentLock returns fleet's lock (holder and token); nil when it has no lock row, or only an
// abandoned one (the session that took it has ended).
func (s *Store) CurrentLock(ctx context.Context, fleet string) (*state.Lock, error) {
	if err := s.begin(); err != nil {
		return nil, err
	}
	defer s.end()
	hi, lo := keyHalves(lockKey(fleet))
	l, err := scanLock(s.pool.QueryRow(ctx, selectLiveLock, fleet, hi, lo), fleet)
	if err != nil {
		return nil, s.sc.wrap("reading the lock of fleet "+fleet, err)
	}
	return l, nil
}

// selectLiveLock is selectLock of a lock whose session still holds the fleet's advisory lock ($2 and
// $3: the key's halves). A row whose session ended (its process crashed, its runner vanished) is an
// abandoned lock: the fleet is free, the next Lock takes the row over, and CurrentLock says free
// rather than naming a holder who is gone.
var selectLiveLock = selectLock + ` AND EXISTS (SELECT 1 FROM pg_locks l WHERE ` +
	strings.NewReplacer("$1", "$2", "$2", "$3").Replace(advisoryLockMatch) + ` AND l.pid = deskfleet_locks.backend_pid)`

// Read returns fleet's record: a copy, decoded from the database (an empty one, Serial 0, when it has
// none). It does not need the lock.
func (s *Store) Read(ctx context.Context, fleet string) (*state.Record, error) {
	if err := s.begin(); err != nil {
		return nil, err
	}
	defer s.end()
	rec, err := s.getRecord(ctx, s.pool, fleet)
	if err != nil {
		return nil, s.wrapRead("reading the record of fleet "+fleet, err)
	}
	return rec, nil
}

// wrapRead is sc.wrap, but for a *state.CorruptError, returned as it is.
func (s *Store) wrapRead(what string, err error) error {
	var ce *state.CorruptError
	if errors.As(err, &ce) {
		return err
	}
	return s.sc.wrap(what, err)
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// getRecord reads fleet's record (its base and its change sets), checking their checksums: a base or
// a change that does not match its own (edited by hand, or damaged) is a *state.CorruptError.
func (s *Store) getRecord(ctx context.Context, q querier, fleet string) (*state.Record, error) {
	rec, _, err := s.loadRecord(ctx, q, fleet)
	return rec, err
}

// loadRecord is getRecord, and the number of change rows it read.
func (s *Store) loadRecord(ctx context.Context, q querier, fleet string) (*state.Record, int, error) {
	rec, err := s.getBase(ctx, q, fleet)
	if err != nil {
		return nil, 0, err
	}
	n, err := applyChanges(ctx, q, fleet, rec)
	var dc *damagedChange
	if errors.As(err, &dc) {
		return nil, 0, s.corrupt(fleet, dc.Error(), true, dc)
	}
	if err != nil {
		return nil, 0, err
	}
	return rec, n, nil
}

// getBase reads fleet's base record, checking its checksum.
func (s *Store) getBase(ctx context.Context, q querier, fleet string) (*state.Record, error) {
	rec := &state.Record{Fleet: fleet}
	var (
		data        string
		sum         *string
		hasPrevious bool
	)
	err := q.QueryRow(ctx, `SELECT record::text, checksum, previous IS NOT NULL FROM deskfleet_records WHERE fleet = $1`,
		fleet).Scan(&data, &sum, &hasPrevious)
	if errors.Is(err, pgx.ErrNoRows) {
		return rec, nil
	}
	if err != nil {
		return nil, err
	}
	if sum != nil && checksumOf(data) != *sum {
		return nil, s.corrupt(fleet, state.ErrChecksum.Error()+" (was it edited by hand?)", hasPrevious, state.ErrChecksum)
	}
	if err := json.Unmarshal([]byte(data), rec); err != nil {
		return nil, s.corrupt(fleet, "it cannot be decoded: "+err.Error(), hasPrevious, err)
	}
	return rec, nil
}

// checksumOf is the checksum of a record's text (see migration 2).
func checksumOf(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

func (s *Store) corrupt(fleet, detail string, hasPrevious bool, err error) error {
	rec := "no previous generation of it is kept"
	if hasPrevious {
		rec = "its previous generation is kept in the database"
	}
	return &state.CorruptError{Store: s.redacted, Fleet: fleet, Detail: detail, Recover: rec, Restorable: hasPrevious, Err: err}
}

// Update runs fn on a copy of the fleet's record in one transaction on the lock's connection (so fn
// must be quick and must not call the store): it first locks the lock row and checks l's token, then,
// when fn returns nil, stores the record with Serial+1 and its journal trimmed and refreshes the
// heartbeat; the commit is durable when Update returns. When fn fails nothing changes. It fails with
// an error wrapping state.ErrNotLocked when this Store does not hold l, when l's row is gone or holds
// another token, or when the lock's connection is dead.
func (s *Store) Update(ctx context.Context, l *state.Lock, fn func(*state.Record) error) error {
	if l == nil {
		return state.ErrNotLocked
	}
	if err := s.begin(); err != nil {
		return err
	}
	defer s.end()
	hl := s.heldFor(l)
	if hl == nil {
		return s.sc.notLocked(l.Fleet, "this store does not hold that lock (released, or taken in another process)", nil)
	}
	hl.mu.Lock()
	defer hl.mu.Unlock()
	if hl.conn == nil {
		return s.sc.notLocked(l.Fleet, "the lock was released", nil)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	fnErr, err := s.update(ctx, hl, l, fn)
	if fnErr {
		return err
	}
	err = withContext(ctx, err)
	if err != nil && hl.conn.IsClosed() {
		// The session is gone: the advisory lock may be someone else's by now.
		closeConn(ctx, hl.conn)
		hl.conn = nil
		return s.sc.notLocked(l.Fleet, "the lock's database session ended", err)
	}
	return err
}

// update is Update's transaction; fnErr reports that err is fn's. It writes fn's change set
// (changes.go), or the whole record as a new base: when fn replaced it, when the fleet has no row
// yet, at the first Update of the lock when change sets are pending (compaction), and when they
// outnumber the record's objects. hl keeps the record written, for the next Update of the lock.
func (s *Store) update(ctx context.Context, hl *heldLock, l *state.Lock, fn func(*state.Record) error) (fnErr bool, err error) {
	conn := hl.conn
	kept := hl.kept
	hl.kept = nil // kept again once committed
	tx, err := conn.Begin(ctx)
	if err != nil {
		return false, s.sc.wrap("updating fleet "+l.Fleet, err)
	}
	defer rollback(ctx, tx)
	var token string
	err = tx.QueryRow(ctx, `SELECT token FROM deskfleet_locks WHERE fleet = $1 FOR UPDATE`, l.Fleet).Scan(&token)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return false, s.sc.notLocked(l.Fleet, "its lock was cleared", nil)
	case err != nil:
		return false, s.sc.wrap("updating fleet "+l.Fleet, err)
	case token != l.Token:
		return false, s.sc.notLocked(l.Fleet, "its lock was cleared and taken by another holder", nil)
	}
	var rowSerial int64
	err = tx.QueryRow(ctx, `SELECT serial FROM deskfleet_records WHERE fleet = $1`, l.Fleet).Scan(&rowSerial)
	hasRow := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return false, s.sc.wrap("updating fleet "+l.Fleet, err)
	}
	rec := kept
	if rec == nil || !hasRow || rowSerial != rec.Serial {
		var n int
		if rec, n, err = s.loadRecord(ctx, tx, l.Fleet); err != nil {
			return false, s.wrapRead("updating fleet "+l.Fleet, err)
		}
		hl.changes = n
	}
	objects := len(rec.Desktops) + len(rec.Accounts) + len(rec.Intents) + len(rec.Runs)
	var prev []byte // the record before fn, when this Update writes a new base in any case
	if hasRow && hl.changes > 0 && (kept == nil || hl.changes > max(compactAfter, objects)) {
		if prev, err = json.Marshal(rec); err != nil {
			return false, fmt.Errorf("encoding the record of fleet %s: %w", l.Fleet, err)
		}
	}
	serial := rec.Serial
	rec.Track()
	if err := fn(rec); err != nil {
		rec.Changes()
		return true, err
	}
	rec.Fleet, rec.Serial = l.Fleet, serial+1
	rec.Trim()
	ch := rec.Changes()
	if ch.Whole || !hasRow || prev != nil {
		err = s.writeBase(ctx, tx, rec, prev, serial)
		hl.changes = 0
	} else {
		var rows []changeRow
		if rows, err = changeRows(rec, ch); err == nil {
			err = insertChanges(ctx, tx, l.Fleet, rec.Serial, rows)
		}
		if err == nil {
			_, err = tx.Exec(ctx, `UPDATE deskfleet_records SET serial = $2, updated_at = now() WHERE fleet = $1`, l.Fleet, rec.Serial)
		}
		hl.changes += len(rows)
	}
	if err != nil {
		return false, s.sc.wrap("updating fleet "+l.Fleet, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE deskfleet_locks SET heartbeat = $2 WHERE fleet = $1`, l.Fleet, dbTime(time.Now())); err != nil {
		return false, s.sc.wrap("updating fleet "+l.Fleet, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, s.sc.wrap("committing the update of fleet "+l.Fleet, err)
	}
	hl.kept = rec
	return false, nil
}

// fold writes the record a lock kept as the fleet's base, folding the change sets its Updates wrote
// (see changes.go), while the lock is still held: best effort (on failure they stay, and the next
// lock's first Update folds them).
func (s *Store) fold(ctx context.Context, conn *pgx.Conn, hl *heldLock, token string) {
	rec := hl.kept
	if rec == nil || hl.changes == 0 {
		return
	}
	hl.kept, hl.changes = nil, 0
	_ = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		var cur string
		var serial int64
		err := tx.QueryRow(ctx, `SELECT l.token, r.serial FROM deskfleet_locks l JOIN deskfleet_records r USING (fleet)
			WHERE l.fleet = $1 FOR UPDATE`, rec.Fleet).Scan(&cur, &serial)
		if err != nil || cur != token || serial != rec.Serial {
			return errors.Join(err, errors.New("not folded"))
		}
		return s.writeBase(ctx, tx, rec, nil, 0)
	})
}

// compactAfter is the least number of change rows an Update folds into the base (see update).
const compactAfter = 1000

// writeBase stores rec whole as the fleet's base and removes its change sets. The base it replaces
// becomes the previous generation, or prev (the record before this Update, at prevSerial) when
// given: the base alone is not the record when change sets were pending.
func (s *Store) writeBase(ctx context.Context, tx pgx.Tx, rec *state.Record, prev []byte, prevSerial int64) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encoding the record of fleet %s: %w", rec.Fleet, err)
	}
	var prevText *string
	if prev != nil {
		p := string(prev)
		prevText = &p
	}
	if _, err := tx.Exec(ctx, `INSERT INTO deskfleet_records (fleet, serial, record, checksum, updated_at)
		VALUES ($1, $2, $3::jsonb, `+recordChecksum(`$3::jsonb`)+`, now())
		ON CONFLICT (fleet) DO UPDATE SET serial = excluded.serial, record = excluded.record,
			checksum = excluded.checksum, updated_at = excluded.updated_at,
			previous = coalesce($4::text::jsonb, deskfleet_records.record),
			previous_serial = CASE WHEN $4::text IS NULL
				THEN coalesce((deskfleet_records.record->>'serial')::bigint, deskfleet_records.serial) ELSE $5 END,
			previous_checksum = CASE WHEN $4::text IS NULL
				THEN deskfleet_records.checksum ELSE `+recordChecksum(`$4::text::jsonb`)+` END`,
		rec.Fleet, rec.Serial, data, prevText, prevSerial); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `DELETE FROM deskfleet_changes WHERE fleet = $1`, rec.Fleet)
	return err
}

// Fleets lists the fleets with a record, sorted (byte-wise, whatever the database's collation).
func (s *Store) Fleets(ctx context.Context) ([]string, error) {
	if err := s.begin(); err != nil {
		return nil, err
	}
	defer s.end()
	rows, err := s.pool.Query(ctx, `SELECT fleet FROM deskfleet_records`)
	var names []string
	if err == nil {
		names, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		return nil, s.sc.wrap("listing fleets", err)
	}
	sort.Strings(names)
	return names, nil
}

// Close releases the locks this Store holds (rows deleted, sessions ended) and the pool; later
// operations fail with ErrClosed. Operations in flight finish first.
func (s *Store) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.mu.Lock()
	held := s.held
	s.held = map[string]*heldLock{}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	var errs []error
	for token, hl := range held {
		errs = append(errs, s.release(ctx, hl, token))
	}
	s.pool.Close()
	return errors.Join(errs...)
}

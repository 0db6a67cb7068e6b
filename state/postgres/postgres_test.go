package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/deskfleet/deskfleet/internal/pgtest"
	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/postgres"
	"github.com/deskfleet/deskfleet/state/statetest"
)

const fleet = "studio"

// helperEnv makes the test binary a helper process (a second deskfleet) instead of running tests.
const helperEnv = "DESKFLEET_POSTGRES_TEST_HELPER"

func TestMain(m *testing.M) {
	if args, ok := statetest.HelperArgs(helperEnv); ok {
		os.Exit(helper(args))
	}
	pgtest.Main(m)
}

// helper is a second process: "hold DSN FLEET" locks the fleet, prints "locked PID", and holds the
// lock until its standard input closes.
func helper(args []string) int {
	ctx := context.Background()
	fail := func(err error) int { fmt.Println("error", err); return 1 }
	if len(args) != 3 || args[0] != "hold" {
		return fail(fmt.Errorf("unknown helper %q", args))
	}
	s, err := postgres.Open(ctx, args[1], postgres.Options{})
	if err != nil {
		return fail(err)
	}
	defer s.Close()
	return statetest.Hold(s, args[2])
}

func open(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func lock(t *testing.T, s state.Store, who string, timeout time.Duration) *state.Lock {
	t.Helper()
	l, err := s.Lock(context.Background(), fleet, statetest.Holder(who), timeout)
	if err != nil {
		t.Fatalf("Lock for %s: %v", who, err)
	}
	return l
}

func noop(*state.Record) error { return nil }

func serial(t *testing.T, s state.Store) int64 {
	t.Helper()
	rec, err := s.Read(context.Background(), fleet)
	if err != nil {
		t.Fatal(err)
	}
	return rec.Serial
}

func holder(t *testing.T, s state.Store) string {
	t.Helper()
	l, err := s.CurrentLock(context.Background(), fleet)
	if err != nil {
		t.Fatal(err)
	}
	if l == nil {
		return ""
	}
	return l.Holder.User
}

// backendPID is the database session holding fleet's lock, as its row records it.
func backendPID(t *testing.T, conn *pgx.Conn) int {
	t.Helper()
	var pid int
	if err := conn.QueryRow(context.Background(), `SELECT backend_pid FROM deskfleet_locks WHERE fleet = $1`, fleet).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	return pid
}

func TestConformance(t *testing.T) {
	statetest.Run(t, func(t *testing.T) state.Store {
		s, err := postgres.Open(context.Background(), pgtest.DSN(t), postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestTwoStoresContend: two Stores on one database (two pools, as two processes have) exclude each
// other; the loser is told who holds the lock, and cannot write with the winner's lock.
func TestTwoStoresContend(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	a, b := open(t, dsn), open(t, dsn)
	la := lock(t, a, "ana", 0)
	for _, timeout := range []time.Duration{0, 300 * time.Millisecond} {
		l, err := b.Lock(ctx, fleet, statetest.Holder("bo"), timeout)
		var le *state.LockedError
		if !errors.As(err, &le) || l != nil || le.Holder.User != "ana" || le.Holder.PID != la.Holder.PID || le.Stale {
			t.Fatalf("the second store's Lock (timeout %v) = %v, %v; want a LockedError naming ana, not stale", timeout, l, err)
		}
	}
	if cur, err := b.CurrentLock(ctx, fleet); err != nil || cur == nil || cur.Token != la.Token {
		t.Errorf("the second store's CurrentLock = %v, %v; want ana's lock", cur, err)
	}
	if err := b.Update(ctx, la, noop); !errors.Is(err, state.ErrNotLocked) {
		t.Errorf("Update through a store that does not hold the lock (token known) = %v, want ErrNotLocked", err)
	}
	if err := a.Update(ctx, la, noop); err != nil {
		t.Fatal(err)
	}
	if got := serial(t, b); got != 1 {
		t.Errorf("the second store reads serial %d, want 1", got)
	}
}

// TestTakeover: when the holder's database session ends without unlocking (its connection drops: the
// process crashed, or the network), the server releases the advisory lock and another store takes
// the lock over; the old holder is fenced.
func TestTakeover(t *testing.T) {
	tests := []struct {
		name   string
		reason string
		end    func(t *testing.T, dsn string, holder *postgres.Store)
	}{
		{
			name:   "session terminated",
			reason: "a holder whose session the server ended (crash, network) loses the lock to the next Lock, and its Updates fail",
			end: func(t *testing.T, dsn string, _ *postgres.Store) {
				conn := pgtest.Connect(t, dsn)
				var ok bool
				if err := conn.QueryRow(context.Background(), `SELECT pg_terminate_backend($1)`, backendPID(t, conn)).Scan(&ok); err != nil || !ok {
					t.Fatalf("pg_terminate_backend = %v, %v", ok, err)
				}
			},
		},
		{
			name:   "store closed",
			reason: "a holder that closes its store without unlocking releases the lock",
			end: func(t *testing.T, _ string, holder *postgres.Store) {
				if err := holder.Close(); err != nil {
					t.Fatal(err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := pgtest.DSN(t)
			a, b := open(t, dsn), open(t, dsn)
			la := lock(t, a, "ana", 0)
			tt.end(t, dsn, a)
			lb := lock(t, b, "bo", 30*time.Second) // polls until the server has released the session's lock
			if lb.Token == la.Token || holder(t, b) != "bo" {
				t.Fatalf("%s: got %+v, holder %q", tt.reason, lb, holder(t, b))
			}
			err := a.Update(ctx, la, func(r *state.Record) error { r.Runs = append(r.Runs, state.Run{ID: "stale"}); return nil })
			if !errors.Is(err, state.ErrNotLocked) && !errors.Is(err, postgres.ErrClosed) {
				t.Errorf("%s: the old holder's Update = %v, want ErrNotLocked", tt.reason, err)
			}
			if err := a.Unlock(ctx, la); err != nil && !errors.Is(err, postgres.ErrClosed) {
				t.Errorf("%s: the old holder's Unlock = %v, want nil", tt.reason, err)
			}
			if h := holder(t, b); h != "bo" {
				t.Errorf("%s: the old holder's Unlock released the new lock (holder now %q)", tt.reason, h)
			}
			if err := b.Update(ctx, lb, noop); err != nil {
				t.Fatal(err)
			}
			if got := serial(t, b); got != 1 {
				t.Errorf("%s: serial %d, want 1 (the new holder's update only)", tt.reason, got)
			}
		})
	}
}

// TestKilledProcess: a holder process killed with SIGKILL is named while it runs; once it is killed,
// its connection drops and Lock in this process takes the lock over.
func TestKilledProcess(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	other := statetest.StartHelper(t, helperEnv, "hold", dsn, fleet)
	if line := other.Line(t); line != fmt.Sprintf("locked %d", other.Cmd.Process.Pid) {
		t.Fatalf("helper: %q", line)
	}
	s := open(t, dsn)
	_, err := s.Lock(ctx, fleet, statetest.Holder("ana"), 0)
	var le *state.LockedError
	if !errors.As(err, &le) || le.Holder.PID != other.Cmd.Process.Pid || le.Holder.User != "helper" || le.Stale {
		t.Fatalf("Lock while another process holds it = %v; want a LockedError naming pid %d", err, other.Cmd.Process.Pid)
	}
	if err := other.Cmd.Process.Kill(); err != nil { // SIGKILL: no chance to unlock
		t.Fatal(err)
	}
	other.Cmd.Wait()
	// Its row remains, but its session is gone: CurrentLock says free (once the server has noticed).
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		cur, err := s.CurrentLock(ctx, fleet)
		if err != nil {
			t.Fatal(err)
		}
		if cur == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("CurrentLock still names the killed holder after 30s: %+v", cur.Holder)
		}
	}
	l := lock(t, s, "ana", 30*time.Second)
	if cur, err := s.CurrentLock(ctx, fleet); err != nil || cur == nil || cur.Token != l.Token || cur.Holder.User != "ana" {
		t.Errorf("CurrentLock after the takeover = %v, %v", cur, err)
	}
}

// TestClearLiveHolder: `deskfleet state unlock` from another process (CurrentLock, then Unlock of
// what it read) of a lock whose holder is alive ends the holder's session: the fleet can be locked
// again at once, and the old holder can no longer write.
func TestClearLiveHolder(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	a, b := open(t, dsn), open(t, dsn)
	la := lock(t, a, "ana", 0)
	cur, err := b.CurrentLock(ctx, fleet)
	if err != nil || cur == nil {
		t.Fatalf("CurrentLock = %v, %v", cur, err)
	}
	if err := b.Unlock(ctx, cur); err != nil {
		t.Fatalf("clearing ana's lock from another store: %v", err)
	}
	if h := holder(t, b); h != "" {
		t.Errorf("the lock is still held by %q after it was cleared", h)
	}
	lb := lock(t, b, "bo", 30*time.Second)
	if err := a.Update(ctx, la, noop); !errors.Is(err, state.ErrNotLocked) {
		t.Errorf("the cleared holder's Update = %v, want ErrNotLocked", err)
	}
	if err := a.Unlock(ctx, la); err != nil {
		t.Errorf("the cleared holder's Unlock = %v, want nil", err)
	}
	if h := holder(t, b); h != "bo" {
		t.Errorf("the cleared holder's Unlock changed the lock: holder %q", h)
	}
	if err := b.Update(ctx, lb, noop); err != nil {
		t.Fatal(err)
	}
	if got := serial(t, a); got != 1 {
		t.Errorf("serial %d, want 1", got)
	}
	// A lock can be locked again by the cleared store itself.
	if err := b.Unlock(ctx, lb); err != nil {
		t.Fatal(err)
	}
	lock(t, a, "ana", 0)
}

// TestClearWithoutPrivilege: clearing, as a role that may not end the holder's session, another
// process's live lock removes the row (the holder is fenced) and says that the fleet stays locked
// until the holder ends; it does.
func TestClearWithoutPrivilege(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t) // the superuser's: its sessions cannot be ended by an ordinary role
	a := open(t, dsn)
	la := lock(t, a, "ana", 0)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	db := strings.TrimPrefix(u.Path, "/")
	role := "clearer_" + db
	for _, sql := range []string{
		`CREATE ROLE ` + role + ` LOGIN PASSWORD 'clearer-pw'`,
		`GRANT SELECT, INSERT, UPDATE, DELETE ON deskfleet_locks, deskfleet_records, deskfleet_schema_version TO ` + role,
	} {
		if _, err := pgtest.Connect(t, dsn).Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	b := open(t, "postgres://"+role+":clearer-pw@"+pgtest.TCPAddr(t)+"/"+db+"?sslmode=disable")
	cur, err := b.CurrentLock(ctx, fleet)
	if err != nil || cur == nil {
		t.Fatalf("CurrentLock = %v, %v", cur, err)
	}
	if err := b.Unlock(ctx, cur); err == nil || !strings.Contains(err.Error(), "stays locked") {
		t.Errorf("clearing a lock whose session cannot be ended = %v, want an error saying the fleet stays locked", err)
	}
	if h := holder(t, b); h != "" {
		t.Errorf("the lock row is still there (holder %q)", h)
	}
	if err := a.Update(ctx, la, noop); !errors.Is(err, state.ErrNotLocked) {
		t.Errorf("the cleared holder's Update = %v, want ErrNotLocked", err)
	}
	var le *state.LockedError
	if _, err := b.Lock(ctx, fleet, statetest.Holder("bo"), 0); !errors.As(err, &le) {
		t.Errorf("Lock while the cleared holder's session lives = %v, want a LockedError", err)
	}
	if err := a.Unlock(ctx, la); err != nil {
		t.Fatal(err)
	}
	lock(t, b, "bo", 30*time.Second)
}

// TestFencing: Update checks the lock row under the lock's own connection, whatever else happened to
// it; a refused Update changes nothing.
func TestFencing(t *testing.T) {
	tests := []struct {
		name   string
		reason string
		tamper string
	}{
		{"row deleted", "a holder whose row was removed (while its session lives) may not write", `DELETE FROM deskfleet_locks`},
		{"row replaced", "a holder whose row holds another token (taken over) may not write", `UPDATE deskfleet_locks SET token = 'other'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := pgtest.DSN(t)
			s := open(t, dsn)
			l := lock(t, s, "ana", 0)
			if _, err := pgtest.Connect(t, dsn).Exec(ctx, tt.tamper); err != nil {
				t.Fatal(err)
			}
			if err := s.Update(ctx, l, func(r *state.Record) error { r.Runs = []state.Run{{ID: "x"}}; return nil }); !errors.Is(err, state.ErrNotLocked) {
				t.Errorf("%s: Update = %v, want ErrNotLocked", tt.reason, err)
			}
			if got := serial(t, s); got != 0 {
				t.Errorf("%s: serial %d after a refused Update", tt.reason, got)
			}
		})
	}
}

// TestCanceledUpdateKeepsLock: a context that ends during Update (before a statement, or while one
// waits in the server) fails that Update only: the lock's connection is kept, with its lock.
func TestCanceledUpdateKeepsLock(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	s := open(t, dsn)
	l := lock(t, s, "ana", 0)

	cctx, cancel := context.WithCancel(ctx)
	err := s.Update(cctx, l, func(r *state.Record) error { cancel(); r.Runs = []state.Run{{ID: "x"}}; return nil })
	if !errors.Is(err, context.Canceled) || errors.Is(err, state.ErrNotLocked) {
		t.Errorf("Update whose context ends in fn = %v, want context.Canceled", err)
	}

	// Another session keeps the lock row locked: Update waits in the server until its deadline.
	conn := pgtest.Connect(t, dsn)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM deskfleet_locks WHERE fleet = $1 FOR UPDATE`, fleet); err != nil {
		t.Fatal(err)
	}
	dctx, dcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer dcancel()
	if err := s.Update(dctx, l, noop); !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, state.ErrNotLocked) {
		t.Errorf("Update whose context ends while it waits in the server = %v, want DeadlineExceeded", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	if got := serial(t, s); got != 0 {
		t.Errorf("serial %d after canceled Updates", got)
	}
	if err := s.Update(ctx, l, noop); err != nil {
		t.Fatalf("Update after canceled ones: %v", err)
	}
	if got := serial(t, s); got != 1 {
		t.Errorf("serial %d, want 1", got)
	}
}

// TestConcurrentOpen: processes opening a new database at once all succeed: the migrations run once,
// under the advisory transaction lock; a later Open finds nothing to do.
func TestConcurrentOpen(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	const n = 8
	stores := make([]*postgres.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = postgres.Open(ctx, dsn, postgres.Options{}) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("Open %d: %v", i, errs[i])
			continue
		}
		stores[i].Close()
	}
	open(t, dsn)
	var versions, top int
	if err := pgtest.Connect(t, dsn).QueryRow(ctx, `SELECT count(*), max(version) FROM deskfleet_schema_version`).Scan(&versions, &top); err != nil {
		t.Fatal(err)
	}
	if versions != len(migrationsApplied()) || top != postgres.SchemaVersion {
		t.Errorf("schema versions: %d rows, highest %d; want %d rows up to %d", versions, top, len(migrationsApplied()), postgres.SchemaVersion)
	}
}

func migrationsApplied() []int {
	var v []int
	for i := 1; i <= postgres.SchemaVersion; i++ {
		v = append(v, i)
	}
	return v
}

// TestNewerSchema: a database migrated by a newer deskfleet is refused, not written to.
func TestNewerSchema(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	open(t, dsn)
	if _, err := pgtest.Connect(t, dsn).Exec(ctx, `INSERT INTO deskfleet_schema_version (version) VALUES ($1)`, postgres.SchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	_, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err == nil || !strings.Contains(err.Error(), "upgrade deskfleet") {
		t.Errorf("Open of a database with a newer schema = %v, want a refusal", err)
	}
}

func TestIsDSN(t *testing.T) {
	tests := []struct {
		in     string
		want   bool
		reason string
	}{
		{"postgres://ana@db/deskfleet", true, "the usual scheme"},
		{"postgresql://db/deskfleet", true, "libpq's other scheme"},
		{"PostgreSQL://db/deskfleet", true, "schemes are case-insensitive"},
		{".deskfleet/state.db", false, "a file path is the bolt store"},
		{"postgres.db", false, "a file named like the database is still a file"},
		{"host=db dbname=deskfleet", true, "a keyword/value string, as libpq accepts it, names a database: never a file to create"},
		{"host=db password=X dbname=deskfleet", true, "with a password: must not become a file named after it"},
		{"  dbname = deskfleet  ", true, "white space around '=' and the pairs, as libpq allows"},
		{"host='/run/postgresql' dbname='desk fleet'", true, "quoted values"},
		{"host=db password=hun\\ ter2 dbname=x", true, "an escaped space inside a value"},
		{"hots=db dbname=deskfleet", true, "a misspelt keyword beside a known one: the database says what is wrong, no file is made"},
		{"state=prod.db", false, "a file name with an '=' whose key is no libpq keyword is a file"},
		{"dbname=", true, "an empty value is still a keyword/value string"},
		{"my state=1.db", false, "words that are not keyword=value pairs are a file path"},
		{"host='db dbname=x", false, "an unterminated quote is not a connection string"},
		{"=db", false, "no keyword"},
		{"", false, "empty"},
		{"mysql://db/x", false, "another database's URL"},
	}
	for _, tt := range tests {
		if got := postgres.IsDSN(tt.in); got != tt.want {
			t.Errorf("IsDSN(%q) = %v, want %v: %s", tt.in, got, tt.want, tt.reason)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := []struct {
		in, want string
		secret   string
		reason   string
	}{
		{"postgres://ana:hunter2x@db.example:5432/deskfleet?sslmode=require", "postgres://ana:***@db.example:5432/deskfleet?sslmode=require", "hunter2x",
			"the password of the user information is masked, the rest kept"},
		{"POSTGRESQL://ana:hunter2x@db/deskfleet", "POSTGRESQL://ana:***@db/deskfleet", "hunter2x", "the scheme is kept as written"},
		{"postgres://ana@db/deskfleet", "postgres://ana@db/deskfleet", "", "no password: unchanged"},
		{"postgres://db/deskfleet?sslmode=require&password=hunter2x&application_name=ci", "postgres://db/deskfleet?sslmode=require&password=***&application_name=ci", "hunter2x",
			"a password query parameter is masked, the other parameters kept in order"},
		{"postgres://ana:hunter2x@db/deskfleet?password=hunter3y", "postgres://ana:***@db/deskfleet?password=***", "hunter3y", "both places at once"},
		{"postgres://ana:hun%40ter%2F2x@db/deskfleet", "postgres://ana:***@db/deskfleet", "hun%40ter%2F2x", "an escaped password is masked whole"},
		{"postgres://ana:@db/deskfleet", "postgres://ana:***@db/deskfleet", "", "an empty password is still shown as masked"},
		{"postgres:///deskfleet?host=/run/postgresql&password=hunter2x", "postgres:///deskfleet?host=/run/postgresql&password=***", "hunter2x", "a unix socket DSN"},
		{"postgres://ana:hun@ter2x@db/deskfleet", "postgres://ana:***@db/deskfleet", "ter2x", "an unescaped '@' in the password: the user information ends at the last '@'"},
		{"postgres://ana:hunter2x@db:notaport/deskfleet", "postgres://***@db:notaport/deskfleet", "hunter2x", "a URL that does not parse is masked up to its '@'"},
		{"postgres://ana:hun/ter2x@db/deskfleet", "postgres://***@db/deskfleet", "ter2x", "an unescaped '/' in the password makes the URL ambiguous: masked up to the last '@'"},
		{"postgres://ana:hun?ter2x@db/deskfleet", "postgres://***@db/deskfleet", "ter2x", "an unescaped '?' in the password: masked up to the last '@'"},
		{"postgres://ana:hun#ter2x@db/deskfleet", "postgres://***@db/deskfleet", "ter2x", "an unescaped '#' in the password: masked up to the last '@'"},
		{"postgres://ana:12/hunter2x@db/deskfleet", "postgres://***@db/deskfleet", "hunter2x", "a password that looks like a port and a path: the '@' after the host makes it ambiguous"},
		{"postgres://ana:hunter2x@h1:5432,h2:5433/deskfleet", "", "hunter2x", "several hosts: whatever the form, no password"},
		{"host=db user=ana password=hunter2x dbname=deskfleet", "host=db user=ana password=*** dbname=deskfleet", "hunter2x", "a keyword/value string"},
		{"host=db password='hun ter2x' dbname=deskfleet", "host=db password=*** dbname=deskfleet", "ter2x", "a quoted keyword value"},
		{"host=db password=hun\\ ter2x dbname=deskfleet", "host=db password=*** dbname=deskfleet", "ter2x", "an escaped space: the value is masked whole, not up to the space"},
		{"host=db password = 'it\\'s-ter2x' dbname=x", "host=db password = *** dbname=x", "ter2x", "spaces around '=' and an escaped quote"},
		{"password=hunter2x", "password=***", "hunter2x", "the password alone"},
		{"host=db sslkey=k.pem sslpassword=hunter2x", "host=db sslkey=k.pem sslpassword=***", "hunter2x", "the client key's passphrase is a secret too"},
		{"postgres://db/x?sslpassword=hunter2x", "postgres://db/x?sslpassword=***", "hunter2x", "in a URL too"},
		{"not a dsn", "not a dsn", "", "anything else is returned as is"},
	}
	for _, tt := range tests {
		got := postgres.Redact(tt.in)
		if tt.want != "" && got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q: %s", tt.in, got, tt.want, tt.reason)
		}
		if tt.secret != "" && strings.Contains(got, tt.secret) {
			t.Errorf("Redact(%q) = %q shows the password: %s", tt.in, got, tt.reason)
		}
	}
}

// TestErrorsHidePassword: no error of Open contains the password, whether it comes from the DSN or
// from PGPASSWORD, whatever failed (nothing listening, wrong password, a DSN that does not parse).
func TestErrorsHidePassword(t *testing.T) {
	const secret = "Zq7-sekret-Passw0rd"
	right := pgtest.PasswordDSN(t, "the-right-one")
	wrong := strings.Replace(right, "the-right-one", url.PathEscape(secret), 1)
	noPassword := strings.Replace(right, ":the-right-one@", "@", 1)
	tests := []struct {
		name   string
		dsn    string
		env    string // PGPASSWORD
		want   string // in the error
		reason string
	}{
		{"unreachable", "postgres://ana:" + secret + "@127.0.0.1:1/deskfleet?sslmode=disable&connect_timeout=10", "", "deskfleet",
			"a connection refused must not print the DSN's password"},
		{"unreachable, password parameter", "postgres://ana@127.0.0.1:1/deskfleet?sslmode=disable&password=" + secret, "", "deskfleet",
			"nor the password given as a query parameter"},
		{"does not parse", "postgres://ana:" + secret + "@db:notaport/deskfleet", "", "cannot parse",
			"a DSN the driver refuses is not echoed"},
		{"wrong password", wrong, "", "password authentication failed",
			"the server refusing the password: the error says so without the password"},
		{"wrong PGPASSWORD", noPassword, secret, "password authentication failed",
			"a password from the environment is hidden too"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PGPASSWORD", tt.env)
			s, err := postgres.Open(context.Background(), tt.dsn, postgres.Options{ConnectTimeout: 10 * time.Second})
			if err == nil {
				s.Close()
				t.Fatalf("%s: Open succeeded", tt.reason)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: error %q does not say %q", tt.reason, err, tt.want)
			}
			for e := range errorTree(err) {
				for _, form := range []string{secret, url.QueryEscape(secret), "sekret"} {
					if strings.Contains(e.Error(), form) {
						t.Errorf("%s: error %q (in the chain of %q) contains the password", tt.reason, e, err)
					}
				}
			}
		})
	}
}

// errorTree yields err and every error it wraps.
func errorTree(err error) func(func(error) bool) {
	return func(yield func(error) bool) {
		var walk func(error) bool
		walk = func(e error) bool {
			if e == nil {
				return true
			}
			if !yield(e) {
				return false
			}
			switch u := e.(type) {
			case interface{ Unwrap() error }:
				return walk(u.Unwrap())
			case interface{ Unwrap() []error }:
				for _, c := range u.Unwrap() {
					if !walk(c) {
						return false
					}
				}
			}
			return true
		}
		walk(err)
	}
}

// TestPasswordSources: the password may come from the DSN, PGPASSWORD or a password file (PGPASSFILE),
// as with libpq; Describe never shows it.
func TestPasswordSources(t *testing.T) {
	const password = "pw-Source-4471"
	dsn := pgtest.PasswordDSN(t, password)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	role := u.User.Username()
	bare := strings.Replace(dsn, ":"+password+"@", "@", 1)
	passfile := filepath.Join(t.TempDir(), "pgpass")
	line := fmt.Sprintf("%s:%s:%s:%s:%s\n", u.Hostname(), u.Port(), strings.TrimPrefix(u.Path, "/"), role, password)
	if err := os.WriteFile(passfile, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		dsn      string
		env      map[string]string
		reason   string
		describe string
	}{
		{"in the DSN", dsn, nil, "the URL's password is used", "postgres://" + role + ":***@"},
		{"PGPASSWORD", bare, map[string]string{"PGPASSWORD": password}, "libpq's PGPASSWORD keeps working", "postgres://" + role + "@"},
		{"password file", bare, map[string]string{"PGPASSFILE": passfile}, "libpq's password file keeps working", "postgres://" + role + "@"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PGPASSWORD", "")
			t.Setenv("PGPASSFILE", filepath.Join(t.TempDir(), "none"))
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			s, err := postgres.Open(context.Background(), tt.dsn, postgres.Options{})
			if err != nil {
				t.Fatalf("%s: Open = %v", tt.reason, err)
			}
			defer s.Close()
			if d := s.Describe(); !strings.HasPrefix(d, tt.describe) || strings.Contains(d, password) {
				t.Errorf("%s: Describe() = %q, want it to start %q without the password", tt.reason, d, tt.describe)
			}
			lock(t, s, "ana", 0)
		})
	}
}

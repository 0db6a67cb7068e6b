// Package pgtest runs a throwaway PostgreSQL server for a package's tests: call Main from the
// package's TestMain, then DSN in each test for a fresh, empty database.
//
// The server is started on first use (a package whose PostgreSQL tests are all skipped or filtered
// out starts nothing), in a temporary folder: initdb (local connections trusted, TCP ones by
// password), listening on a unix socket in that folder and on a loopback port, with fsync off. It is
// stopped (pg_ctl stop -m immediate) and its folder removed when the tests end. The postmaster is a
// child of the test binary that, on Linux, is sent SIGQUIT (immediate shutdown) if the test binary
// dies first (a panic, a -timeout, a kill), so no server outlives its tests; a folder left behind
// by such a death is removed by the next run.
//
// The server's programs (initdb, pg_ctl, postgres) are looked for on PATH, then under
// /usr/lib/postgresql/*/bin (the highest version). When they are missing, tests fail, naming
// scripts/ensure-postgres.sh, which installs them. initdb refuses to run as root: as root, the
// server runs as the postgres system user (Debian's package creates it), or else nobody.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// dirPrefix names the temporary folders of servers (so a later run can remove abandoned ones).
const dirPrefix = "pgtest-"

var (
	mainCalled atomic.Bool

	startOnce sync.Once
	srv       *server
	startErr  error

	createMu sync.Mutex // CREATE DATABASE, one at a time
	seq      atomic.Int64
)

// Main runs the tests (m.Run), then stops the server if one was started, and exits with m.Run's code.
// Call it from TestMain.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main for a TestMain with its own work after the tests: it returns m.Run's code instead of
// exiting, the server stopped.
func Run(m *testing.M) int {
	mainCalled.Store(true)
	if cred, err := serverUser(); err == nil {
		removeAbandoned(tempBase(cred != nil))
	}
	defer stop()
	return m.Run()
}

// DSN returns a connection URL to a new, empty database of the test server, as its superuser
// (postgres) over the unix socket, starting the server on first use. It fails the test when the
// server cannot run.
func DSN(t testing.TB) string {
	t.Helper()
	s := server1(t)
	name := s.createDatabase(t, "")
	return s.socketDSN(name, "postgres")
}

// PasswordDSN returns a connection URL over TCP (loopback) to a new, empty database owned by a new
// role whose password is password: the server checks it (scram-sha-256), so a DSN with another
// password fails to connect.
func PasswordDSN(t testing.TB, password string) string {
	t.Helper()
	s := server1(t)
	n := seq.Add(1)
	role := fmt.Sprintf("r%d", n)
	s.admin(t, fmt.Sprintf(`CREATE ROLE %s LOGIN PASSWORD %s`, role, quoteLiteral(password)))
	name := s.createDatabase(t, role)
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(role, password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)),
		Path:     "/" + name,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Connect opens a connection of the test's own to dsn (a DSN of this package), closed when the test
// ends: for a test to look at or tamper with what the code under test wrote.
func Connect(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatalf("pgtest: connecting: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// TCPAddr is the server's loopback address ("127.0.0.1:port"), starting the server on first use.
func TCPAddr(t testing.TB) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(server1(t).port))
}

func server1(t testing.TB) *server {
	t.Helper()
	if !mainCalled.Load() {
		t.Fatal("pgtest: call pgtest.Main(m) from the package's TestMain, so that the server is stopped after the tests")
	}
	startOnce.Do(func() { srv, startErr = start() })
	if startErr != nil {
		t.Fatalf("pgtest: %v", startErr)
	}
	return srv
}

// server is a running test server.
type server struct {
	bin     string // folder of initdb, pg_ctl, postgres
	dir     string // temporary folder: data/, the socket, log
	data    string
	port    int
	cred    *credential // nil: run as this process's user
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the postmaster has exited
	waitErr error
}

// errMissing is the error when no PostgreSQL server programs are found.
var errMissing = errors.New("PostgreSQL's server programs (initdb, pg_ctl, postgres) were not found on PATH or under " +
	"/usr/lib/postgresql/*/bin: run scripts/ensure-postgres.sh (make test does) to install them")

// findBin returns the folder holding initdb, pg_ctl and postgres: initdb's on PATH, else the
// highest version under /usr/lib/postgresql.
func findBin() (string, error) {
	has := func(dir string) bool {
		for _, p := range []string{"initdb", "pg_ctl", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, p)); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
				return false
			}
		}
		return true
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if dir := filepath.Dir(p); has(dir) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return versionOf(b) - versionOf(a) })
	for _, dir := range dirs {
		if has(dir) {
			return dir, nil
		}
	}
	return "", errMissing
}

// versionOf is the major version of a /usr/lib/postgresql/<version>/bin folder (0 when unknown).
func versionOf(bin string) int {
	v := filepath.Base(filepath.Dir(bin))
	major, _, _ := strings.Cut(v, ".")
	n, _ := strconv.Atoi(major)
	return n
}

func start() (*server, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	cred, err := serverUser()
	if err != nil {
		return nil, err
	}
	base := tempBase(cred != nil)
	removeAbandoned(base)
	dir, err := os.MkdirTemp(base, dirPrefix)
	if err != nil {
		return nil, err
	}
	s := &server{bin: bin, dir: dir, data: filepath.Join(dir, "data"), cred: cred}
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if cred != nil {
		if err := chown(dir, cred); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if err := s.initdb(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// A free loopback port is only free until someone takes it: try a few.
	for attempt := 0; ; attempt++ {
		err = s.run()
		if err == nil {
			return s, nil
		}
		if attempt == 2 || !strings.Contains(err.Error(), "could not bind") && !strings.Contains(err.Error(), "could not create") {
			os.RemoveAll(dir)
			return nil, err
		}
	}
}

// tempBase is the folder for the server's folder: the system's temporary folder, unless its path
// would make the socket's too long (unix sockets allow about 100 bytes) or, when the server runs as
// another user, that user could not reach it.
func tempBase(otherUser bool) string {
	base := os.TempDir()
	if len(base) > 60 || (otherUser && !reachableByOthers(base)) {
		return "/tmp"
	}
	return base
}

func reachableByOthers(dir string) bool {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		if d == filepath.Dir(d) {
			return true
		}
	}
}

// removeAbandoned removes the folders of servers whose test binary died without stopping them.
func removeAbandoned(base string) {
	dirs, _ := filepath.Glob(filepath.Join(base, dirPrefix+"*"))
	for _, dir := range dirs {
		if alive(filepath.Join(dir, "owner.pid")) {
			continue
		}
		if alive(filepath.Join(dir, "data", "postmaster.pid")) {
			continue // its server still runs (no parent-death signal on this system)
		}
		os.RemoveAll(dir)
	}
}

// alive reports whether the pid on the first line of file is a running process (false when the file
// cannot be read).
func alive(file string) bool {
	b, err := os.ReadFile(file)
	if err != nil {
		return false
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	return err == nil && pid > 0 && processAlive(pid)
}

// command returns a command running the server program name as the server's user.
func (s *server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = s.dir
	cmd.Env = serverEnv()
	cmd.SysProcAttr = sysProcAttr(s.cred)
	return cmd
}

// serverEnv is this process's environment without libpq's and the server's variables, in the C locale.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C")
}

func (s *server) initdb() error {
	cmd := s.command("initdb", "-D", s.data, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256",
		"-E", "UTF8", "--locale=C", "--no-sync")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, out)
	}
	return nil
}

// run starts the postmaster on a free port and waits until it accepts connections.
func (s *server) run() error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.port = port
	logPath := filepath.Join(s.dir, "log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := s.command("postgres", "-D", s.data, "-p", strconv.Itoa(port), "-k", s.dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "max_connections=300", "-c", "log_min_messages=warning")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting postgres: %w", err)
	}
	s.cmd = cmd
	s.exited = make(chan struct{})
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()

	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err := pgx.Connect(ctx, s.socketDSN("postgres", "postgres"))
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return nil
		}
		select {
		case <-s.exited:
			out, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres exited (%v):\n%s", s.waitErr, bytes.TrimSpace(out))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.kill()
			out, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres did not accept connections within a minute (%v):\n%s", err, bytes.TrimSpace(out))
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *server) socketDSN(db, role string) string {
	q := url.Values{"host": {s.dir}, "port": {strconv.Itoa(s.port)}, "user": {role}, "sslmode": {"disable"}}
	return "postgres:///" + db + "?" + q.Encode()
}

// admin runs sql as the superuser on the postgres database.
func (s *server) admin(t testing.TB, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.socketDSN("postgres", "postgres"))
	if err != nil {
		t.Fatalf("pgtest: connecting to the test server: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("pgtest: %s: %v", sql, err)
	}
}

// createDatabase creates a new database (owned by owner, "" for the superuser) and returns its name.
func (s *server) createDatabase(t testing.TB, owner string) string {
	t.Helper()
	name := fmt.Sprintf("t%d", seq.Add(1))
	sql := "CREATE DATABASE " + name
	if owner != "" {
		sql += " OWNER " + owner
	}
	createMu.Lock()
	defer createMu.Unlock()
	s.admin(t, sql)
	return name
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// stop stops the server, if one was started, and removes its folder.
func stop() {
	if srv == nil {
		return
	}
	s := srv
	cmd := s.command("pg_ctl", "stop", "-D", s.data, "-m", "immediate", "-w", "-t", "30")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: pg_ctl stop: %v\n%s", err, out)
	}
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		s.kill()
	}
	if err := os.RemoveAll(s.dir); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: removing %s: %v\n", s.dir, err)
	}
}

// kill ends the postmaster at once and waits for it.
func (s *server) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		<-s.exited
	}
}

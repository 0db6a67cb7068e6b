package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/internal/pgtest"
)

// TestCLIPostgresTwoProcesses runs two deskfleet processes on one fleet recorded in PostgreSQL, as two
// CI runners would: while one applies, the other exits 4 naming it; when the holder is killed
// (SIGKILL: no cleanup, its connection simply drops), the server releases its lock, and the other
// gets the lock within five seconds (its --lock-timeout), settles what the dead run left in flight,
// and converges with no desktop made twice.
func TestCLIPostgresTwoProcesses(t *testing.T) {
	dsn := pgtest.DSN(t)
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(oobSpec), 0o644))
	env := []string{"DESKFLEET_STATE=" + dsn}

	// The first apply's tasks take 3s, so it is still running (and holding the lock) while the second
	// tries, and is killed with calls in flight.
	first := exec.Command(binPath, "apply", "--endpoint", "sim", "--auto-approve")
	first.Dir = dir
	first.Env = cliEnv(append([]string{"HOME=" + dir, "DESKFLEET_SIM_TASK_TIME=3s", "DESKFLEET_POLL_INTERVAL=50ms"}, env...)...)
	var out1 lockedBuffer
	first.Stdout, first.Stderr = &out1, &out1
	must(t, first.Start())
	defer first.Process.Kill() //nolint:errcheck // already dead in the normal course
	waitFor(t, &out1, "CreateVm", "the first apply to start its CreateVm")

	r := runBin(t, dir, append(env, fastSim...), "apply", "--endpoint", "sim", "--auto-approve")
	if r.code != exitLockHeld || !regexp.MustCompile(`locked by \S+@\S+ \(pid \d+, deskfleet apply`).MatchString(r.stderr) {
		t.Fatalf("second apply while the first runs: exit %d (want 4 naming the holder), stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "pid "+strconv.Itoa(first.Process.Pid)) {
		t.Errorf("the second apply does not name the first's pid %d:\n%s", first.Process.Pid, r.stderr)
	}

	must(t, first.Process.Signal(syscall.SIGKILL))
	_ = first.Wait()
	killed := time.Now()
	if strings.Contains(out1.String(), "Apply done") {
		t.Fatalf("the first apply finished before it was killed: the test proves nothing\n%s", out1.String())
	}

	// The server notices the dropped connection and releases the lock: `state show` says free.
	for {
		r := runBin(t, dir, env, "state", "show", "oob")
		if strings.Contains(r.stdout, "Lock: free") {
			break
		}
		if time.Since(killed) > time.Minute {
			t.Fatalf("a minute after the kill, state show still says:\n%s\n%s", r.stdout, r.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("the lock was free %v after the kill", time.Since(killed).Round(time.Millisecond))

	// The second waits at most five seconds for the lock: failing to get it in that time is exit 4.
	r = runBin(t, dir, append(env, fastSim...), "apply", "--endpoint", "sim", "--auto-approve", "--lock-timeout", "5s")
	t.Logf("the second apply ran %v after the kill (the lock was free within its 5s --lock-timeout)", time.Since(killed).Round(time.Millisecond))
	if r.code != 0 {
		t.Fatalf("apply after the holder was killed: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout+r.stderr, "from an earlier run") {
		t.Errorf("the second apply did not settle the killed run's calls in flight:\n%s\n%s", r.stdout, r.stderr)
	}
	p := runBin(t, dir, append(env, fastSim...), "plan", "--endpoint", "sim", "--detailed-exitcode")
	if p.code != 0 || !strings.Contains(p.stdout, "No changes") {
		t.Fatalf("plan after the takeover: exit %d\n%s\n%s", p.code, p.stdout, p.stderr)
	}
	counts := desktopCounts(t, dir)
	for _, name := range []string{"cad", "cad_001", "vault"} {
		if counts[name] != 1 {
			t.Errorf("%d live desktops named %s, want 1 (all: %v)", counts[name], name, counts)
		}
	}
	h := runBin(t, dir, env, "state", "history", "oob")
	if h.code != 0 || !strings.Contains(h.stdout, "ABANDONED") {
		t.Errorf("the journal in PostgreSQL does not show the killed run as abandoned:\n%s\n%s", h.stdout, h.stderr)
	}
}

// TestCLIStateMigrate moves a fleet's record from a file to PostgreSQL and back: plans against the
// copy are empty, the journal came along, an existing target is not overwritten without --force, and
// the database password never appears in any output.
func TestCLIStateMigrate(t *testing.T) {
	const password = "canary-pw-7Qx"
	dsn := pgtest.PasswordDSN(t, password)
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(oobSpec), 0o644))
	mustRun(t, dir, 0, "apply", "--endpoint", "sim", "--auto-approve")

	var outputs []string
	run := func(code int, args ...string) result {
		t.Helper()
		r := mustRun(t, dir, code, args...)
		outputs = append(outputs, r.stdout, r.stderr)
		return r
	}
	r := run(0, "state", "migrate", "--to", dsn)
	if !strings.Contains(r.stdout, "Copied fleet oob (3 desktops, 2 accounts, 1 run, 0 unfinished calls)") ||
		!strings.Contains(r.stdout, ":***@") {
		t.Errorf("migrate to PostgreSQL says:\n%s", r.stdout)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"plan", "--endpoint", "sim", "--state", dsn, "--detailed-exitcode"}, "No changes"},
		{[]string{"drift", "--endpoint", "sim", "--state", dsn}, "No drift"},
	} {
		if r := run(0, c.args...); !strings.Contains(r.stdout, c.want) {
			t.Errorf("deskfleet %s against the copy does not say %q:\n%s", c.args[0], c.want, r.stdout)
		}
	}
	if r := run(0, "state", "history", "--state", dsn, "oob"); !strings.Contains(r.stdout, "Fleet oob: 1 run") {
		t.Errorf("the journal did not come along:\n%s", r.stdout)
	}
	if r := run(0, "state", "show", "--state", dsn, "oob"); !strings.Contains(r.stdout, ":***@") {
		t.Errorf("state show does not name the store with its password masked:\n%s", r.stdout)
	}

	// The target has the fleet now: copying again needs --force.
	r = run(exitError, "state", "migrate", "--to", dsn)
	if !strings.Contains(r.stderr, "already holds a record") || !strings.Contains(r.stderr, "hint: pass --force") {
		t.Errorf("migrate over an existing record:\n%s", r.stderr)
	}
	run(0, "state", "migrate", "--to", dsn, "--force")

	// An apply through PostgreSQL, then back to a new file, which plans empty too.
	must(t, os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(strings.Replace(oobSpec, "team-a", "team-c", 1)), 0o644))
	run(0, "apply", "--endpoint", "sim", "--state", dsn, "--auto-approve")
	run(0, "state", "migrate", "--state", dsn, "--to", "back.db", "oob")
	r = run(0, "plan", "--endpoint", "sim", "--state", "back.db", "--detailed-exitcode")
	if !strings.Contains(r.stdout, "No changes") {
		t.Errorf("plan against the file copied back:\n%s", r.stdout)
	}
	if r := run(0, "state", "history", "--state", "back.db", "oob"); !strings.Contains(r.stdout, "Fleet oob: 2 runs") {
		t.Errorf("the journal copied back:\n%s", r.stdout)
	}

	// A wrong password: an error with a hint, and still no password in it.
	bad := strings.Replace(dsn, password, password+"-wrong", 1)
	r = run(exitError, "state", "list", "--state", bad)
	if !strings.Contains(r.stderr, "hint:") {
		t.Errorf("a wrong password gives no hint:\n%s", r.stderr)
	}
	for _, o := range outputs {
		if strings.Contains(o, password) {
			t.Fatalf("the password appears in an output:\n%s", o)
		}
	}
}

// waitFor waits (up to a minute) until out contains s.
func waitFor(t *testing.T, out *lockedBuffer, s, what string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(out.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s; output:\n%s", what, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/internal/pgtest"
	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/bolt/bolttest"
)

// restoreSpec is a one-desktop fleet for plan on the emulator.
const restoreSpec = "version: 1\nfleet: cli\ndefaults: {site: 宿迁A}\nprofiles:\n" +
	"  win: {product: {gpu: NVIDIA A5000, os: windows}, image: Windows10-公共镜像-图像处理型}\n" +
	"desktops:\n  - {name: edit, profile: win}\n"

// cliRecord is fleet cli's record with n managed desktops named PREFIX-i (gone from the cloud: plan
// shows them), so that the file spans many pages.
func cliRecord(prefix string, n int) state.Record {
	rec := state.Record{Fleet: "cli", Desktops: map[string]state.Desktop{}}
	for i := range n {
		id := fmt.Sprintf("vm-gone-%04d", i)
		rec.Desktops[id] = state.Desktop{VmID: id, Name: fmt.Sprintf("%s-%04d", prefix, i), AppliedAt: stateT0}
	}
	return rec
}

// TestDamagedStateFile: a truncated state file (which crashed with SIGBUS, exit 2) and one with
// garbled pages (a panic, exit 2) make plan and state show fail with exit 1, a message naming the
// file and a hint naming `deskfleet state restore`; after restore both work again, on the previous
// generation.
func TestDamagedStateFile(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
	}{
		{"truncated", func(t *testing.T, path string) { bolttest.Truncate(t, path) }},
		{"garbled", func(t *testing.T, path string) { bolttest.Garble(t, path, 3) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(restoreSpec), 0o644); err != nil {
				t.Fatal(err)
			}
			writeStateFile(t, dir, cliRecord("first", 400))  // one run
			writeStateFile(t, dir, cliRecord("second", 400)) // the next: keeps the first as state.db.prev
			path := filepath.Join(dir, ".deskfleet", "state.db")
			tt.damage(t, path)

			for _, args := range [][]string{
				{"plan", "--endpoint", "sim", "--detailed-exitcode"},
				{"state", "show", "cli"},
				{"state", "list"},
			} {
				r := runBin(t, dir, nil, args...)
				checkStateResult(t, tt.name+": "+strings.Join(args, " ")+" on a damaged state file", r, 1, nil, nil,
					[]string{"state.db is damaged", "hint: `deskfleet state restore` puts back its previous generation"})
				if strings.Contains(r.stderr, "goroutine") || strings.Contains(r.stderr, "panic") {
					t.Errorf("%s: %v: a crash, not an error:\n%s", tt.name, args, r.stderr)
				}
			}
			r := runBin(t, dir, nil, "state", "restore")
			checkStateResult(t, tt.name+": state restore", r, 0, []string{"Fleet cli: restored to serial 1"}, nil, nil)
			r = runBin(t, dir, nil, "plan", "--endpoint", "sim")
			checkStateResult(t, tt.name+": plan after restore", r, 0, []string{"first-0007"}, []string{"second-0007"}, nil)
			r = runBin(t, dir, nil, "state", "show", "cli")
			checkStateResult(t, tt.name+": state show after restore", r, 0, []string{"first-0007"}, nil, nil)
			r = runBin(t, dir, nil, "state", "restore")
			checkStateResult(t, tt.name+": restore of a sound file", r, 1, nil, nil, []string{"not damaged; nothing restored"})
		})
	}
}

// TestDamagedPostgresRecord: a PostgreSQL record edited by hand (its checksum no longer matches) makes
// plan and state show fail with exit 1 and a hint naming `deskfleet state restore FLEET`; restore puts
// back the record the last apply replaced.
func TestDamagedPostgresRecord(t *testing.T) {
	dsn := pgtest.DSN(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(restoreSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"DESKFLEET_STATE=" + dsn}
	for range 2 {
		r := runBin(t, dir, append(env, fastSim...), "apply", "--endpoint", "sim", "--auto-approve")
		checkStateResult(t, "apply", r, 0, nil, nil, nil)
	}
	conn := pgtest.Connect(t, dsn)
	if _, err := conn.Exec(t.Context(), `UPDATE deskfleet_records SET record = jsonb_set(record, '{serial}', '99')`); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"plan", "--endpoint", "sim", "--detailed-exitcode"}, {"state", "show", "cli"}} {
		r := runBin(t, dir, env, args...)
		checkStateResult(t, strings.Join(args, " ")+" on an edited record", r, 1, nil, nil,
			[]string{"the record of fleet cli is damaged", "checksum does not match", "deskfleet state restore --state postgres://"})
	}
	r := runBin(t, dir, env, "state", "restore", "cli")
	checkStateResult(t, "state restore cli", r, 0, []string{"Fleet cli: restored to serial"}, nil, nil)
	r = runBin(t, dir, env, "state", "show", "cli")
	checkStateResult(t, "state show after restore", r, 0, []string{"Fleet cli"}, nil, nil)
}

// TestDamagedLocationUntouched: --state naming a file that is not a state file (the spec) is refused
// and the file keeps its mode and content; a state path that is a symbolic link is read without its
// target's mode being changed through it.
func TestDamagedLocationUntouched(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "fleet.yaml")
	if err := os.WriteFile(spec, []byte(restoreSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runBin(t, dir, nil, "state", "list", "--state", "fleet.yaml")
	checkStateResult(t, "--state fleet.yaml", r, 1, nil, nil, []string{"not a deskfleet state file"})
	if fi, _ := os.Stat(spec); fi.Mode().Perm() != 0o644 {
		t.Errorf("--state fleet.yaml: the spec's mode became %04o", fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(spec); string(b) != restoreSpec {
		t.Errorf("--state fleet.yaml: the spec was changed")
	}

	writeStateFile(t, dir, stateFarm)
	real := filepath.Join(dir, ".deskfleet", "state.db")
	if err := os.Chmod(real, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, filepath.Join(dir, "linked.db")); err != nil {
		t.Fatal(err)
	}
	r = runBin(t, dir, nil, "state", "list", "--state", "linked.db")
	checkStateResult(t, "--state through a symbolic link", r, 0, []string{"farm"}, nil, nil)
	if fi, _ := os.Stat(real); fi.Mode().Perm() != 0o640 {
		t.Errorf("a read through a symbolic link changed its target's mode to %04o", fi.Mode().Perm())
	}
}

// TestDamagedKeywordDSN: a libpq keyword/value string given to --state is a PostgreSQL location: it
// is connected to (and fails here: nothing listens), never created as a file named after it, and its
// password is never printed.
func TestDamagedKeywordDSN(t *testing.T) {
	dir := t.TempDir()
	const secret = "Sekr3t-kw-pw"
	dsn := "host=127.0.0.1 port=1 user=ana password=" + secret + " dbname=deskfleet sslmode=disable connect_timeout=5"
	for _, args := range [][]string{
		{"state", "list", "--state", dsn},
		{"state", "show", "--state=" + dsn, "studio"},
	} {
		r := runBin(t, dir, nil, args...)
		if r.code != 1 {
			t.Errorf("%v: exit %d, want 1 (the database cannot be reached)\n%s%s", args[:2], r.code, r.stdout, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("%v: the password is printed:\n%s%s", args[:2], r.stdout, r.stderr)
		}
		if !strings.Contains(r.stderr, "password=***") {
			t.Errorf("%v: the location is not named, redacted:\n%s", args[:2], r.stderr)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		t.Errorf("a file was created in the working folder: %q", e.Name())
	}
}

// TestPanicExitsOne: a command that panics ends with exit 1 and a short internal-error message that
// says how to report it, not the runtime's exit 2 (which plan --detailed-exitcode means as changes).
func TestPanicExitsOne(t *testing.T) {
	tests := []struct {
		name   string
		action func(*cli.Context) error
		want   string
		reason string
	}{
		{"panic", func(*cli.Context) error { panic("boom") }, "internal error: boom", "an explicit panic"},
		{"nil map", func(*cli.Context) error {
			var m map[string]int
			//lint:ignore SA5000 deliberate: the test needs a runtime panic
			m["x"]++
			return nil
		}, "internal error: assignment to entry in nil map", "a runtime error"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		app := newApp(&stdout, &stderr)
		app.Commands = append(app.Commands, &cli.Command{Name: "crash", Action: tt.action})
		code := runApp(app, []string{"deskfleet", "crash"}, &stderr)
		if code != exitError {
			t.Errorf("%s: exit %d, want %d", tt.reason, code, exitError)
		}
		if !strings.Contains(stderr.String(), tt.want) || !strings.Contains(stderr.String(), "please report it") ||
			strings.Contains(stderr.String(), "goroutine ") {
			t.Errorf("%s: stderr %q, want %q, how to report it, and no goroutine dump", tt.reason, stderr.String(), tt.want)
		}
	}
	var stderr bytes.Buffer
	if code := run([]string{"deskfleet", "validate", "-f", filepath.Join(t.TempDir(), "none")}, &bytes.Buffer{}, &stderr); code != exitError {
		t.Errorf("an ordinary error still exits 1: %d %s", code, stderr.String())
	}
}

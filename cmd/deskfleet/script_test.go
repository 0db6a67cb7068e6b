package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/deskfleet/deskfleet/provider/sim"
)

// TestScripts runs the CLI scenarios that read best as a transcript: each testdata/script/*.txtar is a
// script of deskfleet commands and the output they must give, with the files they work on (a spec, the
// expected output), run in a folder of its own with the in-process emulator (`--endpoint sim`).
// Besides testscript's own commands (exec, stdout, stderr, cmp, cp, exists, ...; see its doc), a script
// has:
//
//	deskfleet ARGS...          run the CLI (the test binary, as TestMain makes it); it must exit 0, or
//	                           with `!` before it, not 0
//	status N                   the last deskfleet command exited with N
//	console VERB DESKTOP [ARG] change the emulated cloud as a person in its console would: label VALUE,
//	                           rename NAME, power on|off, bind EMAIL, unbind, delete
//	live DESKTOP...            the emulated cloud has exactly these live desktops, one of each name
//
// The environment has HOME at the script's folder, $EXAMPLES at the repository's examples, and the
// emulator's short tasks and polls (fastSim).
func TestScripts(t *testing.T) {
	examples, err := filepath.Abs(filepath.Join("..", "..", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Setup: func(env *testscript.Env) error {
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("EXAMPLES", examples)
			for _, kv := range fastSim {
				k, v, _ := strings.Cut(kv, "=")
				env.Setenv(k, v)
			}
			env.Values[scriptStatusKey{}] = new(int)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"deskfleet": scriptDeskfleet,
			"status":    scriptStatus,
			"console":   scriptConsole,
			"live":      scriptLive,
		},
	})
}

// scriptStatusKey holds, in a script's Values, the exit code of its last deskfleet command.
type scriptStatusKey struct{}

func scriptDeskfleet(ts *testscript.TestScript, neg bool, args []string) {
	err := ts.Exec(cliName, args...)
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee) && ee.Exited():
		code = ee.ExitCode()
	case err != nil:
		ts.Fatalf("deskfleet did not run to its end: %v", err)
	}
	*ts.Value(scriptStatusKey{}).(*int) = code
	if neg && code == 0 {
		ts.Fatalf("deskfleet exited 0, want a failure")
	}
	if !neg && code != 0 {
		ts.Fatalf("deskfleet exited %d, want 0", code)
	}
}

func scriptStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: status N")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	if got := *ts.Value(scriptStatusKey{}).(*int); got != want {
		ts.Fatalf("the last deskfleet command exited %d, want %d", got, want)
	}
}

// scriptSim opens the emulated cloud of `--endpoint sim` in the script's current folder.
func scriptSim(ts *testscript.TestScript, change func(s *sim.Sim) error) {
	ts.Check(os.MkdirAll(ts.MkAbs(".deskfleet"), 0o700))
	s, err := sim.New(sim.Options{DataFile: ts.MkAbs(filepath.Join(".deskfleet", "sim.db"))})
	ts.Check(err)
	err = change(s)
	ts.Check(errors.Join(err, s.Close()))
}

func scriptConsole(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: console label|rename|power|status|bind|unbind|delete DESKTOP [ARG]")
	}
	verb, name, rest := args[0], args[1], args[2:]
	arg := func() string {
		if len(rest) != 1 {
			ts.Fatalf("console %s %s: want one more argument", verb, name)
		}
		return rest[0]
	}
	scriptSim(ts, func(s *sim.Sim) error {
		d, ok := s.DesktopByName(name)
		if !ok {
			ts.Fatalf("console: no desktop named %s", name)
		}
		switch verb {
		case "label":
			return s.ConsoleSetLabel(d.ID, arg())
		case "rename":
			return s.ConsoleRename(d.ID, arg())
		case "power":
			return s.ConsolePower(d.ID, arg() == "on")
		case "status":
			return s.ConsoleSetStatus(d.ID, arg())
		case "bind":
			a, ok := s.AccountByEmail(arg())
			if !ok {
				ts.Fatalf("console: no account %s", rest[0])
			}
			return s.ConsoleBind(d.ID, a.ID)
		case "unbind":
			return s.ConsoleBind(d.ID, "")
		case "delete":
			return s.ConsoleDelete(d.ID)
		}
		ts.Fatalf("console: unknown change %q", verb)
		return nil
	})
}

func scriptLive(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("usage: live DESKTOP...")
	}
	got := map[string]int{}
	scriptSim(ts, func(s *sim.Sim) error {
		for _, d := range s.Desktops() {
			if d.Status != "deleted" {
				got[d.Name]++
			}
		}
		return nil
	})
	want := map[string]int{}
	for _, name := range args {
		want[name]++
	}
	if diff := cmp.Diff(want, got); diff != "" {
		ts.Fatalf("live desktops by name (-want +got):\n%s", diff)
	}
}

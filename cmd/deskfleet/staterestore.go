package main

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine/render"
	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/stores"
)

// flagRestoreForce puts a previous generation back over state that is not damaged.
const flagRestoreForce = "force"

// stateRestoreCommand puts back the previous generation of damaged state.
func stateRestoreCommand() *cli.Command {
	return stateSubcommand("restore", "put back the previous generation of a damaged state file or record",
		"deskfleet state restore [--state LOCATION] [--force] [FLEET]", runStateRestore,
		&cli.BoolFlag{Name: flagRestoreForce, Usage: "put the previous generation back even when the state is not damaged"})
}

func runStateRestore(c *cli.Context) error {
	args, err := positionalArgs(c, 1)
	if err != nil {
		return err
	}
	fleet := ""
	if len(args) == 1 {
		fleet = args[0]
	}
	location := c.String(flagState)
	restored, err := stores.Restore(c.Context, location, fleet, stores.CurrentHolder("deskfleet state restore"),
		c.Bool(flagRestoreForce))
	if err != nil {
		return restoreError(err)
	}
	return render.Restored(c.App.Writer, restored, stateLocation(c), location)
}

// restoreError gives a held lock its exit code (4).
func restoreError(err error) error {
	var locked *state.LockedError
	if errors.As(err, &locked) {
		return withCode(exitLockHeld, withHint(err, "wait for that run to finish, or clear a stale lock with `deskfleet state unlock`"))
	}
	return err
}

// internalError reports a panic that ended a command: one line saying what happened, where, and how to
// report it. The exit code is exitError (1), never the runtime's 2, which `plan --detailed-exitcode`
// means as "changes present".
func internalError(stderr io.Writer, r any) int {
	where := ""
	pcs := make([]uintptr, 32)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs)])
	for {
		f, more := frames.Next()
		// The first frame that is not the runtime's (panic, fault) is where it happened.
		if !strings.HasPrefix(f.Function, "runtime.") && f.Function != "" {
			where = fmt.Sprintf(" (in %s, %s:%d)", f.Function, trimPath(f.File), f.Line)
			break
		}
		if !more {
			break
		}
	}
	fmt.Fprintf(stderr, "deskfleet: internal error: %v%s\n", r, where)
	fmt.Fprintln(stderr, "hint: this is a bug in deskfleet, not in your spec or state: please report it with this message, "+
		"the command you ran and the output of `deskfleet version`")
	return exitError
}

// trimPath keeps a source file's path from the module on (no build machine's folders).
func trimPath(file string) string {
	if i := strings.Index(file, "deskfleet/"); i >= 0 {
		return file[i:]
	}
	return file
}

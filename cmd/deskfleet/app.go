package main

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/state/stores"
)

// Exit codes, as README.md's Commands section lists them; CI scripts branch on them.
const (
	exitOK        = 0
	exitError     = 1
	exitChanges   = 2
	exitLockHeld  = 4
	exitGuard     = 5
	exitDrift     = 6
	exitStalePlan = 7
)

// exitCoder is an error that carries the process exit code it must end with.
type exitCoder interface {
	error
	ExitCode() int
}

// codedError is an error with an exit code; a nil err with a code (e.g. 2, changes present) prints nothing.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *codedError) ExitCode() int { return e.code }
func (e *codedError) Unwrap() error { return e.err }

// withCode wraps err (which may be nil) so that run returns code.
func withCode(code int, err error) error { return &codedError{code: code, err: err} }

// newApp builds the command tree. Output goes to stdout and stderr, never to os.Stdout directly, so
// tests can run the app in-process.
func newApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:                 "deskfleet",
		Version:              version,
		Usage:                "run a fleet of GPU cloud desktops as code",
		Description:          help("deskfleet"),
		Writer:               stdout,
		ErrWriter:            stderr,
		EnableBashCompletion: true,
		// A path may contain a comma: -f is repeated, never split.
		DisableSliceFlagSeparator: true,
		HideHelpCommand:           true,
		Action:                    unknownCommand,
		OnUsageError:              usageError,
		Commands: withUsageErrors([]*cli.Command{
			validateCommand(),
			planCommand(),
			applyCommand(),
			showCommand(),
			driftCommand(),
			costCommand(),
			reportCommand(),
			importCommand(),
			schemaCommand(),
			catalogCommand(),
			doctorCommand(),
			stateCommand(),
			lockCommand(), unlockCommand(),
			simCommand(),
			versionCommand(),
			completionCommand(),
		}),
		ExitErrHandler: func(*cli.Context, error) {}, // run decides the exit code
	}
}

// run executes the app and returns the process exit code. Errors are printed once, to stderr.
func run(args []string, stdout, stderr io.Writer) int {
	return runApp(newApp(stdout, stderr), args, stderr)
}

// runApp is run with the app given. A panic of the command (on this goroutine) is an internal error:
// exit 1 with a short message saying how to report it, never the runtime's exit 2 (changes present).
func runApp(app *cli.App, args []string, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			code = internalError(stderr, r)
		}
	}()
	args, err := specArgs(app, args, stderr)
	if err == nil {
		err = app.Run(args)
	}
	if err == nil {
		return exitOK
	}
	code = exitError
	var ec exitCoder
	if errors.As(err, &ec) {
		code = ec.ExitCode()
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintln(stderr, "deskfleet:", msg)
		hint := hintFor(err)
		if hint == "" {
			hint = stores.RestoreHint(err)
		}
		if hint != "" {
			fmt.Fprintln(stderr, "hint:", hint)
		}
	}
	return code
}

// specCommands take the spec as -f PATH; a positional PATH means the same (`deskfleet plan fleet/`),
// and for apply, whose positional is otherwise a saved PLANFILE, a path that is a spec (see engine.IsSpecPath).
var specCommands = []string{"validate", "plan", "apply", "drift"}

// specArgs rewrites the command line so that a spec given as a positional argument of specCommands
// reads as -f PATH, wherever it stands among the flags (`deskfleet plan fleet/ --endpoint sim`): the
// commands read -f only, and urfave/cli stops parsing flags at the first positional. It says so on
// stderr when apply takes its positional as a spec rather than a plan. A saved plan given where a
// spec is wanted is an error naming the commands that read plans.
func specArgs(app *cli.App, args []string, stderr io.Writer) ([]string, error) {
	if slices.Contains(args, "--generate-bash-completion") {
		return args, nil
	}
	i := 1
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		i++ // the app's own flags, all switches (--help, --version)
	}
	if i >= len(args) {
		return args, nil
	}
	var cmd *cli.Command
	for _, c := range app.Commands {
		if c.HasName(args[i]) && slices.Contains(specCommands, c.Name) {
			cmd = c
		}
	}
	if cmd == nil {
		return args, nil
	}
	out := append([]string(nil), args[:i+1]...)
	for j := i + 1; j < len(args); j++ {
		a := args[j]
		if a == "--" {
			return append(out, args[j:]...), nil
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			out = append(out, a)
			name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
			f := commandFlag(cmd, name)
			if _, isBool := f.(*cli.BoolFlag); f != nil && !isBool && !hasValue && j+1 < len(args) {
				j++
				out = append(out, args[j])
			}
			continue
		}
		if cmd.Name == "apply" {
			if !engine.IsSpecPath(a) {
				out = append(out, a) // PLANFILE
				continue
			}
			fmt.Fprintf(stderr, "deskfleet: %s is a spec, not a saved plan (those are JSON, from `deskfleet plan --out`): applying it as -f %s\n", a, a)
		} else if engine.LooksLikePlanFile(a) {
			return nil, withHint(fmt.Errorf("%s is a saved plan, not a spec", a),
				fmt.Sprintf("`deskfleet show %s` shows it, `deskfleet apply %s` applies it; give %s the spec (a YAML file or folder)", a, a, cmd.Name))
		}
		out = append(out, "-f", a)
	}
	return out, nil
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

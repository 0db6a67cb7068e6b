package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/engine/render"
	"github.com/deskfleet/deskfleet/provider/gcw"
	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/stores"
)

// Flags of apply.
const (
	flagAutoApprove  = "auto-approve"
	flagAllowDelete  = "allow-delete"
	flagAllowReplace = "allow-replace"
	flagAllowRebuild = "allow-rebuild"
	flagForce        = "force"
	flagPollInterval = "poll-interval"
	flagTaskTimeout  = "task-timeout"
)

func applyCommand() *cli.Command {
	return &cli.Command{
		Name:        "apply",
		Usage:       "make the live fleet match the spec (or execute a saved plan)",
		UsageText:   "deskfleet apply [-f PATH]... [--auto-approve] [--allow-delete] [--allow-replace] [--allow-rebuild] [PLANFILE]",
		Description: help("apply"),
		Flags: append(append([]cli.Flag{
			specFlag(),
			&cli.BoolFlag{Name: flagAutoApprove, Usage: "apply without asking for confirmation"},
			&cli.BoolFlag{Name: flagAllowDelete, Usage: "allow deleting desktops removed from the spec"},
			&cli.BoolFlag{Name: flagAllowReplace, Usage: "allow replacing desktops (delete, then create) to change site, product, bandwidth or network"},
			&cli.BoolFlag{Name: flagAllowRebuild, Usage: "allow rebuilding desktops (RebuildVm wipes the system disk) to change their image"},
			&cli.IntFlag{Name: flagMaxDeletePercent, Value: engine.DefaultMaxDeletePercent, Usage: "deleting more than this share of the managed desktops needs --force"},
			&cli.BoolFlag{Name: flagForce, Usage: "allow a mass deletion or an empty spec over a non-empty state"},
			&cli.StringFlag{Name: flagFormat, Value: "text", Usage: "progress: text, or json (one event per line, NDJSON)"},
			&cli.DurationFlag{Name: flagPollInterval, EnvVars: []string{"DESKFLEET_POLL_INTERVAL"}, Value: engine.DefaultPollInterval, Usage: "first wait before polling a task (then backing off; shortly before it is due once tasks of its kind were seen); at least 1s (10ms against a local emulator)"},
			&cli.DurationFlag{Name: flagTaskTimeout, EnvVars: []string{"DESKFLEET_TASK_TIMEOUT"}, Value: 30 * time.Minute, Usage: "give up waiting for one task after this long"},
			&cli.StringSliceFlag{Name: flagTarget, Usage: "apply only to desktops and accounts matching `GLOB` (repeatable)"},
			&cli.StringSliceFlag{Name: flagExclude, Usage: "leave out desktops and accounts matching `GLOB` (repeatable)"},
			&cli.BoolFlag{Name: flagNoColor, EnvVars: []string{"DESKFLEET_NO_COLOR"}, Usage: "no colour, even at a terminal (NO_COLOR is honoured too)"},
			&cli.StringSliceFlag{Name: "batch-limit", EnvVars: []string{"DESKFLEET_BATCH_LIMIT"}, Usage: engine.BatchLimitUsage},
		}, apiFlags()...), stateFlags()...),
		Action: runApply,
	}
}

func runApply(c *cli.Context) error {
	format := c.String(flagFormat)
	if format != "text" && format != "json" {
		return fmt.Errorf("--format %q: want text or json", format)
	}
	planFile, err := planFileArg(c)
	if err != nil {
		return err
	}
	req, err := applyRequest(c, planFile, format)
	if err != nil {
		return err
	}
	// Ctrl-C: stop starting steps, finish recording the ones in flight.
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	sess, err := openSession(c)
	if err != nil {
		return err
	}
	defer sess.close()
	sess.Store = withCrashHook(sess.Store)
	out, err := sess.Apply(ctx, req)
	var stale *engine.StalePlanError
	if errors.As(err, &stale) {
		return withCode(exitStalePlan, withHint(err, "make a new plan: deskfleet plan --out "+planFile))
	}
	if out == nil || out.Result == nil {
		if err == nil && len(out.Plan.Errors) > 0 {
			return withCode(exitError, fmt.Errorf("%s cannot be planned and nothing else is to do", plural(len(out.Plan.Errors), "change")))
		}
		return engineError(c, err)
	}
	progressFor(c, format).Summary(out.Result)
	return applyExit(out, err)
}

// planFileArg is apply's PLANFILE, "" when none. Flags may follow it (`apply plan.bin --auto-approve`),
// as users write them.
func planFileArg(c *cli.Context) (string, error) {
	args, err := positionalArgs(c, -1)
	if err != nil {
		return "", err
	}
	switch len(args) {
	case 0:
		return "", nil
	case 1:
		return args[0], nil
	}
	return "", withHint(fmt.Errorf("apply takes at most one PLANFILE, got %d arguments: %s", len(args), strings.Join(args, " ")),
		"save one plan with `deskfleet plan --out FILE` and apply that file")
}

// applyRequest turns apply's flags into the fleet API's request: the saved plan or the spec, the
// approvals, the confirmation (a person at a terminal, or --auto-approve), and the progress output.
func applyRequest(c *cli.Context, planFile, format string) (engine.ApplyRequest, error) {
	limits, err := engine.ParseBatchLimits(c.StringSlice("batch-limit"))
	if e := c.String(flagEndpoint); err == nil { // below 1s only on an emulator on this machine
		err = engine.CheckPollInterval(c.Duration(flagPollInterval), strings.HasPrefix(e, simEndpoint) || gcw.Loopback(e))
	}
	if err != nil {
		return engine.ApplyRequest{}, err
	}
	req := engine.ApplyRequest{
		Plan: engine.PlanOptions{Targets: c.StringSlice(flagTarget), Excludes: c.StringSlice(flagExclude),
			MaxDeletePercent: maxDeletePercent(c), BatchLimits: limits},
		Approvals: engine.Approvals{Delete: c.Bool(flagAllowDelete), Replace: c.Bool(flagAllowReplace),
			Rebuild: c.Bool(flagAllowRebuild), Force: c.Bool(flagForce)},
		Confirm:     terminalConfirmer{c},
		LockTimeout: c.Duration(flagLockTimeout),
		Exec: engine.ExecOptions{PollInterval: c.Duration(flagPollInterval), TaskTimeout: c.Duration(flagTaskTimeout),
			Observer: progressFor(c, format).Event, Run: state.Run{Command: stores.CommandLine(os.Args)}},
	}
	if c.Bool(flagAutoApprove) {
		req.Confirm = engine.AutoApprove{}
	}
	if format == "text" {
		w := c.App.Writer
		req.OnPlan = func(p *engine.Plan) { render.Text(w, p, render.TextOptions{Color: useColor(c, w)}) } //nolint:errcheck // output errors surface at exit
	}
	if planFile != "" {
		if req.Saved, err = engine.LoadPlan(planFile); err != nil {
			return req, withHint(err, "save a plan with `deskfleet plan --out FILE`, or run apply without PLANFILE to plan and apply at once")
		}
		if !c.IsSet("file") {
			return req, nil // the engine loads the spec the plan names
		}
	}
	req.Spec, err = loadSpec(c)
	return req, err
}

// applyExit is apply's exit: 0 done, 3 partly applied (or applied with changes that could not be
// planned, or interrupted), 1 when no step succeeded.
func applyExit(out *engine.ApplyOutcome, err error) error {
	res, p := out.Result, out.Plan
	done := len(res.With(engine.StepDone, engine.StepPartial))
	switch {
	case res.Outcome == engine.OutcomeDone && len(p.Errors) == 0:
		return nil
	case res.Outcome == engine.OutcomeDone:
		return withCode(exitPartial, fmt.Errorf("applied, but %s could not be planned (see Errors above)",
			plural(len(p.Errors), "change")))
	case res.Outcome == engine.OutcomeInterrupted:
		return withCode(exitPartial, withHint(errors.New("interrupted: the steps in flight were recorded"),
			"run `deskfleet apply` again: it finishes what was in flight and applies the rest"))
	case done == 0:
		return withCode(exitError, cmp.Or(err, errors.New("no step succeeded")))
	default:
		return withCode(exitPartial, withHint(cmp.Or(err, errors.New("partly applied")),
			"fix what failed (see above) and run `deskfleet apply` again: it plans only what is left"))
	}
}

// terminalConfirmer asks at a terminal; elsewhere it refuses, since nobody can answer.
type terminalConfirmer struct{ c *cli.Context }

func (t terminalConfirmer) Confirm(_ context.Context, p *engine.Plan) error {
	in, ok := t.c.App.Reader.(*os.File)
	if !ok || !isTerminal(in) {
		return withHint(errors.New("not at a terminal, so nobody can confirm"), "pass --auto-approve to apply without confirmation")
	}
	fmt.Fprintf(t.c.App.Writer, "\nApply %s to fleet %s? Only 'yes' is accepted: ", plural(len(p.Steps), "step"), p.Fleet)
	line, _ := bufio.NewReader(in).ReadString('\n')
	if strings.TrimSpace(line) != "yes" {
		return withCode(exitError, errors.New("not applied"))
	}
	return nil
}

// isTerminal reports whether f is a terminal (not merely a character device: /dev/null, which cron
// and CI runners give as stdin, is one too, and nobody answers there).
func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// progressFor is apply's progress output on stdout: text lines (timestamped off a terminal) or NDJSON.
func progressFor(c *cli.Context, format string) *render.Progress {
	w := c.App.Writer
	return &render.Progress{W: w, JSON: format == "json", Terminal: useColor(c, w)}
}

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/engine/fleets"
	"github.com/deskfleet/deskfleet/engine/render"
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
	flagOverBudget   = "allow-over-budget"
	flagPrepay       = "allow-prepay"
	flagPollInterval = "poll-interval"
	flagTaskTimeout  = "task-timeout"
)

func applyCommand() *cli.Command {
	return &cli.Command{
		Name:        "apply",
		Usage:       "make the live fleet match the spec (or execute a saved plan)",
		UsageText:   "deskfleet apply [-f PATH]... [--auto-approve] [--allow-delete] [--allow-replace] [--allow-rebuild] [PLANFILE]",
		Description: help("apply"),
		Flags: append([]cli.Flag{
			specFlag(),
			&cli.BoolFlag{Name: flagAutoApprove, Usage: "apply without asking for confirmation"},
			&cli.BoolFlag{Name: flagAllowDelete, Usage: "allow deleting desktops removed from the spec"},
			&cli.BoolFlag{Name: flagAllowReplace, Usage: "allow replacing desktops (delete, then create) to change site, product, bandwidth or network"},
			&cli.BoolFlag{Name: flagAllowRebuild, Usage: "allow rebuilding desktops (RebuildVm wipes the system disk) to change their image"},
			&cli.IntFlag{Name: flagMaxDeletePercent, Value: engine.DefaultMaxDeletePercent, Usage: "deleting more than this share of the managed desktops needs --force"},
			&cli.BoolFlag{Name: flagForce, Usage: "allow a mass deletion or an empty spec over a non-empty state"},
			&cli.BoolFlag{Name: flagOverBudget, Usage: "allow a plan that takes the fleet, a group or a label over its budget"},
			&cli.BoolFlag{Name: flagPrepay, Usage: "allow renewals and conversions to monthly: money committed up front"},
			&cli.StringFlag{Name: flagFormat, Value: "text", Usage: "progress: text, or json (one event per line, NDJSON)"},
			&cli.DurationFlag{Name: flagPollInterval, EnvVars: []string{"DESKFLEET_POLL_INTERVAL"}, Value: engine.DefaultPollInterval, Usage: "first wait before polling a task (then backing off; shortly before it is due once tasks of its kind were seen); at least 1s (10ms against a local emulator)"},
			&cli.DurationFlag{Name: flagTaskTimeout, EnvVars: []string{"DESKFLEET_TASK_TIMEOUT"}, Value: 30 * time.Minute, Usage: "give up waiting for one task after this long"},
			onlyFlag(), batchLimitFlag(),
			&cli.IntFlag{Name: flagPR, Usage: "the merge of pull request `N`: a fleet it claims (deskfleet lock) applies, and the claim ends"},
		}, slices.Concat(selectFlags("apply to"), apiFlags(), stateFlags())...),
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
	req := applyRequest(c, format)
	if req.Plan, err = planOptions(c); err != nil {
		return err
	}
	// Ctrl-C: stop starting steps, finish recording the ones in flight.
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if isRepo(c) {
		return applyRepo(c, ctx, req, planFile, format)
	}
	if err := specOrPlan(c, &req, planFile); err != nil {
		return err
	}
	sess, err := openSession(c)
	if err != nil {
		return err
	}
	defer sess.close()
	sess.Store = withCrashHook(sess.Store)
	out, err := sess.Apply(ctx, req)
	var stale *engine.StalePlanError
	switch {
	case errors.As(err, &stale):
		return withCode(exitStalePlan, withHint(err, "make a new plan: deskfleet plan --out "+planFile))
	case (out == nil || out.Result == nil) && err != nil:
		return engineError(c, err)
	case out != nil && out.Result != nil:
		progressFor(c, format).Summary(out.Result)
	}
	return exitWith(fleets.ApplyExit(out, err))
}

// applyRepo applies every fleet of the repository -f names (runRepo), one after another, each with
// its own lock, plan, confirmation and progress (render.FleetsProgress). A saved plan is one
// fleet's, and refused.
func applyRepo(c *cli.Context, ctx context.Context, req engine.ApplyRequest, planFile, format string) error {
	if planFile != "" {
		return withHint(fmt.Errorf("%s is one fleet's saved plan, and -f names a fleet repository", planFile),
			"apply the plan alone (`deskfleet apply "+planFile+"`), or the repository's specs (-f DIR without PLANFILE)")
	}
	fp := &render.FleetsProgress{Progress: progressFor(c, format)}
	return runRepo(c, func(rn *fleets.Runner, repo *fleets.Repo) *fleets.Report {
		rn.Before, rn.After = fp.Started, fp.Done
		return rn.Apply(ctx, repo, func(*fleets.Fleet) engine.ApplyRequest { return req })
	}, fp.End)
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

// applyRequest turns apply's flags (but those that narrow the plan: planOptions) into the fleet API's request, but for what to apply (specOrPlan):
// the approvals, the confirmation (a person at a terminal, or --auto-approve), and the progress output.
func applyRequest(c *cli.Context, format string) engine.ApplyRequest {
	req := engine.ApplyRequest{
		Approvals: engine.Approvals{Delete: c.Bool(flagAllowDelete), Replace: c.Bool(flagAllowReplace),
			Rebuild: c.Bool(flagAllowRebuild), Force: c.Bool(flagForce), OverBudget: c.Bool(flagOverBudget),
			Prepay: c.Bool(flagPrepay)},
		Confirm:     terminalConfirmer{c},
		LockTimeout: c.Duration(flagLockTimeout), PullRequest: c.Int(flagPR),
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
	return req
}

// specOrPlan sets what req applies: the saved plan planFile (checked against the spec -f names, if
// any, else against the one the plan names), or the spec -f names.
func specOrPlan(c *cli.Context, req *engine.ApplyRequest, planFile string) error {
	var err error
	if planFile != "" {
		if req.Saved, err = engine.LoadPlan(planFile); err != nil {
			return withHint(err, "save a plan with `deskfleet plan --out FILE`, or run apply without PLANFILE to plan and apply at once")
		}
		if !c.IsSet("file") {
			return nil // the engine loads the spec the plan names
		}
	}
	req.Spec, err = loadSpec(c)
	return err
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

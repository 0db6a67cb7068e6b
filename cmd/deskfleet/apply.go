package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/engine/render"
	"github.com/deskfleet/deskfleet/state"
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
		Name:      "apply",
		Usage:     "make the live fleet match the spec (or execute a saved plan)",
		UsageText: "deskfleet apply [-f PATH]... [--auto-approve] [--allow-delete] [--allow-replace] [--allow-rebuild] [PLANFILE]",
		Description: "Takes the fleet's lock, finishes what an interrupted apply left in flight, plans (or loads PLANFILE\n" +
			"and checks that nothing it read has moved since), shows the plan, asks for confirmation at a terminal\n" +
			"(--auto-approve in CI), and executes it: every call is recorded in the state before it is made, every\n" +
			"task is polled to its end, and the state is updated after every step.\n\n" +
			"Deleting, replacing and rebuilding desktops need --allow-delete, --allow-replace, --allow-rebuild;\n" +
			"deleting more than --max-delete-percent of the managed desktops, or applying an empty spec over a\n" +
			"non-empty state, needs --force. Protected desktops are never deleted, replaced or rebuilt.\n\n" +
			"Exit codes: 0 done (or nothing to do), 1 error, 3 partly applied (run apply again to finish),\n" +
			"4 the fleet's lock is held, 5 blocked by a guard, 7 the saved plan is stale.\n\n" +
			"Examples:\n" +
			"   deskfleet apply --endpoint sim                      # plan, confirm, apply on the emulator\n" +
			"   deskfleet apply --auto-approve                      # in CI\n" +
			"   deskfleet plan --out plan.json && deskfleet apply plan.json\n" +
			"   deskfleet apply --auto-approve --allow-delete --format json > events.ndjson",
		Flags: append(append([]cli.Flag{
			specFlag(),
			&cli.BoolFlag{Name: flagAutoApprove, Usage: "apply without asking for confirmation"},
			&cli.BoolFlag{Name: flagAllowDelete, Usage: "allow deleting desktops removed from the spec"},
			&cli.BoolFlag{Name: flagAllowReplace, Usage: "allow replacing desktops (delete, then create) to change site, product, bandwidth or network"},
			&cli.BoolFlag{Name: flagAllowRebuild, Usage: "allow rebuilding desktops (RebuildVm wipes the system disk) to change their image"},
			&cli.IntFlag{Name: flagMaxDeletePercent, Value: engine.DefaultMaxDeletePercent, Usage: "deleting more than this share of the managed desktops needs --force"},
			&cli.BoolFlag{Name: flagForce, Usage: "allow a mass deletion or an empty spec over a non-empty state"},
			&cli.StringFlag{Name: flagFormat, Value: "text", Usage: "progress: text, or json (one event per line, NDJSON)"},
			&cli.DurationFlag{Name: flagPollInterval, EnvVars: []string{"DESKFLEET_POLL_INTERVAL"}, Value: 2 * time.Second, Usage: "first wait before polling a task (then backing off)"},
			&cli.DurationFlag{Name: flagTaskTimeout, EnvVars: []string{"DESKFLEET_TASK_TIMEOUT"}, Value: 30 * time.Minute, Usage: "give up waiting for one task after this long"},
			&cli.StringSliceFlag{Name: flagTarget, Usage: "apply only to desktops and accounts matching `GLOB` (repeatable)"},
			&cli.StringSliceFlag{Name: flagExclude, Usage: "leave out desktops and accounts matching `GLOB` (repeatable)"},
			&cli.BoolFlag{Name: flagNoColor, EnvVars: []string{"DESKFLEET_NO_COLOR"}, Usage: "no colour, even at a terminal (NO_COLOR is honoured too)"},
		}, apiFlags()...), stateFlags()...),
		Action: runApply,
	}
}

func runApply(c *cli.Context) error {
	// Flags may follow PLANFILE (`apply plan.bin --auto-approve`), as users write them.
	args, err := positionalArgs(c, -1)
	if err != nil {
		return err
	}
	if len(args) > 1 {
		return withHint(fmt.Errorf("apply takes at most one PLANFILE, got %d arguments: %s", len(args), strings.Join(args, " ")),
			"save one plan with `deskfleet plan --out FILE` and apply that file")
	}
	format := c.String(flagFormat)
	if format != "text" && format != "json" {
		return fmt.Errorf("--format %q: want text or json", format)
	}
	var planFile string
	if len(args) == 1 {
		planFile = args[0]
	}

	// The fleet's name keys the lock: from the saved plan, else from the spec.
	var saved *engine.Plan
	var ls *loadedSpec
	var fleet string
	if planFile != "" {
		p, err := engine.LoadPlan(planFile)
		if err != nil {
			return withHint(err, "save a plan with `deskfleet plan --out FILE`, or run apply without PLANFILE to plan and apply at once")
		}
		saved, fleet = p, p.Fleet
	} else {
		var err error
		if ls, err = loadSpec(c); err != nil {
			return err
		}
		fleet = ls.Fleet.Name
	}

	// Ctrl-C: stop starting steps, finish recording the ones in flight.
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()

	st, err := openStore(c)
	if err != nil {
		return err
	}
	defer st.Close()
	st = withCrashHook(st)
	holder := currentHolder("deskfleet apply")
	lock, err := st.Lock(ctx, fleet, holder, c.Duration(flagLockTimeout))
	var stale *state.LockedError
	if errors.As(err, &stale) && stale.Stale {
		// The holder ran on this host and its process is gone (killed, crashed): nobody can be using
		// the lock. Take it over, saying so; what that run left in flight is settled below.
		// Unlock removes exactly the stale lock read here: if another process took the fleet over
		// meanwhile, its lock stays and the Lock below names it.
		fmt.Fprintf(c.App.ErrWriter, "deskfleet: taking over the stale lock of %s: that process is gone\n", stale.Holder)
		cur, cerr := st.CurrentLock(ctx, fleet)
		if cerr != nil {
			return cerr
		}
		if cur != nil && cur.Holder.ProcessGone() {
			if uerr := st.Unlock(ctx, cur); uerr != nil {
				return uerr
			}
		}
		lock, err = st.Lock(ctx, fleet, holder, c.Duration(flagLockTimeout))
	}
	if err != nil {
		var le *state.LockedError
		if errors.As(err, &le) {
			hint := "wait for it to finish, or pass --lock-timeout to wait"
			if le.Stale {
				hint = "the holder is gone: `deskfleet state unlock " + fleet + "` clears its lock"
			}
			return withCode(exitLockHeld, withHint(err, hint))
		}
		return err
	}
	defer st.Unlock(context.WithoutCancel(ctx), lock) //nolint:errcheck // best effort; a stale lock is reported next time

	api, err := openAPI(c)
	if err != nil {
		return err
	}
	defer api.Close()

	w := c.App.Writer
	run := state.Run{User: holder.User, Host: holder.Host, Command: commandLine(os.Args)}
	opts := engine.ExecOptions{
		Parallelism:  c.Int(flagParallelism),
		PollInterval: c.Duration(flagPollInterval),
		TaskTimeout:  c.Duration(flagTaskTimeout),
	}

	// Finish what an interrupted apply left in flight before deciding anything, saying what was found.
	progress := newProgress(c, w, format)
	opts.Observer = progress.event
	if _, err := engine.Settle(ctx, api.Client, st, lock, opts); err != nil {
		return withHint(err, "once you know the outcome, `deskfleet state settle` records it; then apply again")
	}
	rec, err := st.Read(ctx, fleet)
	if err != nil {
		return err
	}

	var p *engine.Plan
	if saved != nil {
		if moved, err := staleness(ctx, c, api, saved, rec); err != nil {
			return err
		} else if len(moved) > 0 {
			return withCode(exitStalePlan, withHint(fmt.Errorf("the saved plan is stale: %s", strings.Join(moved, "; ")),
				"make a new plan: deskfleet plan --out "+planFile))
		}
		p = saved
	} else {
		fr, err := readLive(c, api, ls)
		if err != nil {
			return err
		}
		p = diffAndPrice(c, fr, rec).Plan
		run.GitCommit = gitCommit(ls.Fleet.Files)
	}
	run.SpecDigest = p.SpecDigest

	if format == "text" {
		if err := render.Text(w, p, render.TextOptions{Color: useColor(c, w)}); err != nil {
			return err
		}
	}
	if p.Empty() {
		if len(p.Errors) > 0 {
			return withCode(exitError, fmt.Errorf("%s cannot be planned and nothing else is to do", plural(len(p.Errors), "change")))
		}
		return nil
	}
	if blocked, flags := guardsBlocking(c, p); len(blocked) > 0 {
		for _, b := range blocked {
			fmt.Fprintln(c.App.ErrWriter, "blocked:", b)
		}
		verb := "changes need flags"
		if len(blocked) == 1 {
			verb = "change needs a flag"
		}
		return withCode(exitGuard, withHint(fmt.Errorf("%d %s to apply; nothing was changed", len(blocked), verb),
			"review the plan above; to go ahead, run again with "+strings.Join(flags, " ")+" (each allows only what it names)"))
	}
	if !c.Bool(flagAutoApprove) {
		if err := confirm(c, p); err != nil {
			return err
		}
	}

	opts.Run = run
	res, err := engine.Apply(ctx, api.Client, st, lock, p, opts)
	if res == nil {
		return err
	}
	progress.summary(res, p)
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
		return withCode(exitError, firstErr(err, errors.New("no step succeeded")))
	default:
		return withCode(exitPartial, withHint(firstErr(err, errors.New("partly applied")),
			"fix what failed (see above) and run `deskfleet apply` again: it plans only what is left"))
	}
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// guardsBlocking lists the plan's guarded changes that the flags do not allow, and the flags (sorted,
// each once) that would allow them.
func guardsBlocking(c *cli.Context, p *engine.Plan) (blocked, flags []string) {
	allowed := map[engine.Guard]bool{
		engine.GuardDelete:     c.Bool(flagAllowDelete),
		engine.GuardReplace:    c.Bool(flagAllowReplace),
		engine.GuardRebuild:    c.Bool(flagAllowRebuild),
		engine.GuardMassDelete: c.Bool(flagForce),
		engine.GuardEmptySpec:  c.Bool(flagForce),
	}
	seen := map[string]bool{}
	need := func(g engine.Guard) {
		if f := g.Flag(); !seen[f] {
			seen[f] = true
			flags = append(flags, f)
		}
	}
	for _, g := range p.Guards {
		if !allowed[g.Guard] {
			blocked = append(blocked, fmt.Sprintf("%s (needs %s)", g.Message, g.Guard.Flag()))
			need(g.Guard)
		}
	}
	for _, s := range p.Steps {
		if s.Guard != engine.GuardNone && !allowed[s.Guard] {
			var names []string
			for _, t := range s.Op.Desktops() {
				names = append(names, t.Name)
			}
			blocked = append(blocked, fmt.Sprintf("step %d %s %s (needs %s)", s.ID, s.Op.Action(), strings.Join(names, ", "), s.Guard.Flag()))
			need(s.Guard)
		}
	}
	sort.Strings(flags)
	return blocked, flags
}

// confirm asks at a terminal; elsewhere it refuses, since nobody can answer.
func confirm(c *cli.Context, p *engine.Plan) error {
	in, ok := c.App.Reader.(*os.File)
	if !ok || !isTerminal(in) {
		return withHint(errors.New("not at a terminal, so nobody can confirm"), "pass --auto-approve to apply without confirmation")
	}
	fmt.Fprintf(c.App.Writer, "\nApply %s to fleet %s? Only 'yes' is accepted: ", plural(len(p.Steps), "step"), p.Fleet)
	line, _ := bufio.NewReader(in).ReadString('\n')
	if strings.TrimSpace(line) != "yes" {
		return withCode(exitError, errors.New("not applied"))
	}
	return nil
}

// isTerminal reports whether f is a terminal (not merely a character device: /dev/null, which cron
// and CI runners give as stdin, is one too, and nobody answers there).
func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// staleness re-reads what a saved plan read and lists what moved since; a state serial that moved
// is stale too (another apply ran).
func staleness(ctx context.Context, c *cli.Context, api *apiSession, p *engine.Plan, rec *state.Record) ([]string, error) {
	var moved []string
	if rec.Serial != p.StateSerial {
		moved = append(moved, fmt.Sprintf("the state changed (serial %d, the plan was made at %d)", rec.Serial, p.StateSerial))
	}
	var sites []string
	for k := range p.Observed {
		if site, ok := strings.CutPrefix(k, "net:"); ok {
			sites = append(sites, site)
		}
	}
	sort.Strings(sites)
	snap, err := engine.Observe(ctx, api.Client, engine.ObserveOptions{SiteIDs: sites, Parallelism: c.Int(flagParallelism)})
	if err != nil {
		return nil, err
	}
	return append(moved, engine.Stale(p, engine.Fingerprints(snap))...), nil
}

// gitCommit returns the commit of the Git work tree holding the spec's first file, "" outside one
// (or without git).
func gitCommit(files []string) string {
	if len(files) == 0 {
		return ""
	}
	out, err := exec.Command("git", "-C", filepath.Dir(files[0]), "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// progress prints the executor's events: one line per event (with a timestamp off a terminal), or
// one JSON object per event (NDJSON) with --format json. The executor serialises its calls.
type progress struct {
	w    io.Writer
	json bool
	tty  bool
}

func newProgress(c *cli.Context, w io.Writer, format string) *progress {
	return &progress{w: w, json: format == "json", tty: useColor(c, w)}
}

// eventJSON is an event as one NDJSON line.
type eventJSON struct {
	Kind       engine.EventKind `json:"event"`
	At         time.Time        `json:"at"`
	Step       int              `json:"step,omitempty"`
	Action     string           `json:"action,omitempty"`
	Targets    string           `json:"targets,omitempty"`
	TaskID     string           `json:"task_id,omitempty"`
	TaskStatus string           `json:"task_status,omitempty"`
	ElapsedMS  int64            `json:"elapsed_ms,omitempty"`
	Error      string           `json:"error,omitempty"`
	Intent     string           `json:"intent,omitempty"`
	Status     string           `json:"status,omitempty"`
}

var eventGlyph = map[engine.EventKind]string{
	engine.EventStepStarted: "→", engine.EventTaskPolled: "…", engine.EventStepDone: "✓",
	engine.EventStepPartial: "~", engine.EventStepFailed: "✗", engine.EventStepUnknown: "?",
	engine.EventStepInterrupted: "‖", engine.EventStepSkipped: "-", engine.EventIntentSettled: "=",
}

func (pr *progress) event(e engine.Event) {
	if pr.json {
		j := eventJSON{Kind: e.Kind, At: e.At.UTC(), Step: e.Step, Action: string(e.Action), Targets: e.Targets,
			TaskID: e.TaskID, TaskStatus: string(e.TaskStatus), ElapsedMS: e.Elapsed.Milliseconds(),
			Intent: e.Intent, Status: string(e.Status)}
		if e.Err != nil {
			j.Error = e.Err.Error()
		}
		if b, err := json.Marshal(j); err == nil {
			fmt.Fprintln(pr.w, string(b))
		}
		return
	}
	var line string
	switch e.Kind {
	case engine.EventIntentSettled:
		line = fmt.Sprintf("settled %s from an earlier run: %s", e.Intent, e.Status)
	default:
		line = fmt.Sprintf("%s %2d %s %s", eventGlyph[e.Kind], e.Step, e.Action, e.Targets)
		if el := e.Elapsed.Round(100 * time.Millisecond); el > 0 {
			line += "  " + el.String()
		}
		if e.TaskID != "" {
			line += fmt.Sprintf("  task %s %s", render.ShortID(e.TaskID), e.TaskStatus)
		}
		if e.Err != nil {
			line += "  " + e.Err.Error()
		}
	}
	if !pr.tty {
		line = e.At.UTC().Format("15:04:05") + " " + line
	}
	fmt.Fprintln(pr.w, line)
}

// summary prints the table of steps: done, failed with the API's code and message, skipped and why.
func (pr *progress) summary(res *engine.Result, p *engine.Plan) {
	if pr.json {
		return
	}
	fmt.Fprintf(pr.w, "\nApply %s in %s:\n", res.Outcome, res.Elapsed.Round(100*time.Millisecond))
	for _, s := range res.Steps {
		line := fmt.Sprintf("  %-11s %2d %s %s", s.Status, s.Step, s.Action, s.Targets)
		switch {
		case s.Code != "":
			line += fmt.Sprintf("  (%s %s)", s.Code, s.Message)
		case s.Err != nil && s.Status != engine.StepDone:
			line += "  (" + s.Err.Error() + ")"
		}
		if len(s.Failed) > 0 {
			line += "  failed: " + strings.Join(s.Failed, ", ")
		}
		if len(s.SkippedFor) > 0 {
			line += fmt.Sprintf("  after failed step %v", s.SkippedFor)
		}
		fmt.Fprintln(pr.w, line)
	}
	counts := map[engine.StepStatus]int{}
	for _, s := range res.Steps {
		counts[s.Status]++
	}
	fmt.Fprintf(pr.w, "%d done, %d partial, %d failed, %d skipped, %d unknown, %d interrupted.\n",
		counts[engine.StepDone], counts[engine.StepPartial], counts[engine.StepFailed], counts[engine.StepSkipped],
		counts[engine.StepUnknown], counts[engine.StepInterrupted])
}

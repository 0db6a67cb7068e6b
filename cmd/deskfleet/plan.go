package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/engine/render"
	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/spec"
	"github.com/deskfleet/deskfleet/state"
)

// Flags of plan (apply and drift share some of them).
const (
	flagOut              = "out"
	flagFormat           = "format"
	flagDetailedExitcode = "detailed-exitcode"
	flagTarget           = "target"
	flagExclude          = "exclude"
	flagNoColor          = "no-color"
	flagMaxDeletePercent = "max-delete-percent" // apply's; read by the shared planning code
)

func planCommand() *cli.Command {
	return &cli.Command{
		Name:      "plan",
		Usage:     "read the live fleet, compare it with the spec, and print what apply would do",
		UsageText: "deskfleet plan [-f PATH]... [--format text|markdown|json] [--out FILE] [--target GLOB]... [--exclude GLOB]...",
		Description: "Reads the spec, resolves its names against the API's catalog, reads the live desktops and\n" +
			"sub-accounts (reads only: plan never changes anything), and prints the ordered, batched plan with\n" +
			"its cost. Changes that need a flag to apply (delete, replace, rebuild, mass deletion) say so.\n\n" +
			"Exit codes: 0 planned (with --detailed-exitcode: 0 no changes, 2 changes), 1 error, including a\n" +
			"change that cannot be planned (the rest of the plan is still printed).\n\n" +
			"Examples:\n" +
			"   deskfleet plan --endpoint sim                         # on the built-in emulator\n" +
			"   deskfleet plan -f fleet/ --out plan.json              # save the plan for `apply plan.json`\n" +
			"   deskfleet plan --format markdown > comment.md         # a pull-request comment\n" +
			"   deskfleet plan --detailed-exitcode || [ $? -eq 2 ]    # CI: exit 2 when there are changes\n" +
			"   deskfleet plan --target 'render*' --exclude render_009",
		Flags: append([]cli.Flag{
			specFlag(),
			&cli.StringFlag{Name: flagFormat, Value: "text", Usage: "output: text, markdown (a pull-request comment) or json"},
			&cli.StringFlag{Name: flagOut, Usage: "also save the plan to `FILE` (JSON, mode 0600) for `deskfleet apply FILE`"},
			&cli.BoolFlag{Name: flagDetailedExitcode, Usage: "exit 2 when the plan has changes, 0 when it has none"},
			&cli.StringSliceFlag{Name: flagTarget, Usage: "plan only desktops and accounts matching `GLOB` (repeatable)"},
			&cli.StringSliceFlag{Name: flagExclude, Usage: "leave out desktops and accounts matching `GLOB` (repeatable)"},
			&cli.BoolFlag{Name: flagNoColor, EnvVars: []string{"DESKFLEET_NO_COLOR"}, Usage: "no colour, even at a terminal (NO_COLOR is honoured too)"},
		}, append(apiFlags(), stateFlags()...)...),
		Action: runPlan,
	}
}

func runPlan(c *cli.Context) error {
	format, err := planFormat(c)
	if err != nil {
		return err
	}
	res, err := makePlan(c)
	if err != nil {
		return err
	}
	p := res.Plan
	if out := c.String(flagOut); out != "" {
		if err := engine.SavePlan(out, p); err != nil {
			return fmt.Errorf("saving the plan: %w", err)
		}
	}
	w := c.App.Writer
	if err := renderPlan(c, w, p, format); err != nil {
		return err
	}
	if out := c.String(flagOut); out != "" && format == "text" {
		fmt.Fprintf(w, "\nSaved to %s: `deskfleet apply %s` applies exactly this plan.\n", out, out)
	}
	if len(p.Errors) > 0 {
		return withCode(exitError, fmt.Errorf("%s cannot be planned (see Errors above); the rest of the plan is shown",
			plural(len(p.Errors), "change")))
	}
	if c.Bool(flagDetailedExitcode) && !p.Empty() {
		return withCode(exitChanges, nil)
	}
	return nil
}

// planResult is a plan and what it was made from.
type planResult struct {
	Plan    *engine.Plan
	Fleet   *spec.Fleet
	Catalog *engine.Catalog
}

// makePlan runs the read path: load and check the spec, read the catalog and the live state, resolve,
// diff against the state record, and price. It makes no mutating call.
func makePlan(c *cli.Context) (*planResult, error) {
	fr, err := readFleet(c)
	if err != nil {
		return nil, err
	}
	defer fr.API.Close()

	// The record is read without the lock (plan changes nothing); a missing state file reads as an
	// empty record and is not created.
	st, err := openStore(c)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	rec, err := st.Read(c.Context, fr.Fleet.Name)
	if err != nil {
		return nil, err
	}
	return diffAndPrice(c, fr, rec), nil
}

// diffAndPrice plans what was read against the state record and prices the plan; a pricing failure
// is a warning in the plan, not an error.
func diffAndPrice(c *cli.Context, fr *fleetRead, rec *state.Record) *planResult {
	snap, cat, api := fr.Snapshot, fr.Catalog, fr.API
	p := engine.Diff(fr.Desired, snap, rec, engine.Options{
		Targets:          c.StringSlice(flagTarget),
		Excludes:         c.StringSlice(flagExclude),
		MaxDeletePercent: maxDeletePercent(c),
	})
	cost, err := engine.Price(c.Context, api.Client, p, engine.PriceInput{Products: cat.Products, Snapshot: snap})
	if err != nil {
		p.Warnings = append(p.Warnings, engine.Problem{Object: engine.ObjectNetwork, Name: "cost",
			Message: "the plan could not be priced: " + err.Error()})
	} else {
		p.Cost = cost
	}
	p.Reads = engine.Reads{Desktops: len(snap.Desktops), Accounts: len(snap.Accounts), Sites: len(snap.Networks),
		Calls: api.Calls() - fr.CallsBefore, Elapsed: time.Since(fr.Start)}
	return &planResult{Plan: p, Fleet: fr.Fleet, Catalog: cat}
}

// maxDeletePercent is --max-delete-percent where the command has it (apply), else nil (Diff's default).
func maxDeletePercent(c *cli.Context) *int {
	if commandFlag(c.Command, flagMaxDeletePercent) == nil {
		return nil
	}
	n := c.Int(flagMaxDeletePercent)
	return &n
}

// fleetRead is the spec with what the live account holds, read and resolved: what plan and drift
// start from.
type fleetRead struct {
	// API is the open session (the caller closes it); Start is when it was opened, for Reads.Elapsed.
	API         *apiSession
	Start       time.Time
	CallsBefore int
	Fleet       *spec.Fleet
	Catalog     *engine.Catalog
	Snapshot    *provider.Snapshot
	// Desired is the resolved spec, with its SpecDigest set.
	Desired *engine.Desired
}

// readFleet loads and checks the spec (-f), then opens the API (--endpoint), reads the catalog and the
// live state, and resolves the spec against them. It makes no mutating call. Diagnostics are printed
// to stderr; an invalid spec (offline or against the API) is an exit-1 error with nothing more to
// print. On success the caller must close fleetRead.API; on error it is closed already.
func readFleet(c *cli.Context) (_ *fleetRead, err error) {
	ls, err := loadSpec(c)
	if err != nil {
		return nil, err
	}
	api, err := openAPI(c)
	if err != nil {
		return nil, err
	}
	fr, err := readLive(c, api, ls)
	if err != nil {
		api.Close()
		return nil, err
	}
	return fr, nil
}

// loadedSpec is a checked spec and its digest.
type loadedSpec struct {
	Fleet  *spec.Fleet
	Digest string
	files  int
}

// loadSpec loads and checks the spec (-f, default the current folder) offline, printing its
// diagnostics to stderr; an invalid spec is an exit-1 error with nothing more to print.
func loadSpec(c *cli.Context) (*loadedSpec, error) {
	diags, fl, files := validate(specPaths(c))
	if diags.HasErrors() {
		printDiagnostics(c.App.ErrWriter, diags, fl, files)
		return nil, withCode(exitError, nil)
	}
	for _, d := range diags {
		fmt.Fprintln(c.App.ErrWriter, d.String())
	}
	digest, err := specDigest(fl.Files)
	if err != nil {
		return nil, err
	}
	return &loadedSpec{Fleet: fl, Digest: digest, files: files}, nil
}

// specPaths returns the -f paths, "." when none is given.
func specPaths(c *cli.Context) []string {
	if paths := c.StringSlice("file"); len(paths) > 0 {
		return paths
	}
	return []string{"."}
}

// readLive reads the catalog and the live state through api and resolves the spec against them. It
// makes no mutating call; it does not close api.
func readLive(c *cli.Context, api *apiSession, ls *loadedSpec) (*fleetRead, error) {
	start, before := time.Now(), api.Calls()
	ctx, fl := c.Context, ls.Fleet
	cat, err := engine.ReadCatalog(ctx, api.Client, fl)
	if err != nil {
		return nil, err
	}
	snap, err := engine.Observe(ctx, api.Client, engine.ObserveOptions{SiteIDs: cat.SiteIDs(fl),
		Parallelism: c.Int(flagParallelism)})
	if err != nil {
		return nil, err
	}
	desired, rdiags := engine.Resolve(fl, cat, snap)
	if rdiags.HasErrors() {
		printDiagnostics(c.App.ErrWriter, rdiags, fl, ls.files)
		return nil, withCode(exitError, nil)
	}
	desired.SpecDigest = ls.Digest
	return &fleetRead{API: api, Start: start, CallsBefore: before, Fleet: fl, Catalog: cat, Snapshot: snap,
		Desired: desired}, nil
}

// specDigest is the SHA-256 of the spec's files, in order: a saved plan records it to notice a spec
// that changed since.
func specDigest(files []string) (string, error) {
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", f, len(b))
		h.Write(b)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// useColor reports whether output to w gets colour: only at a terminal, and never with --no-color or
// NO_COLOR set (https://no-color.org).
func useColor(c *cli.Context, w io.Writer) bool {
	if c.Bool(flagNoColor) || os.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && isTerminal(f)
}

// planFormat is --format of plan and show: text, markdown or json.
func planFormat(c *cli.Context) (string, error) {
	switch format := c.String(flagFormat); format {
	case "text", "markdown", "json":
		return format, nil
	default:
		return "", fmt.Errorf("--format %q: want text, markdown or json", format)
	}
}

// renderPlan writes p in format (text in colour at a terminal, unless --no-color or NO_COLOR).
func renderPlan(c *cli.Context, w io.Writer, p *engine.Plan, format string) error {
	switch format {
	case "markdown":
		return render.Markdown(w, p, render.MarkdownOptions{})
	case "json":
		return render.JSON(w, p)
	default:
		return render.Text(w, p, render.TextOptions{Color: useColor(c, w)})
	}
}

package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/engine/render"
	"github.com/deskfleet/deskfleet/internal/golden"
	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/provider/gcw"
	"github.com/deskfleet/deskfleet/provider/sim"
	"github.com/deskfleet/deskfleet/spec"
	"github.com/deskfleet/deskfleet/state"
)

// scenarioNow is the emulator's clock and the plan's time in every scenario.
var scenarioNow = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

// scenario is one row of the planner's decision table: a spec, the live cloud and the state record it
// meets, and the reason the expected plan is right. It lives in testdata/scenarios/NAME/scenario.yaml;
// its plans in plan.txt, plan.md and plan.json beside it.
type scenario struct {
	Reason  string `yaml:"reason"`
	Spec    string `yaml:"spec"`
	Live    live   `yaml:"live"`
	State   record `yaml:"state"`
	Options struct {
		Targets  []string `yaml:"targets"`
		Excludes []string `yaml:"excludes"`
	} `yaml:"options"`
	// Expect are facts checked beside the goldens, so a wrong golden cannot be blessed by -update.
	Expect struct {
		Steps  *int           `yaml:"steps"`
		Calls  map[string]int `yaml:"calls"` // API action -> number of steps calling it
		Errors int            `yaml:"errors"`
		// Unhealthy counts the managed objects that need attention (Plan.Unhealthy).
		Unhealthy int      `yaml:"unhealthy"`
		Warnings  *int     `yaml:"warnings"` // checked when stated
		Guards    []string `yaml:"guards"`
		Empty     *bool    `yaml:"empty"`
		Unmanage  []string `yaml:"unmanaged"`
	} `yaml:"expect"`
}

type live struct {
	Accounts []struct {
		Email  string `yaml:"email"`
		Name   string `yaml:"name"`
		Remark string `yaml:"remark"`
		Status string `yaml:"status"`
	} `yaml:"accounts"`
	Desktops []liveDesktop `yaml:"desktops"`
}

// liveDesktop is a desktop already in the cloud. Defaults: 宿迁A, A5000 windows, Windows 10, the
// site's default net, 5 Mbps, running, per-minute, id "vm-<name>".
type liveDesktop struct {
	ID        string        `yaml:"id"`
	Name      string        `yaml:"name"`
	Site      string        `yaml:"site"`
	Product   string        `yaml:"product"` // a5000-win, a5000-linux, t4-win
	Image     string        `yaml:"image"`   // win10, custom, ubuntu
	Custom    bool          `yaml:"customVpc"`
	Bandwidth int           `yaml:"bandwidth"`
	Label     string        `yaml:"label"`
	Account   string        `yaml:"account"` // email
	Status    string        `yaml:"status"`  // raw: using, stop, error, ...
	Monthly   bool          `yaml:"monthly"`
	ExpiresIn time.Duration `yaml:"expiresIn"`
}

type record struct {
	Serial   int64 `yaml:"serial"`
	Desktops []struct {
		ID      string  `yaml:"id"`
		Name    string  `yaml:"name"`
		Image   string  `yaml:"image"`
		Protect bool    `yaml:"protect"`
		Label   *string `yaml:"label"`
		Account *string `yaml:"account"`
		Power   string  `yaml:"power"`
		// AutoRenew is the auto-renewal deskfleet last applied (monthly desktops).
		AutoRenew bool `yaml:"autoRenew"`
		// AppliedAgo is how long before scenarioNow deskfleet last changed it (default 24h).
		AppliedAgo time.Duration `yaml:"appliedAgo"`
	} `yaml:"desktops"`
	Accounts []struct {
		Email  string  `yaml:"email"`
		Name   string  `yaml:"name"`
		Remark *string `yaml:"remark"`
	} `yaml:"accounts"`
	// Intents are the journal's calls, oldest first: what deskfleet did (a CreateVm that returned
	// these vmIds and failed, ...).
	Intents []struct {
		Op     string   `yaml:"op"`     // an op kind: create_desktops, bind_accounts, ...
		Status string   `yaml:"status"` // done, failed, pending, sent
		VmIDs  []string `yaml:"vmIds"`
		// EndedAgo is how long before scenarioNow it ended (default 24h).
		EndedAgo time.Duration `yaml:"endedAgo"`
	} `yaml:"intents"`
}

var (
	scnSites    = map[string]string{"宿迁A": sim.SiteSuqianA, "宿迁B": sim.SiteSuqianB, "襄阳A": sim.SiteXiangyang}
	scnProducts = map[string]string{"a5000-win": sim.ProductA5000Win, "a5000-linux": sim.ProductA5000Linux, "t4-win": sim.ProductT4Win}
	scnImages   = map[string]string{"win10": sim.ImageWin10, "custom": sim.ImageCustom, "ubuntu": sim.ImageUbuntu}
)

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// scnEnv is an emulator on a fixed clock, seeded with a scenario's live cloud, behind the real client.
type scnEnv struct {
	sim    *sim.Sim
	client provider.Client
	ids    map[string]string // account email -> id
}

func newScnEnv(t testing.TB, lv live) *scnEnv {
	t.Helper()
	s, err := sim.New(sim.Options{Clock: sim.NewManualClock(scenarioNow), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c, err := gcw.New(gcw.Config{Endpoint: srv.URL, AccessKeyID: "scenario", Secret: "scenario-secret"})
	if err != nil {
		t.Fatal(err)
	}
	e := &scnEnv{sim: s, client: c, ids: map[string]string{}}
	for _, a := range lv.Accounts {
		id, err := s.AddAccount(sim.Account{ID: "acct-" + strings.Split(a.Email, "@")[0], Email: a.Email,
			Name: a.Name, Remark: a.Remark, Status: or(a.Status, "create")})
		if err != nil {
			t.Fatal(err)
		}
		e.ids[a.Email] = id
	}
	for _, d := range lv.Desktops {
		site := scnSites[or(d.Site, "宿迁A")]
		v := sim.Desktop{ID: or(d.ID, "vm-"+d.Name), Name: d.Name, SiteID: site,
			ProductID: scnProducts[or(d.Product, "a5000-win")], ImageID: scnImages[or(d.Image, "win10")],
			Qos: d.Bandwidth, Label: d.Label, Status: or(d.Status, "using"), Monthly: d.Monthly}
		if v.Qos == 0 {
			v.Qos = 5
		}
		if d.Custom {
			v.VPCID = sim.VPCCustomSuqianA
		} else if net, ok := s.DefaultNet(site); ok {
			v.VPCID = net.ID
			if len(net.Subnets) > 0 {
				v.SubnetID = net.Subnets[0].ID
			}
		}
		if d.Account != "" {
			v.AccountID = e.ids[d.Account]
		}
		if d.Monthly {
			v.ExpireTime = scenarioNow.Add(d.ExpiresIn)
			if d.ExpiresIn == 0 {
				v.ExpireTime = scenarioNow.AddDate(0, 1, 0)
			}
		}
		if _, err := s.AddDesktop(v); err != nil {
			t.Fatal(err)
		}
	}
	s.ResetCalls()
	return e
}

func (r record) toState() *state.Record {
	rec := &state.Record{Fleet: "test", Serial: r.Serial, Desktops: map[string]state.Desktop{}, Accounts: map[string]state.Account{}}
	ago := func(d time.Duration) time.Time {
		if d == 0 {
			d = 24 * time.Hour
		}
		return scenarioNow.Add(-d)
	}
	for _, d := range r.Desktops {
		rec.Desktops[or(d.ID, "vm-"+d.Name)] = state.Desktop{VmID: or(d.ID, "vm-"+d.Name), Name: d.Name,
			ImageID: scnImages[or(d.Image, "win10")], Protect: d.Protect, Label: d.Label, Account: d.Account,
			Power: d.Power, AutoRenew: d.AutoRenew, AppliedAt: ago(d.AppliedAgo)}
	}
	for i, in := range r.Intents {
		end := ago(in.EndedAgo)
		it := state.Intent{ID: fmt.Sprintf("run-%d/1", i+1), RunID: fmt.Sprintf("run-%d", i+1),
			Step: 1, Op: in.Op, Status: state.IntentStatus(in.Status), VmIDs: in.VmIDs,
			StartedAt: end.Add(-5 * time.Minute), EndedAt: end}
		if it.Open() {
			it.EndedAt = time.Time{}
		}
		rec.Intents = append(rec.Intents, it)
	}
	for _, a := range r.Accounts {
		rec.Accounts[a.Email] = state.Account{Email: a.Email, AccountID: "acct-" + strings.Split(a.Email, "@")[0],
			Name: a.Name, Remark: a.Remark}
	}
	return rec
}

// readScenario is the planner's read path on the emulator (catalog, observe, resolve), on the
// scenarios' fixed clock. It fails the test on an invalid spec or a failed read.
func readScenario(t testing.TB, e *scnEnv, specYAML string) (*engine.Catalog, *provider.Snapshot, *engine.Desired) {
	t.Helper()
	ctx := context.Background()
	fl, diags := spec.Parse("fleet.yaml", []byte(specYAML))
	if diags.HasErrors() {
		t.Fatalf("spec: %v", diags)
	}
	cat, err := engine.ReadCatalog(ctx, e.client, fl)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := engine.Observe(ctx, e.client, engine.ObserveOptions{SiteIDs: cat.SiteIDs(fl)})
	if err != nil {
		t.Fatal(err)
	}
	snap.TakenAt = scenarioNow
	desired, rdiags := engine.Resolve(fl, cat, snap)
	if rdiags.HasErrors() {
		t.Fatalf("resolve: %v", rdiags)
	}
	return cat, snap, desired
}

// planScenario runs the planner's whole read path on the emulator: catalog, observe, resolve, diff,
// price. It fails the test on any mutating call.
func planScenario(t testing.TB, e *scnEnv, sc scenario, rec *state.Record) *engine.Plan {
	t.Helper()
	ctx := context.Background()
	cat, snap, desired := readScenario(t, e, sc.Spec)
	desired.SpecDigest = "sha256:scenario"
	p := engine.Diff(desired, snap, rec, engine.Options{Now: scenarioNow,
		Targets: sc.Options.Targets, Excludes: sc.Options.Excludes})
	cost, err := engine.Price(ctx, e.client, p, engine.PriceInput{Products: cat.Products, Snapshot: snap})
	if err != nil {
		t.Fatal(err)
	}
	p.Cost = cost
	p.Reads = engine.Reads{Desktops: len(snap.Desktops), Accounts: len(snap.Accounts), Sites: len(snap.Networks)}
	if n := e.sim.MutatingCalls(); n != 0 {
		t.Fatalf("planning made %d mutating calls: %v", n, e.sim.Calls())
	}
	return p
}

// TestScenarios runs every scenario of testdata/scenarios on the emulator and compares the plan, in
// text, markdown and json, with its golden files (go test -run TestScenarios -update rewrites them).
func TestScenarios(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "scenarios", "*", "scenario.yaml"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no scenarios found: %v", err)
	}
	sort.Strings(dirs)
	for _, file := range dirs {
		dir := filepath.Dir(file)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var sc scenario
			dec := yaml.NewDecoder(bytes.NewReader(raw))
			dec.KnownFields(true)
			if err := dec.Decode(&sc); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if strings.TrimSpace(sc.Reason) == "" {
				t.Fatalf("%s: every scenario names its reason", file)
			}
			e := newScnEnv(t, sc.Live)
			p := planScenario(t, e, sc, sc.State.toState())
			checkExpect(t, sc, p)

			var txt, md, js bytes.Buffer
			if err := render.Text(&txt, p, render.TextOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := render.Markdown(&md, p, render.MarkdownOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := render.JSON(&js, p); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join(dir, "plan.txt"), txt.Bytes())
			golden.Check(t, filepath.Join(dir, "plan.md"), md.Bytes())
			golden.Check(t, filepath.Join(dir, "plan.json"), js.Bytes())
		})
	}
}

// checkExpect checks the scenario's stated facts about the plan.
func checkExpect(t *testing.T, sc scenario, p *engine.Plan) {
	t.Helper()
	x := sc.Expect
	if x.Empty != nil && *x.Empty != p.Empty() {
		t.Errorf("plan empty = %v, want %v", p.Empty(), *x.Empty)
	}
	if x.Steps != nil && len(p.Steps) != *x.Steps {
		t.Errorf("%d steps, want %d", len(p.Steps), *x.Steps)
	}
	if x.Calls != nil {
		got := map[string]int{}
		for _, s := range p.Steps {
			got[string(s.Op.Action())]++
		}
		for a, n := range x.Calls {
			if got[a] != n {
				t.Errorf("%s: %d steps, want %d (all: %v)", a, got[a], n, got)
			}
		}
		for a, n := range got {
			if _, ok := x.Calls[a]; !ok {
				t.Errorf("unexpected %d %s steps (want only %v)", n, a, x.Calls)
			}
		}
	}
	if x.Warnings != nil && len(p.Warnings) != *x.Warnings {
		t.Errorf("%d plan warnings, want %d: %+v", len(p.Warnings), *x.Warnings, p.Warnings)
	}
	if len(p.Errors) != x.Errors {
		t.Errorf("%d plan errors, want %d: %+v", len(p.Errors), x.Errors, p.Errors)
	}
	if len(p.Unhealthy) != x.Unhealthy {
		t.Errorf("%d objects need attention, want %d: %+v", len(p.Unhealthy), x.Unhealthy, p.Unhealthy)
	}
	var guards []string
	for _, g := range p.Guards {
		guards = append(guards, string(g.Guard))
	}
	for _, s := range p.Steps {
		if s.Guard != engine.GuardNone {
			guards = append(guards, string(s.Guard))
		}
	}
	sort.Strings(guards)
	want := append([]string(nil), x.Guards...)
	sort.Strings(want)
	if strings.Join(guards, ",") != strings.Join(want, ",") {
		t.Errorf("guards %v, want %v", guards, want)
	}
	if x.Unmanage != nil && strings.Join(x.Unmanage, ",") != strings.Join(p.Unmanaged, ",") {
		t.Errorf("unmanaged %v, want %v", p.Unmanaged, x.Unmanage)
	}
	// Steps are ordered: every dependency comes first.
	for _, s := range p.Steps {
		for _, a := range s.After {
			if a >= s.ID {
				t.Errorf("step %d depends on later step %d", s.ID, a)
			}
		}
	}
}

// TestExamplesPlanSeeded plans every example of examples/ against an emulator that already holds part
// of the fleet (the first desktop of each group, made in the console) and desktops of its own: each
// plans without an error, adopts what it finds and leaves the rest alone.
func TestExamplesPlanSeeded(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "examples", "*", "fleet.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(filepath.Dir(file)), func(t *testing.T) {
			fl, diags := spec.Load(file)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			var lv live
			seen := map[string]bool{}
			for _, d := range fl.Desktops {
				if seen[d.Group] {
					continue
				}
				seen[d.Group] = true
				lv.Desktops = append(lv.Desktops, liveDesktop{Name: d.Name, Site: d.Site, Bandwidth: d.Bandwidth,
					Product: map[string]string{"windows": "a5000-win", "linux": "a5000-linux"}[strings.ToLower(d.Product.OS)],
					Image:   map[string]string{"Windows10-公共镜像-图像处理型": "win10", "Ubuntu20.04-公共镜像-图像处理型": "ubuntu", "定制模板": "custom"}[d.Image],
					Monthly: d.Billing.Cycle == spec.CycleMonth})
			}
			lv.Desktops = append(lv.Desktops, liveDesktop{Name: "legacy-ws"})
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			e := newScnEnv(t, lv)
			p := planScenario(t, e, scenario{Spec: string(raw)}, nil)
			if len(p.Errors) > 0 {
				t.Fatalf("plan errors: %+v", p.Errors)
			}
			adopted := 0
			for _, c := range p.Changes {
				if c.Action == engine.ActionAdopt && c.Object == engine.ObjectDesktop {
					adopted++
				}
			}
			if adopted != len(seen) {
				t.Errorf("adopted %d desktops, want %d (one per group)", adopted, len(seen))
			}
			if strings.Join(p.Unmanaged, ",") != "legacy-ws" {
				t.Errorf("unmanaged %v, want [legacy-ws]", p.Unmanaged)
			}
		})
	}
}

package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/provider/sim"
	"github.com/deskfleet/deskfleet/spec"
	"github.com/deskfleet/deskfleet/state"
)

// importLive is a cloud with every shape import must describe: a group in sequence, a desktop of the
// same name family that differs, a custom VPC, a monthly desktop, bound accounts, another site, a
// linux product, a duplicate name and a desktop being reclaimed.
const importLive = `
accounts:
  - {email: alice@example.com, name: alice, remark: 设计部}
  - {email: bob@example.com, name: bob}
  - {email: idle@example.com, name: idle}
desktops:
  - {name: render, label: team-a, account: alice@example.com}
  - {name: render_001, label: team-a, account: bob@example.com}
  - {name: render_002, label: team-a}
  - {name: render_003, label: team-b}
  - {name: edit, customVpc: true, bandwidth: 10}
  - {name: lead, monthly: true}
  - {name: b-site, site: 宿迁B}
  - {name: lin, product: a5000-linux, image: ubuntu, label: "on"}
  - {id: vm-dup1, name: dup}
  - {id: vm-dup2, name: dup}
  - {name: gone, status: deleted}
`

func importOn(t *testing.T, e *scnEnv, opt engine.ImportOptions) (*engine.Imported, *engine.Catalog, *provider.Snapshot) {
	t.Helper()
	ctx := context.Background()
	cat, err := engine.ReadCatalog(ctx, e.client, nil)
	if err != nil {
		t.Fatal(err)
	}
	var sites []string
	for _, s := range cat.Sites {
		sites = append(sites, s.SiteID)
	}
	snap, err := engine.Observe(ctx, e.client, engine.ObserveOptions{SiteIDs: sites})
	if err != nil {
		t.Fatal(err)
	}
	snap.TakenAt = scenarioNow
	if opt.Fleet == "" {
		opt.Fleet = "imported"
	}
	opt.Now = scenarioNow
	im, err := engine.Import(cat, snap, opt)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.sim.MutatingCalls(); n != 0 {
		t.Fatalf("import made %d mutating calls", n)
	}
	return im, cat, snap
}

// planImported resolves the imported spec against the same live state and diffs it with rec.
func planImported(t *testing.T, im *engine.Imported, cat *engine.Catalog, snap *provider.Snapshot, rec *state.Record) *engine.Plan {
	t.Helper()
	fl, diags := spec.Parse("import.yaml", im.YAML)
	if diags.HasErrors() {
		t.Fatalf("the imported spec is invalid: %v\n%s", diags, im.YAML)
	}
	for _, d := range diags {
		t.Errorf("the imported spec has a warning: %v\n%s", d, im.YAML)
	}
	d, rd := engine.Resolve(fl, cat, snap)
	if rd.HasErrors() {
		t.Fatalf("the imported spec does not resolve: %v\n%s", rd, im.YAML)
	}
	return engine.Diff(d, snap, rec, engine.Options{Now: scenarioNow})
}

// adoptRecord is what `import --adopt` records: every imported desktop and account, protected.
func adoptRecord(im *engine.Imported) *state.Record {
	rec := &state.Record{Fleet: "imported", Desktops: map[string]state.Desktop{}, Accounts: map[string]state.Account{}}
	for _, d := range im.Desktops {
		label := d.Label
		sd := state.Desktop{VmID: d.ID, Name: d.Name, Protect: true, Label: &label, AppliedAt: scenarioNow}
		if im.ImageSure[d.ID] {
			sd.ImageID = im.Images[d.ID].ID
		}
		if im.BindingsSet {
			email := d.AccountEmail
			sd.Account = &email
		}
		rec.Desktops[d.ID] = sd
	}
	for _, a := range im.Accounts {
		rec.Accounts[a.Email] = state.Account{Email: a.Email, AccountID: a.AccountID, Name: a.Name}
	}
	return rec
}

// TestImportRoundTrip: the imported spec plans to adoptions only against the cloud it was read from,
// and to nothing once they are recorded.
func TestImportRoundTrip(t *testing.T) {
	e := newScnEnv(t, decodeYAML[live](t, importLive))
	im, cat, snap := importOn(t, e, engine.ImportOptions{})
	y := string(im.YAML)
	for _, want := range []string{
		"fleet: imported\n",
		"  - name: render\n    count: 3\n", // the run render, render_001, render_002
		"  - name: render_003\n",           // same family, other label: its own group
		"network: {vpc: ",                  // edit is on the custom VPC
		"bandwidth: 10\n",
		"billing: monthly\n",
		"monthly: {cycle: month, months: 1, autoRenew: false}",
		`label: "on"`, // quoted: plain on would read as a boolean
		"  - {email: alice@example.com, name: alice, remark: 设计部}\n",
		"bindings:\n  render: alice@example.com\n  render_001: bob@example.com\n",
		"protect: true\n",
	} {
		if !strings.Contains(y, want) {
			t.Errorf("the spec lacks %q:\n%s", want, y)
		}
	}
	for _, notWant := range []string{"idle@example.com", "name: dup", "name: gone"} {
		if strings.Contains(y, notWant) {
			t.Errorf("the spec holds %q (unbound account, duplicate name, deleted desktop):\n%s", notWant, y)
		}
	}
	if w := strings.Join(im.Warnings, "\n"); !strings.Contains(w, `named "dup"`) || !strings.Contains(w, "check the image") {
		t.Errorf("warnings %q: want one about the duplicate name and one about the guessed image", im.Warnings)
	}
	// Two images fit A5000 windows at 宿迁A (Windows 10 and the custom one): the spec says to check
	// it, and the guess is not recorded; at 宿迁B only Windows 10 is usable: sure.
	if !strings.Contains(y, "image: Windows10-公共镜像-图像处理型  # TODO: check the image") {
		t.Errorf("the guessed image has no TODO:\n%s", y)
	}
	for _, d := range im.Desktops {
		if want := d.SiteID != sim.SiteSuqianA || d.ProductID == sim.ProductA5000Linux; im.ImageSure[d.ID] != want {
			t.Errorf("%s: image sure = %v, want %v", d.Name, im.ImageSure[d.ID], want)
		}
	}

	p := planImported(t, im, cat, snap, nil)
	adopted := 0
	for _, c := range p.Changes {
		if c.Action != engine.ActionAdopt {
			t.Errorf("without a record the plan may only adopt; it has %+v", c)
		} else if c.Object == engine.ObjectDesktop {
			adopted++
		}
	}
	if adopted != len(im.Desktops) || len(p.Steps) != 0 || len(p.Errors) != 0 {
		t.Errorf("adopted %d of %d desktops, %d steps, errors %+v", adopted, len(im.Desktops), len(p.Steps), p.Errors)
	}

	p = planImported(t, im, cat, snap, adoptRecord(im))
	if !p.Empty() || len(p.Errors) != 0 || len(p.Changes) != 0 {
		t.Errorf("with the imported objects recorded the plan must be empty; changes %+v errors %+v", p.Changes, p.Errors)
	}
}

func TestImportFilters(t *testing.T) {
	label := "team-a"
	tests := []struct {
		name, reason string
		opt          engine.ImportOptions
		want         []string // desktop names imported
	}{
		{name: "site", reason: "--site keeps the desktops of that site",
			opt: engine.ImportOptions{Sites: []string{"宿迁B"}}, want: []string{"b-site"}},
		{name: "prefix", reason: "--name-prefix keeps the names that start with it",
			opt: engine.ImportOptions{NamePrefix: "render"}, want: []string{"render", "render_001", "render_002", "render_003"}},
		{name: "label", reason: "--label keeps the desktops with exactly that label",
			opt: engine.ImportOptions{Label: &label}, want: []string{"render", "render_001", "render_002"}},
	}
	e := newScnEnv(t, decodeYAML[live](t, importLive))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			im, cat, snap := importOn(t, e, tc.opt)
			var got []string
			for _, d := range im.Desktops {
				got = append(got, d.Name)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("%s: imported %v, want %v", tc.reason, got, tc.want)
			}
			p := planImported(t, im, cat, snap, adoptRecord(im))
			if len(p.Changes) != 0 {
				t.Errorf("%s: recorded, the filtered spec must plan nothing; changes %+v", tc.reason, p.Changes)
			}
		})
	}
	t.Run("unknown site", func(t *testing.T) {
		cat, err := engine.ReadCatalog(context.Background(), e.client, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = engine.Import(cat, provider.NewSnapshot(time.Now(), nil, nil, nil, nil), engine.ImportOptions{Fleet: "f", Sites: []string{"nowhere"}})
		if err == nil || !strings.Contains(err.Error(), "宿迁A") {
			t.Errorf("an unknown site is an error naming the sites; got %v", err)
		}
	})
}

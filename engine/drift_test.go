package engine_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/state"
)

// driftSpec is the spec every drift case starts from: one desktop "cad" with a label, power on, bound
// to a@example.com, monthly; the accounts a and b.
const driftSpec = `version: 1
fleet: test
defaults: {site: 宿迁A, profile: a5000-win}
billing:
  monthly: {cycle: month, months: 1}
profiles:
  a5000-win: {product: {gpu: NVIDIA A5000, os: windows}, image: Windows10-公共镜像-图像处理型}
accounts:
  - {email: a@example.com, name: a, remark: design}
  - {email: b@example.com, name: b}
desktops:
  - {name: cad, label: team-b, power: on, billing: monthly}
bindings:
  cad: a@example.com
`

// driftState manages cad and both accounts, as last applied from driftSpec.
const driftState = `
desktops:
  - {name: cad, label: team-b, account: a@example.com, power: "on"}
accounts:
  - {email: a@example.com, name: a, remark: design}
  - {email: b@example.com, name: b}
`

// driftLive is the cloud in line with driftSpec.
const driftLive = `
accounts:
  - {email: a@example.com, name: a, remark: design}
  - {email: b@example.com, name: b}
desktops:
  - {name: cad, label: team-b, account: a@example.com, monthly: true, expiresIn: 720h}
`

// readForDrift runs the read path of `deskfleet drift` on the emulator: catalog, observe, resolve;
// then Drift and Diff on the same inputs. It fails the test on any mutating call.
func readForDrift(t *testing.T, e *scnEnv, specYAML string, rec *state.Record, within time.Duration) (*engine.DriftReport, *engine.Plan) {
	t.Helper()
	_, snap, desired := readScenario(t, e, specYAML)
	r := engine.Drift(desired, snap, rec, engine.DriftOptions{Now: scenarioNow, ExpiringWithin: within})
	p := engine.Diff(desired, snap, rec, engine.Options{Now: scenarioNow})
	if n := e.sim.MutatingCalls(); n != 0 {
		t.Fatalf("drift made %d mutating calls: %v", n, e.sim.Calls())
	}
	return r, p
}

func decodeYAML[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	dec := yaml.NewDecoder(strings.NewReader(s))
	dec.KnownFields(true)
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%v in:\n%s", err, s)
	}
	return v
}

// TestDrift has one case per kind of finding, each on the emulator with the reason it is right.
func TestDrift(t *testing.T) {
	tests := []struct {
		name, reason string
		spec         string // default driftSpec
		live, state  string // default driftLive, driftState
		// patch edits the record after it is built (auto-renewal, which the YAML form lacks).
		patch func(*state.Record)
		// want are the drift items as "object name attribute want->live cause".
		want         []string
		wantDrifted  bool
		wantExpiring []string // "name managed auto-renew"
		wantInError  []string // "name raw managed"
		wantUnmanage []string
		wantUnadopt  []string
		wantUncreate []string
	}{
		{name: "in sync", reason: "a live fleet that matches the spec drifts in nothing",
			wantDrifted: false},
		{name: "label", reason: "a label changed in the console is drift, changed outside deskfleet",
			live: strings.Replace(driftLive, "label: team-b", "label: tmp", 1),
			want: []string{"desktop cad label team-b->tmp outside"}, wantDrifted: true},
		{name: "label spec", reason: "a label the spec changed since the last apply is drift caused by the spec",
			spec: strings.Replace(driftSpec, "label: team-b", "label: team-c", 1),
			want: []string{"desktop cad label team-c->team-b spec"}, wantDrifted: true},
		{name: "name", reason: "a desktop renamed in the console is drift under its spec name",
			live: strings.Replace(driftLive, "{name: cad,", "{name: cad-x, id: vm-cad,", 1),
			want: []string{"desktop cad rename cad->cad-x outside"}, wantDrifted: true},
		{name: "account name", reason: "a sub-account renamed outside deskfleet is drift of its name",
			live: strings.Replace(driftLive, "{email: b@example.com, name: b}", "{email: b@example.com, name: bobby}", 1),
			want: []string{"account b@example.com name b->bobby outside"}, wantDrifted: true},
		{name: "account remark", reason: "a remark the spec manages and that differs live is drift",
			live: strings.Replace(driftLive, "remark: design", "remark: sales", 1),
			want: []string{"account a@example.com remark design->sales outside"}, wantDrifted: true},
		{name: "power", reason: "a desktop the spec wants on that is stopped is drift of its power",
			live: strings.Replace(driftLive, "monthly: true,", "monthly: true, status: stop,", 1),
			want: []string{"desktop cad power on->off outside"}, wantDrifted: true},
		{name: "power not enforced", reason: "without power in the spec a stopped desktop is not drift",
			spec: strings.Replace(driftSpec, " power: on,", "", 1),
			live: strings.Replace(driftLive, "monthly: true,", "monthly: true, status: stop,", 1)},
		{name: "schedule off", reason: "a scheduled desktop stopped outside its hours is not drift (scenarioNow is Thursday 09:00 UTC)",
			spec: strings.Replace(driftSpec, " power: on,", ` schedule: {hours: "Thu 10:00-12:00", timezone: UTC},`, 1),
			live: strings.Replace(driftLive, "monthly: true,", "monthly: true, status: stop,", 1)},
		{name: "schedule just turned", reason: "the schedule turned on 10 minutes ago, within the grace: the power-only apply may not have run yet",
			spec: strings.Replace(driftSpec, " power: on,", ` schedule: {hours: "Thu 08:50-12:00", timezone: UTC},`, 1),
			live: strings.Replace(driftLive, "monthly: true,", "monthly: true, status: stop,", 1)},
		{name: "schedule missed", reason: "the schedule has wanted it on for 3 hours and it is stopped: drift of its power, changed outside",
			spec: strings.Replace(driftSpec, " power: on,", ` schedule: {hours: "Thu 06:00-12:00", timezone: UTC},`, 1),
			live: strings.Replace(driftLive, "monthly: true,", "monthly: true, status: stop,", 1),
			want: []string{"desktop cad power on->off outside"}, wantDrifted: true},
		{name: "binding", reason: "a desktop re-bound in the console to another account is drift of its binding",
			live: strings.Replace(driftLive, "account: a@example.com", "account: b@example.com", 1),
			want: []string{"desktop cad bind a@example.com->b@example.com outside"}, wantDrifted: true},
		{name: "unbound", reason: "a desktop unbound in the console while the spec binds it is drift",
			live: strings.Replace(driftLive, ", account: a@example.com", "", 1),
			want: []string{"desktop cad bind a@example.com-> outside"}, wantDrifted: true},
		{name: "bindings unmanaged", reason: "without a bindings key, bindings are not compared",
			spec: strings.Replace(driftSpec, "bindings:\n  cad: a@example.com\n", "", 1),
			live: strings.Replace(driftLive, "account: a@example.com", "account: b@example.com", 1)},
		{name: "billing", reason: "a desktop the spec wants monthly that is per-minute is drift of its billing",
			live: strings.Replace(driftLive, "monthly: true, expiresIn: 720h", "monthly: false", 1),
			want: []string{"desktop cad billing monthly x1->per-minute unknown"}, wantDrifted: true},
		{name: "billing back", reason: "a monthly desktop the spec wants per-minute is drift apply cannot fix",
			spec: strings.Replace(driftSpec, ", billing: monthly}", "}", 1),
			want: []string{"desktop cad billing per-minute->monthly unknown"}, wantDrifted: true},
		{name: "deleted", reason: "a managed desktop deleted in the console is drift: apply creates it again",
			live: strings.Replace(driftLive, "  - {name: cad, label: team-b, account: a@example.com, monthly: true, expiresIn: 720h}\n", "", 1),
			want: []string{"desktop cad deleted exists->deleted outside"}, wantDrifted: true},
		{name: "replace", reason: "a bandwidth that differs from the spec needs a replacement: one replace item, nothing else compared",
			live: strings.Replace(driftLive, "label: team-b,", "label: tmp, bandwidth: 10,", 1),
			want: []string{"desktop cad replace bandwidth 5 Mbps->bandwidth 10 Mbps unknown"}, wantDrifted: true},
		{name: "replace product", reason: "a product that differs needs a replacement, named from the catalog",
			live: strings.Replace(driftLive, "label: team-b,", "label: team-b, product: t4-win,", 1),
			want: []string{"desktop cad replace product A5000 windows->product T4 windows unknown"}, wantDrifted: true},
		{name: "unmanaged", reason: "a live desktop neither in the spec nor in the state is reported, not drift",
			live:         driftLive + "  - {name: legacy}\n",
			wantUnmanage: []string{"legacy"}},
		{name: "unadopted", reason: "a live desktop the spec names but the state does not manage is adopted by apply, not drift",
			state:       "accounts: []\n",
			wantUnadopt: []string{"cad"}},
		{name: "uncreated", reason: "a spec desktop neither live nor managed is created by apply, not drift",
			spec:         strings.Replace(driftSpec, "desktops:\n", "desktops:\n  - {name: new, count: 2}\n", 1),
			wantUncreate: []string{"new", "new_001"}},
		{name: "error status", reason: "a managed desktop in error is reported with its raw status and counts as drift",
			live:        strings.Replace(driftLive, "monthly: true,", "monthly: true, status: error,", 1),
			wantInError: []string{"cad error true"}, wantDrifted: true},
		{name: "error never ran", reason: "a managed desktop in error whose creation failed is one replace item (apply replaces it without a flag), and in error",
			live:        strings.Replace(driftLive, "monthly: true,", "monthly: true, status: error,", 1),
			state:       driftState + "intents:\n  - {op: create_desktops, status: failed, vmIds: [vm-cad]}\n",
			want:        []string{"desktop cad replace a new desktop->status failed (error) outside"},
			wantInError: []string{"cad error true"}, wantDrifted: true},
		{name: "duplicate", reason: "a live desktop not managed with a managed desktop's name is a possible duplicate: an item of the managed desktop, and unmanaged",
			live:         driftLive + "  - {id: vm-cad-2, name: cad, status: stop}\n",
			want:         []string{"desktop cad duplicate one desktop->also vm-cad-2 (not managed) outside"},
			wantUnmanage: []string{"cad"}, wantDrifted: true},
		{name: "record mismatch", reason: "a recorded vmId the account does not have, beside a live desktop of that name not managed, is a record item naming both ids, not a deletion",
			state:        strings.Replace(driftState, "{name: cad,", "{id: vm-cad-x, name: cad,", 1),
			want:         []string{"desktop cad record vm-cad-x->vm-cad outside"},
			wantUnmanage: []string{"cad"}, wantDrifted: true},
		{name: "deleted beside a namesake", reason: "a managed desktop deleted outside deskfleet while a desktop not managed has its name is still a deleted item (apply reports an error instead of creating it)",
			live:         strings.Replace(driftLive, "monthly: true,", "monthly: true, status: deleted,", 1) + "  - {id: vm-cad-new, name: cad}\n",
			want:         []string{"desktop cad deleted exists->deleted outside"},
			wantUnmanage: []string{"cad"}, wantDrifted: true},
		{name: "unmanaged in error", reason: "an unmanaged desktop in error is reported but is not the fleet's drift",
			live:         driftLive + "  - {name: old-render, status: error}\n",
			wantInError:  []string{"old-render error false"},
			wantUnmanage: []string{"old-render"}},
		{name: "expiring", reason: "a managed monthly desktop expiring within the window is reported with the recorded auto-renewal",
			live:         strings.Replace(driftLive, "expiresIn: 720h", "expiresIn: 72h", 1),
			patch:        func(r *state.Record) { d := r.Desktops["vm-cad"]; d.AutoRenew = false; r.Desktops["vm-cad"] = d },
			wantExpiring: []string{"cad true false"}, wantDrifted: true},
		{name: "expiring auto-renew", reason: "auto-renewal comes from the record, which remembers it",
			live:         strings.Replace(driftLive, "expiresIn: 720h", "expiresIn: 72h", 1),
			patch:        func(r *state.Record) { d := r.Desktops["vm-cad"]; d.AutoRenew = true; r.Desktops["vm-cad"] = d },
			wantExpiring: []string{"cad true true"}, wantDrifted: true},
		{name: "expiring outside window", reason: "a term ending after the window is not reported",
			live: strings.Replace(driftLive, "expiresIn: 720h", "expiresIn: 240h", 1)},
		{name: "expiring unmanaged", reason: "an unmanaged desktop expiring soon is reported but does not count",
			live:         driftLive + "  - {name: lead, monthly: true, expiresIn: 96h}\n",
			wantExpiring: []string{"lead false ?"}, wantUnmanage: []string{"lead"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.reason == "" {
				t.Fatal("every case names its reason")
			}
			lv := decodeYAML[live](t, or(tc.live, driftLive))
			rc := decodeYAML[record](t, or(tc.state, driftState))
			rec := rc.toState()
			if tc.patch != nil {
				tc.patch(rec)
			}
			e := newScnEnv(t, lv)
			r, p := readForDrift(t, e, or(tc.spec, driftSpec), rec, 0)

			var got []string
			for _, it := range r.Items {
				got = append(got, fmt.Sprintf("%s %s %s %s->%s %s", it.Object, it.Name, it.Attribute, it.Want, it.Live, it.Cause))
			}
			check := func(what string, got, want []string) {
				t.Helper()
				if strings.Join(got, "|") != strings.Join(want, "|") {
					t.Errorf("%s: %s\n got  %q\n want %q", tc.reason, what, got, want)
				}
			}
			check("drift", got, tc.want)
			var exp []string
			for _, x := range r.Expiring {
				ar := "?"
				if x.AutoRenew != nil {
					ar = fmt.Sprint(*x.AutoRenew)
				}
				exp = append(exp, fmt.Sprintf("%s %v %s", x.Name, x.Managed, ar))
			}
			check("expiring", exp, tc.wantExpiring)
			var errs []string
			for _, x := range r.InError {
				errs = append(errs, fmt.Sprintf("%s %s %v", x.Name, x.RawStatus, x.Managed))
			}
			check("in error", errs, tc.wantInError)
			check("unmanaged", r.Unmanaged, tc.wantUnmanage)
			check("unadopted", r.Unadopted, tc.wantUnadopt)
			check("uncreated", r.Uncreated, tc.wantUncreate)
			if r.Drifted() != tc.wantDrifted {
				t.Errorf("%s: Drifted() = %v, want %v", tc.reason, r.Drifted(), tc.wantDrifted)
			}
			checkAgrees(t, r, p, rec)
		})
	}
}

// checkAgrees checks that drift and plan never disagree: every drift item is a change the plan makes
// to that object with the same attribute (or a plan error about it; a duplicate item, the plan's
// warning of a possible duplicate), and every change the plan makes to a managed object to set a live
// value back, and every possible duplicate the plan warns of, is a drift item.
func checkAgrees(t *testing.T, r *engine.DriftReport, p *engine.Plan, rec *state.Record) {
	t.Helper()
	key := func(o engine.ObjectKind, name string, a engine.Attribute) string {
		return fmt.Sprintf("%s %s %s", o, name, a)
	}
	planned := map[string]bool{}
	planErr := map[string]bool{}
	for _, e := range p.Errors {
		planErr[string(e.Object)+" "+e.Name] = true
	}
	var mustDrift []string
	for _, w := range p.Warnings {
		if strings.HasPrefix(w.Message, "possible duplicate:") {
			k := key(w.Object, w.Name, engine.AttrDuplicate)
			planned[k] = true
			if len(mustDrift) == 0 || mustDrift[len(mustDrift)-1] != k {
				mustDrift = append(mustDrift, k)
			}
		}
	}
	managedName := map[string]bool{}
	for _, d := range rec.Desktops {
		managedName[d.Name] = true
	}
	for _, c := range p.Changes {
		a := c.Attribute
		if c.Action == engine.ActionCreate && c.OutOfBand {
			a = engine.AttrDeleted
		}
		planned[key(c.Object, c.Name, a)] = true
		managed := false
		switch c.Object {
		case engine.ObjectAccount:
			_, managed = rec.Account(c.Name)
		case engine.ObjectDesktop:
			_, byID := rec.Desktop(c.ID)
			managed = byID || managedName[c.Name]
		}
		if !managed {
			continue
		}
		switch a {
		case engine.AttrRename, engine.AttrLabel, engine.AttrBind, engine.AttrUnbind, engine.AttrBilling,
			engine.AttrReplace, engine.AttrName, engine.AttrRemark, engine.AttrDeleted:
			mustDrift = append(mustDrift, key(c.Object, c.Name, a))
		case engine.AttrPower:
			if c.Reason == "" { // not the stop that another change needs
				mustDrift = append(mustDrift, key(c.Object, c.Name, a))
			}
		}
	}
	drifted := map[string]bool{}
	for _, it := range r.Items {
		k := key(it.Object, it.Name, it.Attribute)
		drifted[k] = true
		if !planned[k] && !planErr[string(it.Object)+" "+it.Name] {
			t.Errorf("drift reports %s but the plan neither changes it nor reports an error about it", it)
		}
	}
	for _, k := range mustDrift {
		if !drifted[k] {
			t.Errorf("the plan sets back %s on a managed object but drift does not report it", k)
		}
	}
	if strings.Join(r.Unmanaged, ",") != strings.Join(p.Unmanaged, ",") {
		t.Errorf("unmanaged: drift %v, plan %v", r.Unmanaged, p.Unmanaged)
	}
}

// TestDriftAgreesWithPlanScenarios runs Drift on every plan scenario of testdata/scenarios (each a spec,
// a live cloud and a state record): on every row of the decision table drift and plan agree.
func TestDriftAgreesWithPlanScenarios(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "scenarios", "*", "scenario.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	sort.Strings(files)
	for _, file := range files {
		t.Run(filepath.Base(filepath.Dir(file)), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var sc scenario
			dec := yaml.NewDecoder(bytes.NewReader(raw))
			dec.KnownFields(true)
			if err := dec.Decode(&sc); err != nil {
				t.Fatal(err)
			}
			if len(sc.Options.Targets)+len(sc.Options.Excludes) > 0 {
				t.Skip("drift has no --target: the plan of this scenario is filtered")
			}
			e := newScnEnv(t, sc.Live)
			rec := sc.State.toState()
			r, p := readForDrift(t, e, sc.Spec, rec, 0)
			checkAgrees(t, r, p, rec)
		})
	}
}

// TestDriftExpiringSources checks the two sources of expiry on a hand-made snapshot: QueryVm's
// expireTime of monthly desktops, and QueryExpireVms entries for names no live desktop covers; per-minute
// desktops never expire, and an expired term is flagged.
func TestDriftExpiringSources(t *testing.T) {
	now := scenarioNow
	tv := func(d time.Duration) provider.TimeValue { return provider.TimeValue{Time: now.Add(d), Raw: "x"} }
	snap := provider.NewSnapshot(now, []provider.Desktop{
		{ID: "vm-1", Name: "soon", BillMethod: provider.BillMethodMonthly, ExpireTime: tv(48 * time.Hour), Status: provider.StatusRunning},
		{ID: "vm-2", Name: "late", BillMethod: provider.BillMethodMonthly, ExpireTime: tv(30 * 24 * time.Hour), Status: provider.StatusRunning},
		{ID: "vm-3", Name: "minute", BillMethod: provider.BillMethodPerMinute, ExpireTime: tv(time.Hour), Status: provider.StatusRunning},
		{ID: "vm-4", Name: "over", BillMethod: provider.BillMethodMonthly, ExpireTime: tv(-time.Hour), Status: provider.StatusExpired, RawStatus: "asMonthExpired"},
	}, nil, nil, []provider.ExpiringDesktop{
		{Name: "soon", BillMethod: provider.BillMethodMonthly, ExpireTime: tv(48 * time.Hour)},
		{Name: "listed-only", BillMethod: provider.BillMethodMonthly, ExpireTime: tv(24 * time.Hour)},
		{Name: "listed-late", BillMethod: provider.BillMethodMonthly, ExpireTime: tv(6 * 24 * time.Hour)},
	})
	d := &engine.Desired{Fleet: "f"}
	r := engine.Drift(d, snap, nil, engine.DriftOptions{ExpiringWithin: 3 * 24 * time.Hour})
	var got []string
	for _, x := range r.Expiring {
		got = append(got, fmt.Sprintf("%s %s %v %dd", x.Name, x.Source, x.Expired, x.DaysLeft))
	}
	want := []string{"over QueryVm true 0d", "listed-only QueryExpireVms false 1d", "soon QueryVm false 2d"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("expiring %q, want %q", got, want)
	}
	if !r.At.Equal(now) || r.ExpiringWithin != 72*time.Hour {
		t.Errorf("at %v within %v: want the snapshot's time and the window asked for", r.At, r.ExpiringWithin)
	}
	if len(r.InError) != 1 || r.InError[0].RawStatus != "asMonthExpired" || r.InError[0].Status != "expired" {
		t.Errorf("in error %+v, want the expired desktop with its raw status", r.InError)
	}
	if r.Drifted() {
		t.Error("nothing is managed: nothing can drift")
	}
	if r.Items == nil || r.Unadopted == nil {
		t.Error("empty lists are [] (not null) in JSON")
	}
}

package engine_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/provider"
)

// pfAllOps is one op of every kind (ops.go's closed set).
func pfAllOps() []engine.Op {
	site := engine.Site{ID: "site-a", Name: "宿迁A"}
	r := engine.Target{Name: "render", VmID: "9f3c-1"}
	return []engine.Op{
		engine.CreateDefaultNet{Site: site},
		engine.SupplyDefaultNet{Site: site},
		engine.CreateSubAccounts{New: []engine.NewAccount{{Email: "bob@example.com", Name: "bob", Remark: "设计部"}}},
		engine.ChangeSubAccountName{Account: engine.AccountRef{Email: "a@example.com", ID: "acc-1"}, From: "a", To: "b"},
		engine.ChangeSubAccountRemark{Targets: []engine.AccountRef{{Email: "a@example.com", ID: "acc-1"}}, Remark: "r"},
		engine.CreateDesktops{Names: []string{"lab", "lab_001"}, BaseName: "lab", HostNo: 1, Site: site, ProductID: "p",
			Product: "NVIDIA A5000 windows", GoodsID: 15264, Image: engine.Image{ID: "img", Name: "Windows10"}, Bandwidth: 5,
			Billing: engine.Billing{Plan: "m", Cycle: provider.BillCycleMonthly, Months: 3, ToMonthEnd: true, AutoRenew: true,
				RenewWithin: 7 * 24 * time.Hour},
			Network: engine.NetworkChoice{Default: true, VpcID: "vpc", SubnetID: "sn", GatewayNetID: "gw", GatewayConfID: "10289"}},
		engine.DeleteDesktop{Desktop: r},
		engine.RebuildDesktop{Desktop: r, From: engine.Image{ID: "a"}, To: engine.Image{ID: "b"}},
		engine.RenameDesktop{Desktop: r, From: "old"},
		engine.PowerDesktops{Power: provider.PowerOff, Targets: []engine.Target{r}},
		engine.LabelDesktops{Label: "team-a", Targets: []engine.Target{r}},
		engine.BindAccounts{Account: engine.AccountRef{Email: "a@example.com"}, Targets: []engine.Target{{Name: "lab"}}},
		engine.ChangeAccount{Desktop: r, From: "a@example.com", Account: engine.AccountRef{Email: "b@example.com", ID: "acc-2"}},
		engine.UnbindAccounts{Targets: []engine.Target{r}},
		engine.UpdateOrder{Billing: engine.Billing{Cycle: provider.BillCycleMonthly, Months: 1}, Targets: []engine.Target{r}},
		engine.RenewOrder{Billing: engine.Billing{Cycle: provider.BillCycleMonthly, Months: 1}, Targets: []engine.Target{r}},
	}
}

// pfPlan is a plan that fills every field of the plan's types.
func pfPlan() *engine.Plan {
	p := &engine.Plan{FormatVersion: engine.FormatVersion, Fleet: "studio",
		CreatedAt:  time.Date(2026, 11, 26, 9, 0, 0, 123456789, time.UTC),
		SpecDigest: "sha256:abc", StateSerial: 42,
		Observed: map[string]string{"vm:9f3c-1": "0123456789abcdef", "account:a@example.com": "fedcba9876543210", "net:site-a": "00ff00ff00ff00ff"},
		Reads:    engine.Reads{Desktops: 14, Accounts: 3, Sites: 2, Calls: 41, Elapsed: 1200 * time.Millisecond},
		Changes: []engine.Change{{Object: engine.ObjectDesktop, Name: "render", ID: "9f3c-1", Action: engine.ActionDelete,
			Attribute: "delete", Before: "x", After: "y", Detail: "d", Reason: "removed from the spec", Guard: engine.GuardDelete,
			OutOfBand: true, Account: "a@example.com", Steps: []int{7}}},
		Errors:    []engine.Problem{{Object: engine.ObjectAccount, Name: "x", Pos: "fleet.yaml:3:5", Message: "m", Hint: "h"}},
		Warnings:  []engine.Problem{{Object: engine.ObjectNetwork, Name: "宿迁A", Message: "w"}},
		Guards:    []engine.GuardFinding{{Guard: engine.GuardMassDelete, Message: "too many"}},
		Unmanaged: []string{"legacy-ws-01"},
		Cost: &engine.Cost{Currency: "CNY", RunRateDelta: -11.209999998, Prepaid: 20184,
			Lines: []engine.CostLine{{What: "render x3, 1 month", Prepaid: 10092, Steps: []int{6}}, {What: "scratch-9 deleted", PerHour: -11.209999998, Steps: []int{7}}}},
	}
	for i, op := range pfAllOps() {
		s := engine.Step{ID: i + 1, Op: op, Reason: "because"}
		if i > 0 {
			s.After = []int{i}
		}
		if _, ok := op.(engine.DeleteDesktop); ok {
			s.Guard = engine.GuardDelete
		}
		p.Steps = append(p.Steps, s)
	}
	return p
}

func pfMode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// pfOnly asserts that dir holds exactly the named files (no temporary file left behind).
func pfOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if !reflect.DeepEqual(got, names) {
		t.Errorf("folder holds %q, want %q", got, names)
	}
}

func TestSavePlanRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "studio.plan")
	p := pfPlan()
	if err := engine.SavePlan(path, p); err != nil {
		t.Fatal(err)
	}
	if m := pfMode(t, path); m != engine.PlanFileMode {
		t.Errorf("plan file mode %v, want %v", m, engine.PlanFileMode)
	}
	first, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := engine.LoadPlan(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Errorf("loaded plan differs from the saved one:\n got %+v\nwant %+v", got, p)
	}
	// Saved again, the loaded plan gives the same bytes: nothing is lost or reordered.
	if err := engine.SavePlan(path, got); err != nil {
		t.Fatal(err)
	}
	second, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Errorf("a loaded plan saved again differs:\n%s\n----\n%s", first, second)
	}
	pfOnly(t, dir, "studio.plan")
}

func TestSavePlanPermissions(t *testing.T) {
	cases := []struct {
		name   string
		reason string
		before fs.FileMode // 0: no file before
	}{
		{"new file", "a new plan file is readable by its owner only", 0},
		{"world-readable file", "an existing file with looser permissions is replaced by a 0600 one", 0o666},
		{"read-only file", "a read-only file is replaced, not written into; the new one is 0600", 0o400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "p.json")
			if tc.before != 0 {
				if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tc.before); err != nil { // Chmod is not subject to the umask
					t.Fatal(err)
				}
			}
			if err := engine.SavePlan(path, pfPlan()); err != nil {
				t.Fatalf("%s: %v", tc.reason, err)
			}
			if m := pfMode(t, path); m != 0o600 {
				t.Errorf("%s: mode %v, want 0600", tc.reason, m)
			}
			if _, err := engine.LoadPlan(path); err != nil {
				t.Errorf("%s: %v", tc.reason, err)
			}
		})
	}
}

func TestSavePlanFailureLeavesOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.json")
	if err := engine.SavePlan(path, pfPlan()); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	cases := []struct {
		name   string
		reason string
		path   string
		plan   *engine.Plan
	}{
		{"unencodable", "a step without an op cannot be written: the old plan stays whole",
			path, &engine.Plan{Steps: []engine.Step{{ID: 1}}}},
		{"other version", "a plan of another format version is not written as this one", path,
			&engine.Plan{FormatVersion: engine.FormatVersion + 1}},
		{"nil plan", "no plan, no file", path, nil},
		{"rename fails", "the target is a folder: the temporary file is removed", dir, pfPlan()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := engine.SavePlan(tc.path, tc.plan); err == nil {
				t.Fatalf("%s: want an error", tc.reason)
			}
			after, _ := os.ReadFile(path)
			if !bytes.Equal(before, after) {
				t.Errorf("%s: the existing plan file changed", tc.reason)
			}
			pfOnly(t, dir, "p.json")
		})
	}
}

func TestSavePlanStampsVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.json")
	p := pfPlan()
	p.FormatVersion = 0
	if err := engine.SavePlan(path, p); err != nil {
		t.Fatal(err)
	}
	if p.FormatVersion != 0 {
		t.Error("SavePlan modified the plan")
	}
	got, err := engine.LoadPlan(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.FormatVersion != engine.FormatVersion {
		t.Errorf("format_version %d, want %d (a plan without a version is written as the current one)", got.FormatVersion, engine.FormatVersion)
	}
}

func TestLoadPlanRefuses(t *testing.T) {
	other := strconv.Itoa(engine.FormatVersion + 1)
	cases := []struct {
		name    string
		reason  string
		content string // "" with missing: no file
		missing bool
		want    string // in the error
	}{
		{"newer version", "a plan from a newer deskfleet is refused, naming the version this one reads",
			`{"format_version": ` + other + `, "fleet": "studio"}`, false,
			"format_version " + other + "; this deskfleet reads format_version " + strconv.Itoa(engine.FormatVersion)},
		{"no version", "a JSON file without format_version is not a plan", `{"fleet": "studio"}`, false, "not a deskfleet plan file"},
		{"not json", "garbage is not a plan", "fleet: studio\n", false, "not a deskfleet plan file"},
		{"trailing data", "a plan followed by more data was not written by SavePlan", `{"format_version": 1}{}`, false, "load plan"},
		{"unknown op", "a step of an op this deskfleet does not know is refused, not dropped",
			`{"format_version": 1, "steps": [{"id": 1, "op": "format_disk", "params": {}}]}`, false, "unknown op"},
		{"no file", "a missing file says so", "", true, "no such file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "p.json")
			if !tc.missing {
				if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			p, err := engine.LoadPlan(path)
			if err == nil || p != nil {
				t.Fatalf("%s: got plan %v, err %v", tc.reason, p, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: error %q does not contain %q", tc.reason, err, tc.want)
			}
			if tc.missing && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s: error %q does not wrap fs.ErrNotExist", tc.reason, err)
			}
		})
	}
}

// pfSecretFields lists the fields of a type (followed through pointers, slices, maps and nested
// structs) whose name or JSON key looks like a credential.
func pfSecretFields(root reflect.Type, path string) []string {
	secretish := regexp.MustCompile(`(?i)secret|passw|token|credential|signature|access.?key|api.?key|private.?key|nonce`)
	seen := map[reflect.Type]bool{}
	var out []string
	var walk func(ty reflect.Type, path string)
	walk = func(ty reflect.Type, path string) {
		for ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Slice || ty.Kind() == reflect.Array || ty.Kind() == reflect.Map {
			if ty.Kind() == reflect.Map {
				walk(ty.Key(), path+"[key]")
			}
			ty = ty.Elem()
		}
		if ty.Kind() != reflect.Struct || seen[ty] || ty.PkgPath() == "time" {
			return
		}
		seen[ty] = true
		for i := 0; i < ty.NumField(); i++ {
			f := ty.Field(i)
			if secretish.MatchString(f.Name + " " + f.Tag.Get("json")) {
				out = append(out, path+"."+f.Name+" (json "+strconv.Quote(f.Tag.Get("json"))+")")
			}
			walk(f.Type, path+"."+f.Name)
		}
	}
	walk(root, path)
	return out
}

// TestPlanHoldsNoSecret: no field of the plan's types (ops included) can hold a credential, so a
// saved plan cannot leak one.
func TestPlanHoldsNoSecret(t *testing.T) {
	// The check is not vacuous: it finds a credential nested in a slice of pointers.
	type cred struct {
		AccessKeyID string `json:"ak"`
	}
	type holder struct {
		Name  string
		Creds []*cred
	}
	if got := pfSecretFields(reflect.TypeOf(holder{}), "holder"); len(got) != 1 {
		t.Fatalf("the check found %q in a type with one credential field", got)
	}
	found := pfSecretFields(reflect.TypeOf(engine.Plan{}), "Plan")
	kinds := map[engine.OpKind]bool{}
	for _, op := range pfAllOps() {
		kinds[op.Kind()] = true
		found = append(found, pfSecretFields(reflect.TypeOf(op), "Step.Op("+string(op.Kind())+")")...)
	}
	for _, f := range found {
		t.Errorf("plan field %s looks like a secret", f)
	}
	if len(kinds) != 16 {
		t.Errorf("pfAllOps covers %d op kinds, want all 16 of ops.go", len(kinds))
	}
}

// pfPlanOf is a valid plan file whose "unmanaged" list is filled with n items of item, followed by pad
// spaces.
func pfPlanOf(field, item string, n, pad int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"format_version": ` + strconv.Itoa(engine.FormatVersion) + `, "fleet": "studio", "` + field + `": [`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(item)
	}
	b.WriteString("]}")
	b.Write(bytes.Repeat([]byte(" "), pad))
	return b.Bytes()
}

// TestLoadPlanLimits: a plan file is read and decoded only within MaxPlanFileSize bytes,
// MaxPlanObjects objects and MaxPlanValues values; over a limit, the error names the file and the
// limit, and a file at the limits loads.
func TestLoadPlanLimits(t *testing.T) {
	open := len(pfPlanOf("changes", "", 0, 0))
	cases := []struct {
		name    string
		reason  string
		content func() []byte
		want    string // in the error; "" when the plan loads
	}{
		{"size at the limit", "a plan padded to exactly MaxPlanFileSize bytes loads",
			func() []byte { return pfPlanOf("changes", "", 0, engine.MaxPlanFileSize-open) }, ""},
		{"size over the limit", "one byte more than MaxPlanFileSize is refused before it is decoded",
			func() []byte { return pfPlanOf("changes", "", 0, engine.MaxPlanFileSize-open+1) }, "larger than 16 MiB"},
		{"objects at the limit", "MaxPlanObjects objects load (the plan itself is one)",
			func() []byte { return pfPlanOf("changes", "{}", engine.MaxPlanObjects-1, 0) }, ""},
		{"objects over the limit", "empty objects decode to a hundred times their size: one more is refused",
			func() []byte { return pfPlanOf("changes", "{}", engine.MaxPlanObjects, 0) }, "more than 100000 JSON objects"},
		{"values over the limit", "empty strings decode to five times their size: more than MaxPlanValues values are refused",
			func() []byte { return pfPlanOf("unmanaged", `""`, engine.MaxPlanValues+1, 0) }, "more than 500000 JSON values"},
		{"brackets inside strings", "braces and commas inside a string are not counted",
			func() []byte {
				return pfPlanOf("unmanaged", `"`+strings.Repeat(`{[,\"`, engine.MaxPlanObjects+1)+`"`, 1, 0)
			}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "p.json")
			if err := os.WriteFile(path, tc.content(), 0o600); err != nil {
				t.Fatal(err)
			}
			p, err := engine.LoadPlan(path)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("%s: %v", tc.reason, err)
			case tc.want == "":
				if p.Fleet != "studio" {
					t.Errorf("%s: fleet %q", tc.reason, p.Fleet)
				}
			case err == nil:
				t.Fatalf("%s: the plan loaded", tc.reason)
			case !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path):
				t.Errorf("%s: error %q does not name the file and %q", tc.reason, err, tc.want)
			}
		})
	}
}

// TestPlanFileChecksum: a saved plan carries a checksum of its content; a file damaged or edited
// after it was saved, still valid JSON, loads marked Damaged (shown with a warning, never applied: see
// TestCLIApplyEditedPlan); a file without one (an older deskfleet's) loads as it is.
func TestPlanFileChecksum(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.json")
	p := &engine.Plan{Fleet: "studio", SpecDigest: "sha256:abc", StateSerial: 7, Observed: map[string]string{"vm:1": "f1"}}
	if err := engine.SavePlan(path, p); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte(`"checksum": "sha256:`)) {
		t.Fatalf("the saved plan has no checksum:\n%s", raw)
	}
	if p, err := engine.LoadPlan(path); err != nil || p.Damaged() {
		t.Fatalf("the plan as saved: %v (damaged %t)", err, p != nil && p.Damaged())
	}
	cases := []struct{ name, reason, from, to string }{
		{"serial", "a digit changed", `"state_serial": 7`, `"state_serial": 8`},
		{"fleet", "a name changed", `"fleet": "studio"`, `"fleet": "studia"`},
		{"checksum", "the checksum itself changed", `"checksum": "sha256:`, `"checksum": "sha256:0`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			edited := bytes.Replace(raw, []byte(tc.from), []byte(tc.to), 1)
			if bytes.Equal(edited, raw) {
				t.Fatalf("%s: the edit did not apply", tc.reason)
			}
			bad := filepath.Join(dir, tc.name+".json")
			if err := os.WriteFile(bad, edited, 0o600); err != nil {
				t.Fatal(err)
			}
			if p, err := engine.LoadPlan(bad); err != nil || !p.Damaged() {
				t.Errorf("%s: want the plan loaded and marked damaged (apply refuses it), got %v", tc.reason, err)
			}
		})
	}
	old := filepath.Join(dir, "old.json")
	noSum := regexp.MustCompile(`\s*"checksum": "[^"]*",?`).ReplaceAll(raw, nil)
	if err := os.WriteFile(old, noSum, 0o600); err != nil {
		t.Fatal(err)
	}
	if p, err := engine.LoadPlan(old); err != nil || p.Damaged() {
		t.Errorf("a plan saved without a checksum (an older deskfleet's) must load: %v", err)
	}
}

package spec

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestSeveralErrorsAreAllReported(t *testing.T) {
	src := `version: 1
fleet: t
defaults: {site: 宿迁A, billing: monthy}
billing:
  monthly: {cycle: month, months: 0, renewWithin: soon}
accounts:
  - {email: bob, name: bob, remark: "0123456789012345678901234567890"}
desktops:
  - {name: a, product: x, image: y, power: maybe, lable: z}
  - {name: b, product: x, image: y, count: 2, renamedFrom: old}
bindings:
  c: bob@example.com
`
	want := []string{
		`f.yaml:3:32: unknown billing plan "monthy"; did you mean "monthly"?; billing plans: monthly`,
		`f.yaml:5:35: months must be at least 1, got 0`,
		`f.yaml:5:51: bad duration "soon" for renewWithin: not a duration; use a Go duration like 168h or days like 7d`,
		`f.yaml:7:13: malformed email "bob"; want name@domain`,
		`f.yaml:7:37: remark is 31 characters; the API allows at most 30`,
		`f.yaml:9:44: unknown power "maybe"; use on or off`,
		`f.yaml:9:51: unknown key "lable" in desktop group; did you mean "label"?`,
		`f.yaml:10:60: renamedFrom needs count 1, but count is 2 · hint: rename a group of one desktop at a time`,
		`f.yaml:12:3: binding for undeclared desktop "c" · hint: bind only desktops made by a group under desktops`,
		`f.yaml:12:6: binding to undeclared account "bob@example.com" · hint: declare it under accounts`,
	}
	_, ds := Parse("f.yaml", []byte(src))
	if got := errorsOf(ds); !reflect.DeepEqual(got, want) {
		t.Errorf("want every error, in file order\ngot:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestResolve(t *testing.T) {
	src := `version: 1
fleet: studio
defaults:
  site: 宿迁A
  network: {vpc: office, subnet: 子网1}
  bandwidth: 8
  billing: monthly
  profile: win
billing:
  monthly: {cycle: month, months: 3, autoRenew: true, renewWithin: 7d}
profiles:
  win: {product: {gpu: NVIDIA A5000, os: windows}, image: Windows10-公共镜像-图像处理型}
accounts:
  - {email: alice@example.com, name: alice}
desktops:
  - name: render
    count: 3
    label: ""
    power: off
  - name: edit
    site: 襄阳A
    network: {gateway: 移动}
    bandwidth: 20
    product: e0997510
    protect: true
    renamedFrom: edit-old
bindings:
  render_001: alice@example.com
`
	fl, ds := Parse("f.yaml", []byte(src))
	if ds.HasErrors() || len(ds) != 0 {
		t.Fatalf("want no diagnostics, got %v", ds)
	}
	var names []string
	for _, d := range fl.Desktops {
		names = append(names, d.Name)
	}
	if want := []string{"render", "render_001", "render_002", "edit"}; !reflect.DeepEqual(names, want) {
		t.Errorf("count expansion: got %v, want %v", names, want)
	}
	r2, edit := fl.Desktops[2], fl.Desktops[3]
	checks := []struct {
		reason    string
		got, want any
	}{
		{"site from defaults", r2.Site, "宿迁A"},
		{"site from the group", edit.Site, "襄阳A"},
		{"network from defaults, as a whole", r2.Network.VPC + "/" + r2.Network.Subnet, "office/子网1"},
		{"a group's network replaces the defaults' and the VPC defaults to default", edit.Network.VPC + "/" + edit.Network.Subnet + "/" + edit.Network.Gateway, "default//移动"},
		{"bandwidth from defaults", r2.Bandwidth, 8},
		{"bandwidth from the group", edit.Bandwidth, 20},
		{"billing plan from defaults", r2.Billing.Name + " " + string(r2.Billing.Cycle), "monthly month"},
		{"months", r2.Billing.MonthsOrDefault(), 3},
		{"renewWithin in days", r2.Billing.RenewWithinDuration, 7 * 24 * time.Hour},
		{"product from the profile", r2.Product.String(), "gpu=NVIDIA A5000 os=windows"},
		{"product id from the group overrides the profile's", edit.Product.ID, "e0997510"},
		{"image from the profile", edit.Image, "Windows10-公共镜像-图像处理型"},
		{"label set to empty is enforced (non-nil)", r2.Label != nil && *r2.Label == "", true},
		{"label omitted is unmanaged (nil)", edit.Label == nil, true},
		{"power off", r2.Power != nil && *r2.Power == PowerOff, true},
		{"power omitted is unmanaged (nil)", edit.Power == nil, true},
		{"protect", edit.Protect, true},
		{"renamedFrom", edit.RenamedFrom, "edit-old"},
		{"group index", r2.Group + "#" + string(rune('0'+r2.Index)), "render#2"},
		{"site position comes from defaults", r2.PosOf("site").String(), "f.yaml:4:9"},
		{"site position comes from the group", edit.PosOf("site").String(), "f.yaml:21:11"},
		{"product position comes from the profile", r2.PosOf("product").String(), "f.yaml:12:18"},
		{"name position", r2.NamePos.String(), "f.yaml:16:11"},
		{"bindings are set", fl.Bindings.Set, true},
		{"binding", fl.Bindings.ByDesktop["render_001"], "alice@example.com"},
		{"fleet name", fl.Name, "studio"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.reason, c.got, c.want)
		}
	}
}

func TestBuiltInDefaultsAndUnmanagedBindings(t *testing.T) {
	fl, ds := Parse("f.yaml", []byte("version: 1\nfleet: t\ndesktops: [{name: a, site: s, product: p, image: i}]\n"))
	if len(ds) != 0 {
		t.Fatalf("want no diagnostics, got %v", ds)
	}
	d := fl.Desktops[0]
	if d.Bandwidth != DefaultBandwidth || d.Network.VPC != DefaultVPC || d.Billing.Cycle != CycleMinute || d.Billing.Name != "" {
		t.Errorf("built-in defaults: got bandwidth %d, vpc %q, billing %q/%q", d.Bandwidth, d.Network.VPC, d.Billing.Name, d.Billing.Cycle)
	}
	if fl.Bindings.Set {
		t.Error("no bindings key: bindings must be unmanaged (Set false)")
	}
}

func TestWarnings(t *testing.T) {
	src := head + `billing:
  spare: {cycle: minute, months: 2}
  monthly: {cycle: month, fullMonthPrice: true}
desktops: [{name: a, billing: monthly}]
bindings: {}
`
	_, ds := Parse("f.yaml", []byte(src))
	var got []string
	for _, d := range ds {
		got = append(got, d.String())
	}
	want := []string{
		`f.yaml:6:3: warning: billing plan "spare" is not used by any desktop`,
		`f.yaml:6:34: warning: months has no effect on the per-minute plan "spare" · hint: remove it, or use cycle: month`,
		`f.yaml:7:43: warning: fullMonthPrice has no effect without toMonthEnd in plan "monthly" · hint: set toMonthEnd: true, or remove fullMonthPrice`,
		`f.yaml:9:11: warning: bindings is empty: every desktop of the fleet will be unbound · hint: remove the bindings key to leave bindings unmanaged`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if ds.HasErrors() {
		t.Error("warnings must not make the spec invalid")
	}
}

func TestLoadFolderAndFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", head+"desktops: [{name: a}]\n")
	write("b.yml", "version: 1\nfleet: t\naccounts: [{email: a@example.com, name: a}]\n---\nversion: 1\nfleet: t\nbindings: {a: a@example.com}\n")
	write("notes.txt", "not yaml: [")
	write("sub/c.yaml", "this: is not read")
	fl, ds := Load(dir)
	if ds.HasErrors() {
		t.Fatalf("want a valid fleet from the folder, got %v", ds)
	}
	if len(fl.Files) != 2 || len(fl.Desktops) != 1 || len(fl.Accounts) != 1 || fl.Bindings.ByDesktop["a"] != "a@example.com" {
		t.Errorf("merge of a folder: files %v, desktops %d, accounts %d, bindings %v", fl.Files, len(fl.Desktops), len(fl.Accounts), fl.Bindings.ByDesktop)
	}
	_, ds = Load(filepath.Join(dir, "missing.yaml"))
	if !ds.HasErrors() || !strings.Contains(ds[0].String(), "missing.yaml: cannot read: no such file or directory") {
		t.Errorf("a missing file: got %v", ds)
	}
	empty := t.TempDir()
	_, ds = Load(empty)
	if !ds.HasErrors() || !strings.HasSuffix(ds[0].Message, "no *.yaml or *.yml files in this folder") {
		t.Errorf("an empty folder: got %v", ds)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		reason string
		in     string
		want   time.Duration
		err    bool
	}{
		{"Go hours", "168h", 168 * time.Hour, false},
		{"Go mixed", "1h30m", 90 * time.Minute, false},
		{"days", "7d", 7 * 24 * time.Hour, false},
		{"days with a unit after", "7d1h", 0, true},
		{"no unit", "7", 0, true},
		{"negative", "-1h", 0, true},
		{"empty", "", 0, true},
		{"too many days", "99999999999d", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("%s: ParseDuration(%q) = %v, %v; want %v, error %v", tt.reason, tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestProductUnmarshalYAML(t *testing.T) {
	tests := []struct {
		reason string
		in     string
		want   string
		err    string
	}{
		{"a productId string", "p: e0997510", "e0997510", ""},
		{"a selector", "p: {gpu: NVIDIA A5000, gpuRam: 24, os: windows}", "gpu=NVIDIA A5000 gpuRam=24 os=windows", ""},
		{"an unknown selector key", "p: {gpus: 2}", "", `line 1, column 5: unknown key "gpus" in product selector; did you mean "gpu"?`},
		{"a number", "p: 12", "", "line 1, column 4: product must be a productId string or a selector like {gpu: NVIDIA A5000, os: windows}, got the integer 12"},
	}
	for _, tt := range tests {
		var v struct{ P Product }
		err := yaml.Unmarshal([]byte(tt.in), &v)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: got error %v, want %q", tt.reason, err, tt.err)
			}
			continue
		}
		if err != nil || v.P.String() != tt.want {
			t.Errorf("%s: got %q, %v; want %q", tt.reason, v.P.String(), err, tt.want)
		}
	}
}

func TestDesktopName(t *testing.T) {
	for i, want := range []string{"render", "render_001", "render_002", "render_003"} {
		if got := DesktopName("render", i); got != want {
			t.Errorf("DesktopName(render, %d) = %q, want %q", i, got, want)
		}
	}
	if got := DesktopName("r", 999); got != "r_999" {
		t.Errorf("the last name of a full group: got %q", got)
	}
}

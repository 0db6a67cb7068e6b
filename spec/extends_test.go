package spec

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// baseSpec is a whole fleet, the base the cases below extend as base/fleet.yaml.
const baseSpec = `version: 1
fleet: course
defaults: {site: 宿迁A, profile: win, bandwidth: 5}
billing:
  monthly: {cycle: month, months: 1, autoRenew: true, renewWithin: 7d}
profiles:
  win: {product: {gpu: NVIDIA A5000, os: windows}, image: img}
accounts:
  - {email: teacher@example.com, name: teacher, remark: course}
desktops:
  - {name: lab, count: 2, label: course, power: "off", network: {vpc: v1, subnet: s1}}
  - {name: teacher, billing: monthly}
bindings:
  teacher: teacher@example.com
`

// writeTree writes files (path -> contents, slash-separated paths) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, s := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func desktopNamed(fl *Fleet, name string) (Desktop, bool) {
	for _, d := range fl.Desktops {
		if d.Name == name {
			return d, true
		}
	}
	return Desktop{}, false
}

// TestExtendsMerge: the override rule of a spec over its base, and the positions that follow the value
// that won. Paths are relative to the test's folder, as a user's are.
func TestExtendsMerge(t *testing.T) {
	tests := []struct {
		reason  string
		overlay string   // env/fleet.yaml; extends ../base/fleet.yaml is added after fleet
		files   []string // loaded; default env/fleet.yaml
		check   func(t *testing.T, fl *Fleet)
	}{
		{
			reason:  "a defaults key set by the overlay replaces the base's, at the overlay's position; the others stay the base's",
			overlay: "defaults: {bandwidth: 2}\n",
			check: func(t *testing.T, fl *Fleet) {
				d, _ := desktopNamed(fl, "lab")
				wantDesktop(t, d, "bandwidth", "2", "env/fleet.yaml:4:23")
				wantDesktop(t, d, "site", "宿迁A", "base/fleet.yaml:3:18")
			},
		},
		{
			reason:  "a desktop group of the base's name overrides it field by field: count from the overlay, label and power from the base",
			overlay: "desktops:\n  - {name: lab, count: 3}\n",
			check: func(t *testing.T, fl *Fleet) {
				if n := len(fl.Desktops); n != 4 {
					t.Errorf("%d desktops, want 4 (lab x3, teacher)", n)
				}
				d, _ := desktopNamed(fl, "lab_002")
				if p := d.PosOf("count").String(); p != "env/fleet.yaml:5:24" {
					t.Errorf("count at %s, want env/fleet.yaml:5:24", p)
				}
				wantDesktop(t, d, "label", "course", "base/fleet.yaml:11:34")
				if d.Power == nil || *d.Power != PowerOff || d.PosOf("power").String() != "base/fleet.yaml:11:49" {
					t.Errorf("power %v at %s, want off at base/fleet.yaml:11:49", d.Power, d.PosOf("power"))
				}
			},
		},
		{
			reason:  "a group the base lacks is added after the base's groups",
			overlay: "desktops:\n  - {name: extra}\n",
			check: func(t *testing.T, fl *Fleet) {
				var names []string
				for _, g := range fl.Groups {
					names = append(names, g.Name)
				}
				if !slices.Equal(names, []string{"lab", "teacher", "extra"}) {
					t.Errorf("groups %v, want lab, teacher, extra", names)
				}
			},
		},
		{
			reason:  "a network mapping is replaced whole: the base's subnet does not follow into the overlay's VPC",
			overlay: "desktops:\n  - {name: lab, network: {vpc: v2}}\n",
			check: func(t *testing.T, fl *Fleet) {
				d, _ := desktopNamed(fl, "lab")
				if d.Network.VPC != "v2" || d.Network.Subnet != "" {
					t.Errorf("network %+v, want vpc v2 and no subnet", d.Network)
				}
			},
		},
		{
			reason:  "a billing plan of the base's name overrides it field by field; the parsed duration follows",
			overlay: "billing:\n  monthly: {cycle: month, months: 3, renewWithin: 48h}\n",
			check: func(t *testing.T, fl *Fleet) {
				b := fl.Billing["monthly"]
				if b.MonthsOrDefault() != 3 || !b.AutoRenew || b.RenewWithinDuration.Hours() != 48 {
					t.Errorf("plan %+v, want months 3, autoRenew from the base, renewWithin 48h", b)
				}
				if p := b.At["months"].String(); p != "env/fleet.yaml:5:35" {
					t.Errorf("months at %s, want env/fleet.yaml:5:35", p)
				}
			},
		},
		{
			reason:  "an account of the base's email, in any case, overrides it field by field",
			overlay: "accounts:\n  - {email: Teacher@example.com, name: t2}\n",
			check: func(t *testing.T, fl *Fleet) {
				if len(fl.Accounts) != 1 || fl.Accounts[0].Name != "t2" || fl.Accounts[0].Remark == nil || *fl.Accounts[0].Remark != "course" {
					t.Errorf("accounts %+v, want one: t2 with the base's remark", fl.Accounts)
				}
			},
		},
		{
			reason:  "bindings merge desktop by desktop",
			overlay: "accounts:\n  - {email: s@example.com, name: s}\nbindings:\n  lab: s@example.com\n",
			check: func(t *testing.T, fl *Fleet) {
				if len(fl.Bindings.ByDesktop) != 2 || fl.Bindings.ByDesktop["teacher"] != "teacher@example.com" {
					t.Errorf("bindings %v, want the base's and the overlay's", fl.Bindings.ByDesktop)
				}
			},
		},
		{
			reason:  "removed entries are gone; a group removed and declared again is replaced whole",
			overlay: "remove:\n  desktops: [lab, teacher]\n  bindings: [teacher]\n  billing: [monthly]\n  defaults: [bandwidth]\ndesktops:\n  - {name: lab}\n",
			check: func(t *testing.T, fl *Fleet) {
				if len(fl.Desktops) != 1 || fl.Desktops[0].Label != nil || fl.Desktops[0].Bandwidth != DefaultBandwidth {
					t.Errorf("desktops %+v, want one lab with no label and the built-in bandwidth", fl.Desktops)
				}
				if len(fl.Billing) != 0 || len(fl.Bindings.ByDesktop) != 0 || !fl.Bindings.Set {
					t.Errorf("billing %v, bindings %+v: want none left, still managed", fl.Billing, fl.Bindings)
				}
			},
		},
		{
			reason:  "the overlay names its own fleet; Files list the base first",
			overlay: "",
			check: func(t *testing.T, fl *Fleet) {
				if fl.Name != "env" || fl.Pos.String() != "env/fleet.yaml:2:8" {
					t.Errorf("fleet %q at %s, want env at env/fleet.yaml:2:8", fl.Name, fl.Pos)
				}
				if !slices.Equal(fl.Files, []string{"base/fleet.yaml", "env/fleet.yaml"}) {
					t.Errorf("files %v, want base/fleet.yaml, env/fleet.yaml", fl.Files)
				}
			},
		},
		{
			reason:  "a base named with -f too is read as a base only, in either order",
			overlay: "defaults: {bandwidth: 2}\n",
			files:   []string{"env/fleet.yaml", "base/fleet.yaml"},
			check: func(t *testing.T, fl *Fleet) {
				if fl.Name != "env" || !slices.Equal(fl.Files, []string{"base/fleet.yaml", "env/fleet.yaml"}) {
					t.Errorf("fleet %q from %v, want env from base/fleet.yaml, env/fleet.yaml", fl.Name, fl.Files)
				}
			},
		},
		{
			reason:  "a base may extend a base: three layers, the top one winning",
			overlay: "defaults: {bandwidth: 3}\n",
			files:   []string{"top.yaml"},
			check: func(t *testing.T, fl *Fleet) {
				d, _ := desktopNamed(fl, "lab")
				wantDesktop(t, d, "bandwidth", "7", "top.yaml:4:23")
				if !slices.Equal(fl.Files, []string{"base/fleet.yaml", "env/fleet.yaml", "top.yaml"}) {
					t.Errorf("files %v, want the deepest base first", fl.Files)
				}
			},
		},
		{
			reason:  "extends may name a folder: its *.yaml files are the base",
			overlay: "defaults: {bandwidth: 2}\n",
			files:   []string{"folder.yaml"},
			check: func(t *testing.T, fl *Fleet) {
				if fl.Name != "folder" || len(fl.Desktops) != 3 {
					t.Errorf("fleet %q with %d desktops, want folder with 3", fl.Name, len(fl.Desktops))
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.reason, func(t *testing.T) {
			t.Chdir(t.TempDir())
			writeTree(t, ".", map[string]string{
				"base/fleet.yaml": baseSpec,
				"env/fleet.yaml":  "version: 1\nfleet: env\nextends: ../base/fleet.yaml\n" + tc.overlay,
				"top.yaml":        "version: 1\nfleet: top\nextends: env/fleet.yaml\ndefaults: {bandwidth: 7}\n",
				"folder.yaml":     "version: 1\nfleet: folder\nextends: base\n",
			})
			files := tc.files
			if files == nil {
				files = []string{"env/fleet.yaml"}
			}
			fl, ds := Load(files...)
			if ds.HasErrors() {
				t.Fatalf("%s: unexpected errors:\n%s", tc.reason, strings.Join(errorsOf(ds), "\n"))
			}
			tc.check(t, fl)
			// Fleet.Files loads again into the same fleet: what a saved plan records and applies.
			again, ds := Load(fl.Files...)
			if ds.HasErrors() || again.Digest != fl.Digest || again.Name != fl.Name || len(again.Desktops) != len(fl.Desktops) {
				t.Errorf("loading Files %v again: fleet %q, %d desktops, digest changed %v, errors %v",
					fl.Files, again.Name, len(again.Desktops), again.Digest != fl.Digest, errorsOf(ds))
			}
		})
	}
}

// wantDesktop checks one field of a desktop: its value as text and the position it came from.
func wantDesktop(t *testing.T, d Desktop, field, value, pos string) {
	t.Helper()
	var got string
	switch field {
	case "bandwidth":
		got = strconv.Itoa(d.Bandwidth)
	case "site":
		got = d.Site
	case "label":
		if d.Label != nil {
			got = *d.Label
		}
	}
	if got != value || d.PosOf(field).String() != pos {
		t.Errorf("%s of %s: %q at %s, want %q at %s", field, d.Name, got, d.PosOf(field), value, pos)
	}
}

// TestExtendsErrors: what cannot be followed or merged is an error at the value that causes it, in
// the overlay or in the base, and nothing is merged from a base that is not read.
func TestExtendsErrors(t *testing.T) {
	tests := []struct {
		reason string
		files  map[string]string // besides base/fleet.yaml (baseSpec)
		load   []string          // default env/fleet.yaml
		want   []string          // prefixes of the errors' String, each matching one error, all errors matched
	}{
		{
			reason: "a missing base is an error at the extends value, relative to the file's folder",
			files:  map[string]string{"env/fleet.yaml": "version: 1\nfleet: env\nextends: ../nope.yaml\n"},
			want:   []string{`env/fleet.yaml:3:10: extends "../nope.yaml": cannot read nope.yaml:`},
		},
		{
			reason: "a base that is not a YAML file is not a spec",
			files:  map[string]string{"env/fleet.yaml": "version: 1\nfleet: env\nextends: ../README.md\n", "README.md": "# hi\n"},
			want:   []string{`env/fleet.yaml:3:10: extends "../README.md": README.md is not a fleet spec: a spec file's name ends in .yaml or .yml`},
		},
		{
			reason: "a YAML base that is not a fleet spec (a CI workflow) is said so at the extends value, not as unknown keys in it",
			files:  map[string]string{"env/fleet.yaml": "version: 1\nfleet: env\nextends: ../ci.yml\n", "ci.yml": "jobs: {plan: {runs-on: ubuntu}}\n"},
			want:   []string{`env/fleet.yaml:3:10: extends "../ci.yml": ci.yml is not a fleet spec: the document at ci.yml:1:1 has no version key`},
		},
		{
			reason: "a file that extends itself is a cycle",
			files:  map[string]string{"env/fleet.yaml": "version: 1\nfleet: env\nextends: fleet.yaml\n"},
			want:   []string{`env/fleet.yaml:3:10: extends "fleet.yaml": makes a cycle: env/fleet.yaml → env/fleet.yaml`},
		},
		{
			reason: "a cycle through a base is reported at the extends that closes it, naming the chain",
			files: map[string]string{"env/fleet.yaml": "version: 1\nfleet: env\nextends: ../mid.yaml\n",
				"mid.yaml": "version: 1\nfleet: mid\nextends: env/fleet.yaml\n"},
			want: []string{`mid.yaml:3:10: extends "env/fleet.yaml": makes a cycle: env/fleet.yaml → mid.yaml → env/fleet.yaml`},
		},
		{
			reason: "one base per spec: a list is a type error with the hint",
			files:  map[string]string{"env/fleet.yaml": "version: 1\nfleet: env\nextends: [../base/fleet.yaml, ../other.yaml]\n"},
			want:   []string{`env/fleet.yaml:3:10: extends must be a string, got a list · hint: a spec has one base`},
		},
		{
			reason: "one base per spec: extends in two files of one spec is set twice",
			files: map[string]string{"env/fleet.yaml": "version: 1\nfleet: env\nextends: ../base/fleet.yaml\n",
				"env/more.yaml": "version: 1\nfleet: env\nextends: ../base/fleet.yaml\n"},
			load: []string{"env"},
			want: []string{`env/more.yaml:3:10: extends is set twice (first at env/fleet.yaml:3:10)`},
		},
		{
			reason: "removing what the base does not have is an error at the name, with the closest name",
			files:  map[string]string{"env/fleet.yaml": "version: 1\nfleet: env\nextends: ../base/fleet.yaml\nremove:\n  desktops: [labs]\n  accounts: [nobody@example.com]\n"},
			want: []string{
				`env/fleet.yaml:5:14: cannot remove desktop group "labs": the base (base/fleet.yaml) has none; did you mean "lab"?`,
				`env/fleet.yaml:6:14: cannot remove account "nobody@example.com": the base (base/fleet.yaml) has none`,
			},
		},
		{
			reason: "remove without extends is an error",
			files:  map[string]string{"env/fleet.yaml": "version: 1\nfleet: env\nremove: {profiles: [win]}\n"},
			want:   []string{`env/fleet.yaml:3:21: cannot remove profile "win": this spec extends no base`},
		},
		{
			reason: "an unknown name set in the overlay is reported in the overlay",
			files:  map[string]string{"env/fleet.yaml": "version: 1\nfleet: env\nextends: ../base/fleet.yaml\ndefaults: {profile: winn}\n"},
			want:   []string{`env/fleet.yaml:4:21: unknown profile "winn"; did you mean "win"?`},
		},
		{
			reason: "a reference kept from the base that the overlay broke is reported in the base, where it was written",
			files:  map[string]string{"env/fleet.yaml": "version: 1\nfleet: env\nextends: ../base/fleet.yaml\nremove: {billing: [monthly]}\n"},
			want:   []string{`base/fleet.yaml:12:30: unknown billing plan "monthly"; no billing plans are declared`},
		},
		{
			reason: "renamedFrom needs count 1 in what the files make together",
			files:  map[string]string{"env/fleet.yaml": "version: 1\nfleet: env\nextends: ../base/fleet.yaml\ndesktops:\n  - {name: lab, renamedFrom: old}\n"},
			want:   []string{`env/fleet.yaml:5:30: renamedFrom renames one desktop: desktop group "lab" has count 2 (at base/fleet.yaml:11:24)`},
		},
		{
			reason: "a chain of bases is at most 31 long: the 32nd extends is an error, where it is written",
			files:  chainOfBases(33),
			want:   []string{`b31.yaml:3:10: extends "b32.yaml": more than 31 bases deep`},
		},
		{
			reason: "without extends, two files setting one key stay an error, as before",
			files: map[string]string{"env/fleet.yaml": "version: 1\nfleet: env\ndefaults: {site: a}\ndesktops: []\n",
				"env/more.yaml": "version: 1\nfleet: env\ndefaults: {site: b}\n"},
			load: []string{"env"},
			want: []string{`env/more.yaml:3:18: defaults.site is set twice (first at env/fleet.yaml:3:18)`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.reason, func(t *testing.T) {
			t.Chdir(t.TempDir())
			tc.files["base/fleet.yaml"] = baseSpec
			writeTree(t, ".", tc.files)
			load := tc.load
			if load == nil {
				load = []string{"env/fleet.yaml"}
			}
			fl, ds := Load(load...)
			if fl == nil {
				t.Fatal("nil fleet")
			}
			got := errorsOf(ds)
			for _, w := range tc.want {
				if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, w) }) {
					t.Errorf("%s\nwant an error starting %s\ngot:\n%s", tc.reason, w, strings.Join(got, "\n"))
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("%s: %d errors, want %d:\n%s", tc.reason, len(got), len(tc.want), strings.Join(got, "\n"))
			}
		})
	}
}

// chainOfBases returns env/fleet.yaml extending b1.yaml, b1.yaml extending b2.yaml, and so on: n
// files in all, the last extending nothing.
func chainOfBases(n int) map[string]string {
	files := map[string]string{"env/fleet.yaml": "version: 1\nfleet: env\nextends: ../b1.yaml\n"}
	for i := 1; i < n; i++ {
		s := "version: 1\nfleet: env\n"
		if i < n-1 {
			s += "extends: b" + strconv.Itoa(i+1) + ".yaml\n"
		}
		files["b"+strconv.Itoa(i)+".yaml"] = s
	}
	return files
}

// TestExtendsDigest: the digest covers the base: a change in the base changes the overlay's digest.
func TestExtendsDigest(t *testing.T) {
	t.Chdir(t.TempDir())
	writeTree(t, ".", map[string]string{"base/fleet.yaml": baseSpec,
		"env/fleet.yaml": "version: 1\nfleet: env\nextends: ../base/fleet.yaml\n"})
	before, ds := Load("env")
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	writeTree(t, ".", map[string]string{"base/fleet.yaml": strings.Replace(baseSpec, "bandwidth: 5", "bandwidth: 6", 1)})
	after, ds := Load("env")
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	if before.Digest == after.Digest {
		t.Error("a change in the base does not change the digest")
	}
}

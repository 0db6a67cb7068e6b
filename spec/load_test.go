package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// head is a valid prefix for the table cases: four lines, so a case's own text starts on line 5.
const head = `version: 1
fleet: t
defaults: {site: 宿迁A, profile: a5000-win}
profiles: {a5000-win: {product: {gpu: NVIDIA A5000}, image: img}}
`

// errorsOf returns the String of every Error diagnostic.
func errorsOf(ds Diagnostics) []string {
	var out []string
	for _, d := range ds {
		if d.Severity == Error {
			out = append(out, d.String())
		}
	}
	return out
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		reason string
		yaml   string // appended to head unless full is set
		full   bool
		want   []string
	}{
		{
			reason: "an unknown key is an error at the key, with the closest known key",
			yaml:   "desktops:\n  - name: a\n    lable: x\n",
			want:   []string{`f.yaml:7:5: unknown key "lable" in desktop group; did you mean "label"?`},
		},
		{
			reason: "a budget of zero is an error at the amount: a budget is greater than 0",
			yaml:   "desktops:\n  - name: a\nbudget:\n  monthly: 0\n",
			want:   []string{`f.yaml:8:12: monthly must be greater than 0, got 0 · hint: a budget is an amount greater than 0; leave it out for none`},
		},
		{
			reason: "a renewal policy on a per-minute plan is an error at the key: nothing can be renewed",
			yaml:   "billing:\n  pm: {cycle: minute, autoRenew: true}\ndesktops:\n  - {name: a, billing: pm}\n",
			want: []string{`f.yaml:6:34: autoRenew is a renewal policy, and the per-minute plan "pm" has no term to renew · ` +
				`hint: use cycle: month for desktops with a term to renew, or remove autoRenew`},
		},
		{
			reason: "letExpireOn is a renewal policy too",
			yaml:   "billing:\n  pm: {cycle: minute, letExpireOn: 2027-06-30}\ndesktops:\n  - {name: a, billing: pm}\n",
			want: []string{`f.yaml:6:36: letExpireOn is a renewal policy, and the per-minute plan "pm" has no term to renew · ` +
				`hint: use cycle: month for desktops with a term to renew, or remove letExpireOn`},
		},
		{
			reason: "a negative group budget is an error at its amount",
			yaml:   "desktops:\n  - name: a\nbudget:\n  groups: {a: -5}\n",
			want:   []string{`f.yaml:8:15: the budget of group "a" must be greater than 0, got -5 · hint: a budget is an amount greater than 0; leave it out for none`},
		},
		{
			reason: "an empty budget states nothing: an error with the keys it takes",
			yaml:   "desktops:\n  - name: a\nbudget: {}\n",
			want:   []string{`f.yaml:7:9: empty budget; set at least one of monthly, groups, labels`},
		},
		{
			reason: "a budget for a group the spec does not have watches nothing: an error with the closest name",
			yaml:   "desktops:\n  - name: render\nbudget:\n  monthly: 1000.5\n  groups: {rendr: 100}\n",
			want:   []string{`f.yaml:9:11: budget: unknown desktop group "rendr"; did you mean "render"?; desktop groups: render`},
		},
		{
			reason: "a schedule and a power on one group is an error at the schedule",
			yaml:   "desktops:\n  - {name: a, power: \"on\", schedule: {hours: always}}\n",
			want:   []string{`f.yaml:6:38: desktop group "a" sets both power and schedule · hint: remove one: power enforces one state at all times, schedule one that changes with the hours`},
		},
		{
			reason: "an impossible time in a schedule is an error at the hours",
			yaml:   "desktops:\n  - {name: a, schedule: {hours: \"Mon-Fri 08:30-24:30\"}}\n",
			want:   []string{`f.yaml:6:33: schedule: "24:30" is not a time of day · hint: hours go from 00 to 24 (24:00 only as an end), minutes from 00 to 59`},
		},
		{
			reason: "an override of a desktop the spec does not have is an error with the closest name",
			yaml:   "desktops:\n  - {name: cad, count: 2}\noverrides:\n  - {desktops: [cad_01], power: \"on\", until: \"2027-01-04 22:00\"}\n",
			want:   []string{`f.yaml:8:16: override: unknown desktop "cad_01"; did you mean "cad_001"?; desktops: cad, cad_001`},
		},
		{
			reason: "an override until an impossible time is an error at until",
			yaml:   "desktops:\n  - {name: cad}\noverrides:\n  - {desktops: [cad], power: \"on\", until: \"2027-02-30 22:00\"}\n",
			want:   []string{`f.yaml:8:43: override: "2027-02-30 22:00" is not a time: write 2027-01-04T08:00:00+08:00, or 2027-01-04 08:00`},
		},
		{
			reason: "an unknown key with no near match lists the keys",
			yaml:   "colour: red\n",
			want:   []string{`f.yaml:5:1: unknown key "colour" in the spec; keys: version, fleet, extends, remove, defaults, billing, profiles, accounts, desktops, budget, overrides, bindings`},
		},
		{
			reason: "count expansion makes a name that another group has: both places are named",
			yaml:   "desktops:\n  - name: render\n    count: 3\n  - name: render_001\n",
			want:   []string{`f.yaml:8:11: duplicate desktop name "render_001": also made by group "render" (count 3) at f.yaml:6:11 · hint: give each desktop group a distinct name`},
		},
		{
			reason: "account emails are unique, compared without case",
			yaml:   "accounts:\n  - {email: a@example.com, name: a}\n  - {email: A@example.com, name: b}\n",
			want:   []string{`f.yaml:7:13: duplicate account email "A@example.com" (first at f.yaml:6:13) · hint: an account is identified by its email: merge the two entries`},
		},
		{
			reason: "a malformed email is an error at the value",
			yaml:   "accounts:\n  - {email: alice@, name: a}\n",
			want:   []string{`f.yaml:6:13: malformed email "alice@"; want name@domain`},
		},
		{
			reason: "a remark over 30 characters (counted as characters, not bytes)",
			yaml:   "accounts:\n  - email: a@example.com\n    name: a\n    remark: 一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一\n",
			want:   []string{`f.yaml:8:13: remark is 31 characters; the API allows at most 30`},
		},
		{
			reason: "an unknown profile suggests the closest and lists the declared ones",
			yaml:   "desktops:\n  - {name: a, profile: a5000}\n",
			want:   []string{`f.yaml:6:24: unknown profile "a5000"; did you mean "a5000-win"?; profiles: a5000-win`},
		},
		{
			reason: "an unknown billing plan suggests the closest and lists the declared ones",
			yaml:   "billing: {monthly: {cycle: month}, on-demand: {cycle: minute}}\ndesktops:\n  - {name: a, billing: monthy}\n",
			want:   []string{`f.yaml:7:24: unknown billing plan "monthy"; did you mean "monthly"?; billing plans: monthly, on-demand`},
		},
		{
			reason: "an unknown billing plan in defaults is reported once, at defaults",
			full:   true,
			yaml:   "version: 1\nfleet: t\ndefaults: {site: s, billing: gold, profile: p}\nprofiles: {p: {product: x, image: y}}\ndesktops: [{name: a}, {name: b}]\n",
			want:   []string{`f.yaml:3:30: unknown billing plan "gold"; no billing plans are declared`},
		},
		{
			reason: "a binding names a desktop that no group makes",
			yaml:   "accounts: [{email: a@example.com, name: a}]\ndesktops: [{name: render, count: 2}]\nbindings:\n  render_002: a@example.com\n",
			want:   []string{`f.yaml:8:3: binding for undeclared desktop "render_002"; did you mean "render_001"? · hint: bind only desktops made by a group under desktops`},
		},
		{
			reason: "a binding names an account that is not declared",
			yaml:   "accounts: [{email: alice@example.com, name: a}]\ndesktops: [{name: render}]\nbindings:\n  render: alic@example.com\n",
			want:   []string{`f.yaml:8:11: binding to undeclared account "alic@example.com"; did you mean "alice@example.com"? · hint: declare it under accounts`},
		},
		{
			reason: "a desktop listed twice under bindings",
			yaml:   "accounts: [{email: a@example.com, name: a}, {email: b@example.com, name: b}]\ndesktops: [{name: render}]\nbindings:\n  render: a@example.com\n  render: b@example.com\n",
			want:   []string{`f.yaml:9:3: desktop "render" is bound twice (first at f.yaml:8:3) · hint: bind each desktop once; one account may have several desktops`},
		},
		{
			reason: "a desktop bound in two documents names both places",
			yaml:   "accounts: [{email: a@example.com, name: a}]\ndesktops: [{name: render}]\nbindings: {render: a@example.com}\n---\nversion: 1\nfleet: t\nbindings: {render: a@example.com}\n",
			want:   []string{`f.yaml:11:12: desktop "render" is bound twice (first at f.yaml:7:12) · hint: bind each desktop once; one account may have several desktops`},
		},
		{
			reason: "one account bound to several desktops is fine",
			yaml:   "accounts: [{email: a@example.com, name: a}]\ndesktops: [{name: render, count: 2}]\nbindings: {render: a@example.com, render_001: a@example.com}\n",
			want:   nil,
		},
		{
			reason: "renamedFrom on a group of several desktops",
			yaml:   "desktops:\n  - name: edit\n    count: 2\n    renamedFrom: edit-old\n",
			want:   []string{`f.yaml:8:18: renamedFrom needs count 1, but count is 2 · hint: rename a group of one desktop at a time`},
		},
		{
			reason: "months below 1",
			yaml:   "billing:\n  monthly: {cycle: month, months: 0}\n",
			want:   []string{`f.yaml:6:35: months must be at least 1, got 0`},
		},
		{
			reason: "bandwidth below 1, in a group and in defaults",
			full:   true,
			yaml:   "version: 1\nfleet: t\ndefaults: {site: s, bandwidth: 0}\ndesktops: [{name: a, product: x, image: y, bandwidth: -1}]\n",
			want: []string{
				`f.yaml:3:32: bandwidth must be at least 1 Mbps, got 0`,
				`f.yaml:4:55: bandwidth must be at least 1 Mbps, got -1`,
			},
		},
		{
			reason: "a bad duration",
			yaml:   "billing:\n  monthly: {cycle: month, renewWithin: 7days}\n",
			want:   []string{`f.yaml:6:40: bad duration "7days" for renewWithin: not a duration; use a Go duration like 168h or days like 7d`},
		},
		{
			reason: "a zero duration",
			yaml:   "billing:\n  monthly: {cycle: month, renewWithin: 0d}\n",
			want:   []string{`f.yaml:6:40: bad duration "0d" for renewWithin: must be positive; use a Go duration like 168h or days like 7d`},
		},
		{
			reason: "an unknown power value",
			yaml:   "desktops:\n  - {name: a, power: yes}\n",
			want:   []string{`f.yaml:6:22: unknown power "yes"; use on or off`},
		},
		{
			// power: true (a boolean, what YAML 1.1 tools write for on) is read as on with a warning:
			// TestYAML11Power. The string "true" is no power.
			reason: "power \"true\" quoted is a string, not the boolean a YAML 1.1 tool writes for on",
			yaml:   "desktops:\n  - {name: a, power: \"true\"}\n",
			want:   []string{`f.yaml:6:22: unknown power "true"; use on or off`},
		},
		{
			reason: "a version other than 1",
			full:   true,
			yaml:   "version: 2\nfleet: t\ndesktops: [{name: a, site: s, product: x, image: y}]\n",
			want:   []string{`f.yaml:1:10: unsupported version 2; this deskfleet reads version 1`},
		},
		{
			reason: "a missing fleet",
			full:   true,
			yaml:   "version: 1\ndesktops: [{name: a, site: s, product: x, image: y}]\n",
			want:   []string{"f.yaml:1:1: missing fleet · hint: name the fleet with `fleet: NAME`; every document of a spec names the same fleet"},
		},
		{
			reason: "documents of one spec naming different fleets",
			full:   true,
			yaml:   "version: 1\nfleet: a\ndesktops: [{name: a, site: s, product: x, image: y}]\n---\nversion: 1\nfleet: b\n",
			want:   []string{`f.yaml:6:8: fleet "b" here but "a" at f.yaml:2:8 · hint: every document of a spec names the same fleet`},
		},
		{
			reason: "a count over the limit",
			yaml:   "desktops:\n  - {name: a, count: 100000}\n",
			want:   []string{`f.yaml:6:22: count 100000 is over the limit of 1000 per group · hint: split the group into several groups`},
		},
		{
			reason: "a value of the wrong type says what it got",
			yaml:   "desktops:\n  - {name: a, count: three}\n",
			want:   []string{`f.yaml:6:22: count must be an integer, got "three"`},
		},
		{
			reason: "a group with no site anywhere",
			full:   true,
			yaml:   "version: 1\nfleet: t\ndesktops:\n  - {name: a, product: x, image: y}\n",
			want:   []string{`f.yaml:4:5: desktop group "a" has no site · hint: set site in the group or under defaults`},
		},
		{
			reason: "a group with no product or image",
			full:   true,
			yaml:   "version: 1\nfleet: t\ndesktops:\n  - {name: a, site: s}\n",
			want: []string{
				`f.yaml:4:5: desktop group "a" has no product · hint: set profile (here or under defaults), or product`,
				`f.yaml:4:5: desktop group "a" has no image · hint: set profile (here or under defaults), or image`,
			},
		},
		{
			reason: "an unknown billing cycle",
			yaml:   "billing:\n  monthly: {cycle: monthly}\n",
			want:   []string{`f.yaml:6:20: unknown billing cycle "monthly"; did you mean "month"?; use minute (per-minute) or month (monthly)`},
		},
		{
			reason: "a YAML syntax error is reported at its line",
			full:   true,
			yaml:   "version: 1\nfleet: t\n  bad: x\n",
			want:   []string{`f.yaml:3: YAML syntax: mapping values are not allowed in this context · hint: indent with spaces, the keys of one mapping or list item lined up; the mistake may be on a line above this one`},
		},
		{
			reason: "a key indented one space too far in a list item is reported at its own line, not where the list starts (yaml.v3 says line 3)",
			full:   true,
			yaml:   "version: 1\nfleet: t\ndesktops:\n  - name: a\n   site: s\n",
			want:   []string{`f.yaml:5:4: YAML syntax: did not find expected '-' indicator · hint: this line is indented like no mapping or list above it; line up the keys of one mapping or list item, with spaces`},
		},
		{
			reason: "a key indented one space too few after a nested mapping is reported at its own line",
			full:   true,
			yaml:   "version: 1\nfleet: t\ndefaults:\n  site: a\n bandwidth: 2\n",
			want:   []string{`f.yaml:5:2: YAML syntax: did not find expected key · hint: this line is indented like no mapping or list above it; line up the keys of one mapping or list item, with spaces`},
		},
		{
			reason: "yaml.v3 gives an unknown anchor no line: it is placed at the alias, with a hint",
			yaml:   "desktops:\n  - name: *nope\n",
			want:   []string{`f.yaml:6:11: YAML syntax: unknown anchor 'nope' referenced · hint: define the anchor with &nope before using *nope`},
		},
		{
			reason: "a profile declared twice across documents names both places",
			yaml:   "---\nversion: 1\nfleet: t\nprofiles: {a5000-win: {product: x, image: y}}\n",
			want:   []string{`f.yaml:8:12: profile "a5000-win" is declared twice (first at f.yaml:4:12)`},
		},
		{
			reason: "a duplicate key in a mapping",
			yaml:   "desktops:\n  - name: a\n    name: b\n",
			want:   []string{`f.yaml:7:5: duplicate key "name" in desktop group (first at f.yaml:6:5)`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			src := tt.yaml
			if !tt.full {
				src = head + src
			}
			_, ds := Parse("f.yaml", []byte(src))
			if got := errorsOf(ds); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s\ngot:\n  %s\nwant:\n  %s", tt.reason, strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

// TestReadSourcesLimits: a spec's files are read within maxFileSize each, maxSetSize together and
// maxSetNodes estimated YAML nodes together; the file that crosses a limit is named, with the limit,
// and no file after it is read or parsed. A spec of the largest fleet written out desktop by desktop
// is within the limits.
func TestReadSourcesLimits(t *testing.T) {
	longLine := func(n int) string { return "# " + strings.Repeat("x", n-3) + "\n" } // one line of n bytes
	var tenThousand strings.Builder
	tenThousand.WriteString(head + "desktops:\n")
	for i := range MaxDesktops {
		fmt.Fprintf(&tenThousand, "  - name: ws-%05d\n    label: lab\n    power: on\n", i)
	}
	cases := []struct {
		name   string
		reason string
		files  []string // the folder's files, f0.yaml, f1.yaml, ...
		want   string   // the error's "file: message" prefix; "" when the spec loads
	}{
		{"set size", "three files of 7 MiB: the third crosses the 16 MiB of a spec and is named; no node is made of it",
			[]string{head, longLine(7 << 20), longLine(7 << 20), longLine(7 << 20)},
			"f3.yaml:1:1: spec too large: its files together are larger than 16 MiB"},
		{"file size", "a file over 8 MiB is named, as before",
			[]string{head, longLine(8<<20 + 1)}, "f1.yaml: file is larger than 8 MiB"},
		{"flow nodes", "two bytes of YAML make a node: 150,000 of them are refused before the parser builds them",
			[]string{head + "desktops: [" + strings.Repeat("a,", 150_000) + "a]\n"},
			"f0.yaml:1:1: spec too large: its files make more than 200000 YAML nodes"},
		{"nodes of the set", "the estimate adds up over the files: the file that crosses it is named",
			[]string{head, "x: [" + strings.Repeat("0,", 60_000) + "0]\n", "y: [" + strings.Repeat("0,", 60_000) + "0]\n"},
			"f2.yaml:1:1: spec too large: its files make more than 200000 YAML nodes"},
		{"largest fleet", "10,000 desktops written out one by one are within the limits", []string{tenThousand.String()}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for i, f := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d.yaml", i)), []byte(f), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			fl, ds := Load(dir)
			errs := errorsOf(ds)
			if tc.want == "" {
				if len(errs) > 0 || len(fl.Desktops) != MaxDesktops {
					t.Fatalf("%s: %d desktops, errors %v", tc.reason, len(fl.Desktops), errs)
				}
				return
			}
			want := filepath.Join(dir, tc.want)
			found := false
			for _, e := range errs {
				found = found || strings.HasPrefix(e, want)
			}
			if !found {
				t.Errorf("%s: no error %q in %.500q", tc.reason, want, errs)
			}
		})
	}
}

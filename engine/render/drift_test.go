package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/engine"
)

// driftBase is an empty report of fleet studio at the plans' time.
func driftBase() *engine.DriftReport {
	return &engine.DriftReport{
		FormatVersion: engine.DriftFormatVersion, Fleet: "studio", At: planTime, ExpiringWithin: 7 * 24 * time.Hour,
		ManagedDesktops: 14, ManagedAccounts: 3, StateSerial: 12,
		Reads: engine.Reads{Desktops: 17, Accounts: 3, Sites: 2, Calls: 23, Elapsed: 900 * time.Millisecond},
		Items: []engine.DriftItem{}, Expiring: []engine.ExpiringItem{}, InError: []engine.StatusItem{},
		Unmanaged: []string{}, Unadopted: []string{}, Uncreated: []string{},
	}
}

// studioDrift is the report of the drift sketch (its golden under testdata), plus one item of every other kind.
func studioDrift() *engine.DriftReport {
	r := driftBase()
	off := false
	r.Items = []engine.DriftItem{
		{Object: engine.ObjectAccount, Name: "bob@example.com", ID: "acc-2", Attribute: engine.AttrName, Want: "bob", Live: "bobby", Cause: engine.CauseOutside},
		{Object: engine.ObjectDesktop, Name: "cad-02", ID: "77e1aa00", Attribute: engine.AttrLabel, Want: "team-b", Live: "tmp", Cause: engine.CauseOutside},
		{Object: engine.ObjectDesktop, Name: "render_002", ID: "53b1cc00", Attribute: engine.AttrPower, Want: "on", Live: "off", Cause: engine.CauseOutside},
		{Object: engine.ObjectDesktop, Name: "edit", ID: "9f3c81aa", Attribute: engine.AttrBind, Want: "carol@example.com", Live: "", Cause: engine.CauseSpec},
		{Object: engine.ObjectDesktop, Name: "lab-03", ID: "2f0d4410", Attribute: engine.AttrReplace, Want: "bandwidth 10 Mbps", Live: "bandwidth 5 Mbps",
			Cause: engine.CauseUnknown, Note: "cannot change in place: apply replaces it with --allow-replace"},
		{Object: engine.ObjectDesktop, Name: "scratch-9", ID: "88c2e001", Attribute: engine.AttrDeleted, Want: "exists", Live: "deleted",
			Cause: engine.CauseOutside, Note: "deleted outside deskfleet; apply creates it again"},
	}
	r.Expiring = []engine.ExpiringItem{{Name: "lead", ID: "aa11", ExpireTime: time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC),
		DaysLeft: 4, Managed: true, AutoRenew: &off, Source: "QueryVm"}}
	r.InError = []engine.StatusItem{
		{Name: "lab-07", ID: "bb22", Status: "failed", RawStatus: "error", Managed: true},
		{Name: "old-render", ID: "cc33", Status: "failed", RawStatus: "error"},
	}
	r.Unmanaged = []string{"legacy-ws-01", "legacy-ws-02", "old-render"}
	r.Unadopted = []string{"lab-01"}
	r.Uncreated = []string{"render", "render_001"}
	return r
}

// sketchDrift is exactly the drift sketch (its golden under testdata).
func sketchDrift() *engine.DriftReport {
	r := driftBase()
	off := false
	r.Items = []engine.DriftItem{
		{Object: engine.ObjectDesktop, Name: "cad-02", ID: "77e1aa00", Attribute: engine.AttrLabel, Want: "team-b", Live: "tmp", Cause: engine.CauseOutside},
		{Object: engine.ObjectDesktop, Name: "render_002", ID: "53b1cc00", Attribute: engine.AttrPower, Want: "on", Live: "off", Cause: engine.CauseOutside},
	}
	r.Expiring = []engine.ExpiringItem{{Name: "lead", ID: "aa11", ExpireTime: time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC),
		DaysLeft: 4, Managed: true, AutoRenew: &off, Source: "QueryVm"}}
	r.InError = []engine.StatusItem{{Name: "old-render", ID: "cc33", Status: "failed", RawStatus: "error"}}
	r.Unmanaged = []string{"legacy-ws-01", "legacy-ws-02", "old-render"}
	return r
}

func TestDriftGoldens(t *testing.T) {
	tests := []struct {
		name, reason string
		report       func() *engine.DriftReport
	}{
		{"sketch", "the drift sketch, line for line", sketchDrift},
		{"every-kind", "every kind of item: account, spec-caused, replace and deleted notes, managed error, unadopted", studioDrift},
		{"clean", "nothing found: the verdict says the live fleet matches", driftBase},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var txt, col, md, js bytes.Buffer
			r := tc.report()
			if err := DriftText(&txt, r, TextOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := DriftText(&col, r, TextOptions{Color: true}); err != nil {
				t.Fatal(err)
			}
			if err := DriftMarkdown(&md, r, MarkdownOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := DriftJSON(&js, r); err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(txt.Bytes(), []byte("\x1b")) {
				t.Errorf("%s: text without colour holds an escape", tc.reason)
			}
			goldenFile(t, "drift-text-"+tc.name, txt.Bytes())
			goldenFile(t, "drift-text-color-"+tc.name, col.Bytes())
			goldenFile(t, "drift-md-"+tc.name, md.Bytes())
			goldenFile(t, "drift-json-"+tc.name, js.Bytes())
		})
	}
}

// TestDriftText checks the facts the goldens show, so that a wrong golden cannot be blessed by -update.
func TestDriftText(t *testing.T) {
	tests := []struct {
		name, reason string
		report       func() *engine.DriftReport
		want         []string
		notWant      []string
	}{
		{name: "sketch header", reason: "the header names the fleet, what it manages and when",
			report: sketchDrift, want: []string{"deskfleet drift · fleet studio · 14 desktops, 3 accounts · 2026-11-26 09:00 UTC\n"}},
		{name: "sketch lines", reason: "each drifted value is one line: name, attribute, want, live",
			report: sketchDrift, want: []string{"Drifted (2)\n", `  cad-02      label  want "team-b"  live "tmp"` + "\n", "  render_002  power  want on        live off\n"}},
		{name: "sketch lists", reason: "expiring, not managed (with the status of those in error) and the verdict",
			report: sketchDrift, want: []string{"Expiring within 7d (1): lead (monthly, expires 2026-11-30, in 4 days, auto-renew off)\n",
				"Not managed (3): legacy-ws-01, legacy-ws-02, old-render (status error)\n",
				"exit 6: drift found · `deskfleet apply` sets it back\n"},
			notWant: []string{"In error"}},
		{name: "clean", reason: "no finding: the verdict says so and no section shows",
			report: driftBase, want: []string{"No drift: the live fleet matches the spec.\n"}, notWant: []string{"Drifted", "exit 6"}},
		{name: "spec cause", reason: "a value the spec changed says so, so nobody hunts for a console change",
			report: studioDrift, want: []string{`want "carol@example.com"  live none  the spec changed since the last apply`}},
		{name: "pending", reason: "desktops apply would create are named, and the verdict does not claim a match",
			report: func() *engine.DriftReport {
				r := driftBase()
				r.Uncreated = []string{"render"}
				return r
			}, want: []string{"Not created yet (1): render · `deskfleet apply` creates them\n", "No drift in what deskfleet manages"},
			notWant: []string{"matches the spec"}},
		{name: "managed error", reason: "a managed desktop in error gets its own line with its raw status",
			report: studioDrift, want: []string{"In error (1): lab-07 (failed, status error)\n"}},
		{name: "unadopted", reason: "desktops apply would adopt are named, not counted as drift",
			report: studioDrift, want: []string{"Not adopted yet (1): lab-01 · `deskfleet apply` adopts them\n"}},
		{name: "attention only", reason: "a managed desktop expiring without drifted values still exits 6, with its own verdict",
			report: func() *engine.DriftReport {
				r := sketchDrift()
				r.Items = []engine.DriftItem{}
				return r
			}, want: []string{"exit 6: managed desktops need attention"}, notWant: []string{"Drifted"}},
		{name: "several expiring", reason: "more than one item of a list gets one line each",
			report: func() *engine.DriftReport {
				r := sketchDrift()
				r.Expiring = append(r.Expiring, engine.ExpiringItem{Name: "old", ExpireTime: planTime.Add(-time.Hour), Expired: true})
				return r
			}, want: []string{"Expiring within 7d (2)\n  lead (monthly, expires 2026-11-30, in 4 days, auto-renew off)\n  old (not managed, expired 2026-11-26)\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := DriftText(&b, tc.report(), TextOptions{}); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("%s: output lacks %q:\n%s", tc.reason, w, b.String())
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(b.String(), w) {
					t.Errorf("%s: output holds %q:\n%s", tc.reason, w, b.String())
				}
			}
		})
	}
}

func TestDriftMarkdown(t *testing.T) {
	tests := []struct {
		name, reason string
		report       func() *engine.DriftReport
		opt          MarkdownOptions
		want         []string
		absent       []string
		maxLen       int
	}{
		{name: "marker last", reason: "the hidden marker ends the body so a scheduled job finds its issue",
			report: sketchDrift, want: []string{"<!-- deskfleet-drift:studio -->\n"}},
		{name: "first line", reason: "the first line says what was found",
			report: sketchDrift, want: []string{"### deskfleet drift · studio: 2 drifted values, 1 expiring, 1 in error, 3 not managed\n"}},
		{name: "escaped", reason: "a name cannot break the table (GitHub splits a cell at a | even inside a code span: it is \\|) or the marker",
			report: func() *engine.DriftReport {
				r := sketchDrift()
				r.Fleet = "a-->b"
				r.Items[0].Name = "x|y`z"
				return r
			}, want: []string{"| ``x\\|y`z`` |", "<!-- deskfleet-drift:a-‐&gt;b -->"}},
		{name: "hostile values", reason: "control characters and a forged marker in live data are shown escaped, never as written",
			report: func() *engine.DriftReport {
				r := sketchDrift()
				r.Items[0].Live = "evil\x1b[2J<!-- deskfleet-drift:prod -->"
				r.InError = append(r.InError, engine.StatusItem{Name: "bad\u202ename", Status: "failed", RawStatus: "<!--x-->", Managed: true})
				return r
			}, want: []string{"evil\\x1b[2J\\x3c!-- deskfleet-drift:prod -->", "bad\\u202ename", "\\\\x3c!--x-->"},
			absent: []string{"\x1b", "\u202e", "<!-- deskfleet-drift:prod", "<!--x"}},
		{name: "capped", reason: "a huge report is cut to the cap, says how much it left out, and keeps its marker",
			report: func() *engine.DriftReport {
				r := sketchDrift()
				for i := range 5000 {
					r.Unmanaged = append(r.Unmanaged, fmt.Sprintf("legacy-%05d", i))
				}
				return r
			}, opt: MarkdownOptions{MaxBytes: 4000}, maxLen: 4000,
			want: []string{"more items left out to stay under 4000 bytes", "<!-- deskfleet-drift:studio -->\n", "| `cad-02` | label |"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := DriftMarkdown(&b, tc.report(), tc.opt); err != nil {
				t.Fatal(err)
			}
			s := b.String()
			for _, w := range tc.want {
				if !strings.Contains(s, w) {
					t.Errorf("%s: output lacks %q:\n%s", tc.reason, w, s)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(s, a) {
					t.Errorf("%s: output holds %q:\n%s", tc.reason, a, s)
				}
			}
			if !strings.HasSuffix(s, " -->\n") {
				t.Errorf("%s: the marker is not last", tc.reason)
			}
			if tc.maxLen > 0 && len(s) > tc.maxLen {
				t.Errorf("%s: %d bytes, over the cap %d", tc.reason, len(s), tc.maxLen)
			}
		})
	}
}

// TestDriftJSONRoundTrip: the JSON form decodes into a report that encodes to the same bytes, and
// carries its format version.
func TestDriftJSONRoundTrip(t *testing.T) {
	var a, b bytes.Buffer
	if err := DriftJSON(&a, studioDrift()); err != nil {
		t.Fatal(err)
	}
	var r engine.DriftReport
	if err := json.Unmarshal(a.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if err := DriftJSON(&b, &r); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("round trip differs:\n%s\n---\n%s", a.String(), b.String())
	}
	if !strings.Contains(a.String(), `"format_version": 1`) || !strings.Contains(driftJSON(t, driftBase()), `"drifted": []`) {
		t.Error("format_version 1 and [] for empty lists")
	}
}

func driftJSON(t *testing.T, r *engine.DriftReport) string {
	var b bytes.Buffer
	if err := DriftJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestDriftTextHostile: names, values, notes and statuses from the spec or the account reach a
// terminal with their control characters and bidirectional overrides escaped, never as written.
func TestDriftTextHostile(t *testing.T) {
	r := sketchDrift()
	r.Fleet = "prod\x1b]0;owned\x07"
	r.Items[0].Name = "cad\x1b[2J"
	r.Items[0].Live = "evil\u202e"
	r.InError = append(r.InError, engine.StatusItem{Name: "bad\rname", Status: "failed", RawStatus: "x\x1b[31m", Managed: true})
	r.Unmanaged = append(r.Unmanaged, "legacy\u2066")
	var b bytes.Buffer
	if err := DriftText(&b, r, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, raw := range []string{"\x1b", "\x07", "\u202e", "\r", "\u2066"} {
		if strings.Contains(s, raw) {
			t.Errorf("the text report holds %q as written:\n%s", raw, s)
		}
	}
	for _, shown := range []string{`prod\x1b]0;owned\x07`, `cad\x1b[2J`, `evil\u202e`, `bad\rname`, `legacy\u2066`} {
		if !strings.Contains(s, shown) {
			t.Errorf("the text report lacks %q:\n%s", shown, s)
		}
	}
}

// TestDriftTargetBanner: a drift report narrowed by --target or --exclude says so in text and
// Markdown, so a partial check never reads as the whole fleet's; a whole-fleet report has no banner.
func TestDriftTargetBanner(t *testing.T) {
	for _, tc := range []struct {
		name, reason      string
		targets, excludes []string
		want              []string
	}{
		{"targeted", "--target names what was checked", []string{"cad*"}, nil,
			[]string{"Targeted drift check: only what matches --target 'cad*'; the rest of the fleet was not checked",
				"> **Targeted drift check**: only what matches --target `cad*`; the rest of the fleet was not checked."}},
		{"excluded", "--exclude names what was left out", nil, []string{"lab"},
			[]string{"leaving out what matches --exclude 'lab'", "leaving out what matches --exclude `lab`"}},
		{"whole", "no globs, no banner", nil, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := sketchDrift()
			r.Targets, r.Excludes = tc.targets, tc.excludes
			var txt, md bytes.Buffer
			if err := DriftText(&txt, r, TextOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := DriftMarkdown(&md, r, MarkdownOptions{}); err != nil {
				t.Fatal(err)
			}
			both := txt.String() + md.String()
			for _, w := range tc.want {
				if !strings.Contains(both, w) {
					t.Errorf("%s: lacks %q:\n%s", tc.reason, w, both)
				}
			}
			if tc.want == nil && strings.Contains(both, "Targeted") {
				t.Errorf("%s: a whole-fleet report has a banner:\n%s", tc.reason, both)
			}
		})
	}
}

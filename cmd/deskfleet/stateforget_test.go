package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deskfleet/deskfleet/provider/sim"
)

// TestCLIOneOwnerAndForget: within one state a desktop belongs to one fleet. import --adopt and plan
// refuse a desktop another fleet manages (exit 1, naming it and the way out); a protected desktop
// removed from the spec is offered `state forget`, which releases it without deleting anything, after
// which the other fleet may adopt it. Targets that match nothing are errors; targeted plans and drift
// reports say so.
func TestCLIOneOwnerAndForget(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "cloud.json")
	seedCloud(t, data, nil,
		sim.Desktop{Name: "ws-01", Label: "lab"},
		sim.Desktop{Name: "ws-02", Label: "lab"},
	)
	api := []string{"--endpoint", "sim:" + data, "--state", filepath.Join(dir, "state.db")}
	run := func(args ...string) result {
		t.Helper()
		if args[0] == "state" {
			return runBin(t, dir, nil, append(args, api[2:]...)...) // the state only
		}
		return runBin(t, dir, nil, append(args, api...)...)
	}
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	r := run("import", "--fleet", "lab", "--name-prefix", "ws-", "--adopt")
	if r.code != 0 {
		t.Fatalf("import --adopt into lab: exit %d\n%s", r.code, r.stderr)
	}
	write("lab.yaml", r.stdout)
	only1 := run("import", "--fleet", "lab", "--name-prefix", "ws-01")
	write("lab-ws01.yaml", only1.stdout)
	lab2 := run("import", "--fleet", "lab2", "--name-prefix", "ws-01")
	write("lab2.yaml", lab2.stdout)

	steps := []struct {
		name, reason string
		args         []string
		wantCode     int
		wantOut      []string
		wantErr      []string
	}{
		{name: "adopt owned", reason: "import --adopt refuses a desktop fleet lab manages, naming it and `state forget`",
			args: []string{"import", "--fleet", "lab2", "--name-prefix", "ws-01", "--adopt"}, wantCode: exitError,
			wantErr: []string{"cannot adopt into fleet lab2: desktop ws-01", "is managed by fleet lab", "deskfleet state forget --fleet lab ws-01"}},
		{name: "plan adopts owned", reason: "a plan of fleet lab2 naming ws-01 does not adopt it: an error names fleet lab",
			args: []string{"plan", "-f", "lab2.yaml"}, wantCode: exitError,
			wantOut: []string{"is managed by fleet lab: not adopted", "deskfleet state forget --fleet lab ws-01"}},
		{name: "target nomatch", reason: "a target matching nothing is exit 1, not \"No changes\"",
			args: []string{"plan", "-f", "lab.yaml", "--target", "nomatch*"}, wantCode: exitError,
			wantErr: []string{`--target "nomatch*" matches no desktop or account of fleet lab`, "ws-01"}},
		{name: "drift target nomatch", reason: "drift checks its targets as plan does",
			args: []string{"drift", "-f", "lab.yaml", "--target", "nomatch*"}, wantCode: exitError,
			wantErr: []string{`--target "nomatch*" matches no desktop`}},
		{name: "targeted text", reason: "a targeted plan says so, and its no-changes line speaks of the targets only",
			args: []string{"plan", "-f", "lab.yaml", "--target", "ws-01"}, wantCode: 0,
			wantOut: []string{"Targeted plan: only what matches --target 'ws-01'; the rest of the fleet was not planned",
				"No changes to the targeted objects"}},
		{name: "targeted markdown", reason: "in Markdown too",
			args: []string{"plan", "-f", "lab.yaml", "--target", "ws-01", "--exclude", "ws-02", "--format", "markdown"}, wantCode: 0,
			wantOut: []string{"no changes (targeted)", "> **Targeted plan**: only what matches --target `ws-01`, leaving out what matches --exclude `ws-02`"}},
		{name: "targeted json", reason: "and in JSON, by its targets and excludes keys",
			args: []string{"plan", "-f", "lab.yaml", "--target", "ws-01", "--format", "json"}, wantCode: 0,
			wantOut: []string{"\"targets\": [\n    \"ws-01\"\n  ]"}},
		{name: "drift targeted", reason: "drift takes --target and --exclude",
			args: []string{"drift", "-f", "lab.yaml", "--target", "ws-0*", "--exclude", "ws-02", "--format", "json"}, wantCode: 0,
			wantOut: []string{"\"targets\": [\n    \"ws-0*\"\n  ]", "\"excludes\": ["}},
		{name: "protected removed", reason: "a protected desktop removed from the spec is kept, and the hint offers state forget",
			args: []string{"plan", "-f", "lab-ws01.yaml"}, wantCode: 0,
			wantOut: []string{"removed from the spec but protected", "deskfleet state forget --fleet lab ws-02"}},
		{name: "forget unknown", reason: "forgetting a name the fleet does not manage changes nothing",
			args: []string{"state", "forget", "--fleet", "lab", "ws-02", "nope"}, wantCode: exitError,
			wantErr: []string{"nope: not managed by the fleet lab", "nothing was changed"}},
		{name: "forget", reason: "state forget releases it without deleting anything",
			args: []string{"state", "forget", "--fleet", "lab", "ws-02"}, wantCode: 0,
			wantOut: []string{"fleet lab no longer manages desktop ws-02 (", "nothing was deleted"}},
		{name: "journaled", reason: "the forget is in the fleet's journal",
			args: []string{"state", "history", "lab"}, wantCode: 0, wantOut: []string{"deskfleet state forget"}},
		{name: "forgotten is unmanaged", reason: "lab's plan leaves ws-02 alone now: no changes",
			args: []string{"plan", "-f", "lab-ws01.yaml"}, wantCode: 0, wantOut: []string{"No changes. The live fleet matches the spec"}},
		{name: "adopt released", reason: "fleet lab2 may adopt what lab released",
			args: []string{"import", "--fleet", "lab2", "--name-prefix", "ws-02", "--adopt"}, wantCode: 0,
			wantErr: []string{"adopted 1 desktop and 0 accounts into fleet lab2"}},
		{name: "lab still owns ws-01", reason: "but not what lab still manages",
			args: []string{"import", "--fleet", "lab2", "--name-prefix", "ws-0", "--adopt"}, wantCode: exitError,
			wantErr: []string{"desktop ws-01", "is managed by fleet lab"}},
		{name: "plan again", reason: "plan again: no changes",
			args: []string{"plan", "-f", "lab-ws01.yaml"}, wantCode: 0, wantOut: []string{"No changes. The live fleet matches the spec"}},
	}
	for _, s := range steps {
		r := run(s.args...)
		if r.code != s.wantCode {
			t.Fatalf("%s: %s: exit %d, want %d\n%s%s", s.name, s.reason, r.code, s.wantCode, r.stdout, r.stderr)
		}
		for _, w := range s.wantOut {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("%s: %s: stdout lacks %q:\n%s", s.name, s.reason, w, r.stdout)
			}
		}
		for _, w := range s.wantErr {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%s: %s: stderr lacks %q:\n%s", s.name, s.reason, w, r.stderr)
			}
		}
	}
}

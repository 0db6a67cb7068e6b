package render

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/deskfleet/deskfleet/state"
)

func stateTestOptions() StateOptions {
	return StateOptions{Location: "ci/state.db", Now: time.Date(2026, 11, 26, 9, 1, 0, 0, time.UTC), Host: "build-7",
		Gone: func(h state.Holder) bool { return h.PID == 99 }}
}

func TestLockLiveness(t *testing.T) {
	opt := stateTestOptions()
	beat := opt.Now.Add(-42 * time.Second)
	for _, tc := range []struct {
		holder state.Holder
		want   string
	}{
		{state.Holder{Host: "build-7", PID: 99}, "STALE: that process is gone (`deskfleet state unlock` clears it)"},
		{state.Holder{Host: "build-7", PID: 7}, "still running"},
		{state.Holder{Host: "runner-2", PID: 7}, "on another host"},
		{state.Holder{Host: "runner-2", PID: 7, Heartbeat: beat}, "on another host, last heartbeat 42s ago"},
	} {
		if got := LockLiveness(tc.holder, opt); got != tc.want {
			t.Errorf("LockLiveness(%+v) = %q, want %q", tc.holder, got, tc.want)
		}
	}
	if got := LockText(nil, opt); got != "free" {
		t.Errorf("LockText(nil) = %q, want free", got)
	}
}

func TestStateShow(t *testing.T) {
	at := time.Date(2026, 11, 26, 9, 0, 1, 0, time.FixedZone("CET", 3600))
	empty, label := "", "render"
	rec := &state.Record{Fleet: "studio", Serial: 4,
		Desktops: map[string]state.Desktop{
			"vm-2": {VmID: "vm-2", Name: "b", Protect: true, Label: &empty, AppliedAt: at},
			"vm-1": {VmID: "vm-1", Name: "a", ImageID: "img-1", Label: &label, Power: "on"},
		},
		Accounts: map[string]state.Account{"bob@example.com": {Email: "bob@example.com", AccountID: "acc-1"}},
		Intents: []state.Intent{
			{ID: "r/1", Action: "CreateVm", Status: state.IntentDone},
			{ID: "r/2", Action: "DeleteVm", Status: state.IntentSent, Targets: []string{"a", "b", "c", "d", "e"}},
		},
	}
	var b strings.Builder
	if err := StateShow(&b, FleetState{Name: "studio", Record: rec}, stateTestOptions()); err != nil {
		t.Fatal(err)
	}
	want := `Fleet studio · serial 4 · ci/state.db
Lock: free

Desktops (2)
  NAME  VMID  IMAGE  PROTECT  LABEL   ACCOUNT  POWER  APPLIED
  a     vm-1  img-1  no       render  -        on     -
  b     vm-2  -      yes      ""      -        -      2026-11-26 08:00:01 UTC

Accounts (1)
  EMAIL            ACCOUNT ID  NAME  REMARK
  bob@example.com  acc-1       -     -

Open intents (1): calls of an apply that did not finish; the next apply settles them first
  ID   ACTION    STATUS  TARGETS          TASK  REQUEST  STARTED
  r/2  DeleteVm  sent    a,b,c,d +1 more  -     -        -
`
	if got := b.String(); got != want {
		t.Errorf("StateShow:\n%s\nwant:\n%s", got, want)
	}
}

func TestStateHistory(t *testing.T) {
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	rec := &state.Record{Fleet: "studio", Runs: []state.Run{
		{ID: "r1", User: "ana", Host: "build-7", StartedAt: at, EndedAt: at.Add(1500 * time.Millisecond), Outcome: "done",
			SpecDigest: "sha256:ab", Steps: []state.StepOutcome{{Step: 1, Action: "CreateVm", Targets: "a", Status: "done"}}},
		{ID: "r2", User: "bo", Host: "runner-2", StartedAt: at.Add(time.Hour), Outcome: "partial", Command: "deskfleet apply",
			GitCommit: "abc123", Steps: []state.StepOutcome{{Step: 1, Action: "DeleteVm", Targets: "b", Status: "failed", Error: "busy"}}},
	}}
	for _, tc := range []struct {
		limit int
		want  string
	}{
		{1, `Fleet studio: 2 runs, the newest 1 shown (--limit 0 shows all)

r2  PARTIAL  bo@runner-2  2026-11-26 10:00:00 UTC  (still running or interrupted)
  command  deskfleet apply
  spec     -  commit abc123
  ✗ 1  DeleteVm  b  failed: busy
`},
		{0, `Fleet studio: 2 runs, newest first

r2  PARTIAL  bo@runner-2  2026-11-26 10:00:00 UTC  (still running or interrupted)
  command  deskfleet apply
  spec     -  commit abc123
  ✗ 1  DeleteVm  b  failed: busy

r1  DONE  ana@build-7  2026-11-26 09:00:00 UTC  (1.5s)
  spec     sha256:ab
  ✓ 1  CreateVm  a  done
`},
	} {
		var b strings.Builder
		if err := StateHistory(&b, rec, tc.limit); err != nil {
			t.Fatal(err)
		}
		if got := b.String(); got != tc.want {
			t.Errorf("StateHistory limit %d:\n%s\nwant:\n%s", tc.limit, got, tc.want)
		}
	}
}

func TestStateList(t *testing.T) {
	opt := stateTestOptions()
	var b strings.Builder
	if err := StateList(&b, nil, opt); err != nil {
		t.Fatal(err)
	}
	if want := "No fleets in ci/state.db: nothing applied yet.\n"; b.String() != want {
		t.Errorf("StateList of no fleet: %q, want %q", b.String(), want)
	}
	b.Reset()
	holder := &state.Holder{User: "ana", Host: "build-7", PID: 99, Command: "deskfleet apply", Since: opt.Now}
	rec := &state.Record{Serial: 3, Desktops: map[string]state.Desktop{"vm-1": {}},
		Runs: []state.Run{{StartedAt: opt.Now, Outcome: "done"}}}
	if err := StateList(&b, []FleetState{{Name: "studio", Record: rec, Lock: holder}}, opt); err != nil {
		t.Fatal(err)
	}
	want := "State ci/state.db: 1 fleet\n\n" +
		"FLEET   DESKTOPS  ACCOUNTS  SERIAL  LAST APPLY                    LOCK\n" +
		"studio  1         0         3       2026-11-26 09:01:00 UTC done  " +
		"ana@build-7 (pid 99, deskfleet apply, since 2026-11-26 09:01:00 UTC), STALE: that process is gone (`deskfleet state unlock` clears it)\n"
	if b.String() != want {
		t.Errorf("StateList:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestUnlockedMigratedRestored(t *testing.T) {
	h := &state.Holder{User: "ana", Host: "build-7", PID: 99, Command: "deskfleet apply",
		Since: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
	const lost = "What the lost generation recorded is gone: run `deskfleet plan` to see what differs.\n"
	const kept = "Unfinished calls stay recorded: the next apply settles them first (`deskfleet state show studio`).\n"
	rec := &state.Record{Serial: 1, Desktops: map[string]state.Desktop{"vm-1": {}, "vm-2": {}},
		Accounts: map[string]state.Account{"a@example.com": {}}, Runs: []state.Run{{ID: "r1"}},
		Intents: []state.Intent{{Status: state.IntentDone}}}
	for _, tc := range []struct {
		name  string
		write func(*strings.Builder) error
		want  string
	}{
		{"not locked", func(b *strings.Builder) error { return Unlocked(b, "studio", nil, false) },
			"Fleet studio is not locked.\n"},
		{"stale", func(b *strings.Builder) error { return Unlocked(b, "studio", h, true) },
			"Removed the stale lock of fleet studio held by ana@build-7 (pid 99, deskfleet apply, since 2026-11-26 09:00:00 UTC): that process is gone.\n" + kept},
		{"forced", func(b *strings.Builder) error { return Unlocked(b, "studio", h, false) },
			"Removed the lock of fleet studio held by ana@build-7 (pid 99, deskfleet apply, since 2026-11-26 09:00:00 UTC) (--force).\n" + kept},
		{"migrated", func(b *strings.Builder) error { return Migrated(b, "studio", rec, "state.db", "postgres://u:***@db/x") },
			"Copied fleet studio (2 desktops, 1 account, 1 run, 0 unfinished calls) from state.db to postgres://u:***@db/x: serial 1 there.\n"},
		{"restored whole file", func(b *strings.Builder) error {
			return Restored(b, []state.Restored{{Fleet: "a", Serial: 3, Whole: true}, {Fleet: "b", Serial: 9, Whole: true}}, "state.db", "state.db")
		}, "Restored state.db from its previous generation (state.db.prev); the damaged file is kept beside it.\n" +
			"Fleet a: restored to serial 3.\nFleet b: restored to serial 9.\n" + lost},
		{"restored one record", func(b *strings.Builder) error {
			return Restored(b, []state.Restored{{Fleet: "studio", Serial: 4}}, "postgres://u:***@db/x", "postgres://u:p@db/x")
		}, "Fleet studio: restored to serial 4.\n" + lost},
		{"restored nothing", func(b *strings.Builder) error { return Restored(b, nil, "state.db", "state.db") },
			"The previous generation holds no fleet.\n" + lost},
	} {
		var b strings.Builder
		if err := tc.write(&b); err != nil {
			t.Fatal(err)
		}
		if b.String() != tc.want {
			t.Errorf("%s:\n%q\nwant\n%q", tc.name, b.String(), tc.want)
		}
	}
}

// TestTableLikeTabwriter: on text whose characters are one column each, table writes what
// text/tabwriter (minwidth 2, padding 2, blanks) writes, byte for byte, whatever the shape.
func TestTableLikeTabwriter(t *testing.T) {
	for _, tc := range []struct{ reason, text string }{
		{"a header and rows", "FLEET\tDESKTOPS\tLOCK\nstudio\t6\tfree\nrender-farm\t120\theld by ana\n"},
		{"indented rows, an empty cell", "  NAME\tVMID\tLABEL\n  cad\tvm-1\t\n  lab_001\tvm-22\tteam-b\n"},
		{"lines with fewer cells end column blocks", "  a 1\tX\tdone\n  no tabs here\n  bb 22\tYY\tfailed: x\n"},
		{"a leading empty cell, as the catalog's product rows", "  products\tgpu\tid\n  \tA5000 24GB\tp-1\n  \tA40 48GB\tp-22\n"},
		{"a last line without a newline, and a trailing tab", "a\tb\t\nccc\td"},
		{"cells narrower than the minimum width", "\t\t\nx\ty\tz\n"},
	} {
		var want, got bytes.Buffer
		tw := tabwriter.NewWriter(&want, 2, 4, 2, ' ', 0)
		tw.Write([]byte(tc.text))
		tw.Flush()
		tb := newStateTable(&got)
		tb.Write([]byte(tc.text))
		if err := tb.Flush(); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s: got\n%q\nwant (tabwriter)\n%q", tc.reason, got.String(), want.String())
		}
	}
}

// TestTableWideNames: a column after Chinese (two columns each) and mixed names starts at one
// terminal column on every line.
func TestTableWideNames(t *testing.T) {
	var b bytes.Buffer
	tb := newStateTable(&b)
	fmt.Fprintln(tb, "  NAME\tVMID\tLABEL")
	fmt.Fprintln(tb, "  设计部_001\tvm-1\t组长")
	fmt.Fprintln(tb, "  cad\tvm-22\tteam-a")
	fmt.Fprintln(tb, "  渲染-ｆｕｌｌ\tvm-3\t-")
	if err := tb.Flush(); err != nil {
		t.Fatal(err)
	}
	var at []int
	for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		i := strings.Index(l, "vm")
		if i < 0 {
			i = strings.Index(l, "VMID")
		}
		at = append(at, displayWidth(l[:i]))
	}
	for _, c := range at[1:] {
		if c != at[0] {
			t.Errorf("VMID starts at columns %v, want one column:\n%s", at, b.String())
			break
		}
	}
}

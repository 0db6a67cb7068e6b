package sim

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// sharedPair opens two Sims on one new DataFile, on one clock, each behind its own test server.
func sharedPair(t *testing.T) (file string, a, b *env) {
	t.Helper()
	file = filepath.Join(t.TempDir(), "sim.db")
	clock := NewManualClock(t0)
	a = newEnv(t, Options{DataFile: file, Clock: clock, Seed: 9})
	b = newEnv(t, Options{DataFile: file, Clock: clock, Seed: 9})
	b.nonce = 1 << 20 // distinct nonces: the two share the nonce journal
	t.Cleanup(func() { a.sim.Close(); b.sim.Close() })
	return file, a, b
}

// ioCounts returns how often s parsed and wrote its DataFile.
func ioCounts(s *Sim) (loads, saves int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.store.loads, s.store.saves
}

// fileGeneration reads the generation recorded in a data file.
func fileGeneration(t *testing.T, file string) uint64 {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var p persisted
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("data file does not parse: %v", err)
	}
	return p.Generation
}

func TestSharedDataFile(t *testing.T) {
	body := func(name string) map[string]any {
		return map[string]any{"requestId": "req-" + name, "siteId": SiteSuqianA, "productId": ProductA5000Win, "name": name,
			"imageId": ImageWin10, "qos": "5", "vpcId": VPCDefaultSuqianA, "subnetNetId": "73d2c7ec-cdcb-11ec-a318-ee97882ecf7d",
			"vgatewayNetId": "80587138-cdcb-11ec-a318-ee97882ecf7d", "vgatewayConfId": "10298"}
	}
	cases := []struct {
		name, reason string
		run          func(t *testing.T, file string, a, b *env)
	}{
		{"desktop through A survives B's change",
			"B must reload before its own change, or saving its stale copy erases A's desktop (last writer wins)",
			func(t *testing.T, file string, a, b *env) {
				idA, err := a.sim.AddDesktop(Desktop{Name: "from-a", SiteID: SiteSuqianA, ProductID: ProductA5000Win, VPCID: VPCDefaultSuqianA})
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := b.sim.Desktop(idA); !ok {
					t.Fatalf("desktop created through A not visible through B")
				}
				idB, err := b.sim.AddDesktop(Desktop{Name: "from-b", SiteID: SiteSuqianA, ProductID: ProductA5000Win, VPCID: VPCDefaultSuqianA})
				if err != nil {
					t.Fatal(err)
				}
				if idA == idB {
					t.Fatalf("A and B drew the same id %s: the id generator is not shared", idA)
				}
				if err := a.sim.ConsoleRename(idA, "renamed-by-a"); err != nil {
					t.Fatal(err)
				}
				fresh, err := New(Options{DataFile: file})
				if err != nil {
					t.Fatal(err)
				}
				defer fresh.Close()
				for _, s := range []*Sim{a.sim, b.sim, fresh} {
					if d, ok := s.Desktop(idA); !ok || d.Name != "renamed-by-a" {
						t.Errorf("A's desktop: %+v %v", d, ok)
					}
					if _, ok := s.Desktop(idB); !ok {
						t.Errorf("B's desktop missing")
					}
				}
			}},
		{"task through A completes through B",
			"deadlines are absolute and settling happens in whichever Sim reads after them",
			func(t *testing.T, file string, a, b *env) {
				r := a.must(a.post("CreateVm", body("shared")))
				task, vm := r.obj()["taskId"].(string), r.obj()["vmIds"].([]any)[0].(string)
				if ts := b.must(b.get("QueryTask", map[string]string{"taskId": task, "requestId": "req-shared"})).obj(); ts["status"] != TaskRunning {
					t.Errorf("task before its deadline, through B: %v", ts)
				}
				a.clock.Advance(time.Minute)
				if ts := b.must(b.get("QueryTask", map[string]string{"taskId": task, "requestId": "req-shared"})).obj(); ts["status"] != TaskCompleted {
					t.Errorf("task after its deadline, through B: %v", ts)
				}
				if q := a.must(a.get("QueryVm", map[string]string{"vmId": vm})).obj(); q["status"] != StatusRunning {
					t.Errorf("desktop through A after B settled: %v", q)
				}
			}},
		{"interleaved sub-accounts through both",
			"every change is made on the latest world, so none of the 2×10 is lost and no id is drawn twice",
			func(t *testing.T, file string, a, b *env) {
				for i := range 10 {
					for _, e := range []*env{a, b} {
						who := "a"
						if e == b {
							who = "b"
						}
						e.must(e.post("CreateSubAccount", map[string]any{"requestId": "r", "name": who,
							"email": fmt.Sprintf("%s%02d@example.com", who, i)}))
					}
				}
				for _, e := range []*env{a, b} {
					n, ids := 0, map[string]bool{}
					for _, acc := range e.sim.Accounts() {
						if strings.HasSuffix(acc.Email, "@example.com") {
							n++
							ids[acc.ID] = true
						}
					}
					if n != 20 || len(ids) != 20 {
						t.Errorf("%d accounts with %d distinct ids, want 20", n, len(ids))
					}
				}
			}},
		{"nonce replayed against the other Sim",
			"accepted nonces are journaled beside the file, so a replay is refused by every Sim on it",
			func(t *testing.T, file string, a, b *env) {
				a.nonceOverride = "replayed"
				a.must(a.get("QuerySites", nil))
				b.nonceOverride = "replayed"
				if r := b.get("QuerySites", nil); r.status != 403 || r.code() != "SignatureNonceUsed" {
					t.Errorf("replay through B: status %d %v", r.status, r.raw)
				}
				fresh := newEnv(t, Options{DataFile: file, Clock: a.clock})
				defer fresh.sim.Close()
				fresh.nonceOverride = "replayed"
				if r := fresh.get("QuerySites", nil); r.status != 403 || r.code() != "SignatureNonceUsed" {
					t.Errorf("replay through a Sim opened later: status %d %v", r.status, r.raw)
				}
				b.must(b.get("QuerySites", nil)) // a fresh nonce still passes
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file, a, b := sharedPair(t)
			c.run(t, file, a, b)
			if t.Failed() {
				t.Log("reason:", c.reason)
			}
		})
	}
}

// TestSharedDataFileIO: the lock and change check must not turn reads into file I/O.
func TestSharedDataFileIO(t *testing.T) {
	cases := []struct {
		name, reason string
		op           func(a, b *env)
		loads, saves int // of A, during op
		genMoves     bool
	}{
		{"read, nobody else wrote", "an unchanged generation means A's world is current: no reparse, and nothing to write",
			func(a, b *env) {
				a.sim.Desktops()
				a.must(a.get("QueryVms", nil))
			}, 0, 0, false},
		{"read after B wrote", "A reparses once to see B's change, and a read still writes nothing",
			func(a, b *env) {
				if _, err := b.sim.AddAccount(Account{Name: "b", Email: "b@example.com"}); err != nil {
					panic(err)
				}
				a.sim.Accounts()
				a.must(a.get("QuerySubAccounts", nil))
			}, 1, 0, true},
		{"change by A", "A's change is written once and A does not reparse its own write",
			func(a, b *env) {
				if _, err := a.sim.AddAccount(Account{Name: "a", Email: "a@example.com"}); err != nil {
					panic(err)
				}
				a.sim.Accounts()
			}, 0, 1, true},
		{"refused change", "a change refused with an API error changes nothing, so it writes nothing",
			func(a, b *env) {
				r := a.post("ChangeVmName", map[string]any{"requestId": "r", "vmId": "no-such-vm", "name": "x"})
				if r.code() != "10006" {
					panic(fmt.Sprint("rename of a missing desktop: ", r.raw))
				}
			}, 0, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file, a, b := sharedPair(t)
			a.sim.Desktops() // A is current
			l0, s0 := ioCounts(a.sim)
			g0 := fileGeneration(t, file)
			c.op(a, b)
			l1, s1 := ioCounts(a.sim)
			if l1-l0 != c.loads || s1-s0 != c.saves {
				t.Errorf("A parsed the file %d times and wrote it %d times, want %d and %d (%s)", l1-l0, s1-s0, c.loads, c.saves, c.reason)
			}
			if g := fileGeneration(t, file); (g != g0) != c.genMoves {
				t.Errorf("generation %d -> %d, moved want %v (%s)", g0, g, c.genMoves, c.reason)
			}
		})
	}
}

// TestSharedDataFileFiles: the lock and journal files are private, and nothing is left behind.
func TestSharedDataFileFiles(t *testing.T) {
	file, a, _ := sharedPair(t)
	a.must(a.get("QuerySites", nil))
	entries, err := os.ReadDir(filepath.Dir(file))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", e.Name(), fi.Mode().Perm())
		}
	}
	if want := []string{"sim.db", "sim.db.lock", "sim.db.nonces"}; !slices.Equal(names, want) {
		t.Errorf("files %v, want %v (no temp file left)", names, want)
	}
}

// TestNonceJournal: the journal survives a writer killed mid-record and is compacted without
// forgetting the live nonces, also for a Sim that had read the old journal.
func TestNonceJournal(t *testing.T) {
	cases := []struct {
		name, reason string
		run          func(t *testing.T, file string, a, b *env)
	}{
		{"torn record", "records start with a newline, so a torn one is a line of its own and is skipped",
			func(t *testing.T, file string, a, b *env) {
				f, err := os.OpenFile(file+".nonces", os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.WriteString("\n1782101948000000000 \"testAK\\x00tor"); err != nil {
					t.Fatal(err)
				}
				f.Close()
				a.nonceOverride = "after-torn"
				a.must(a.get("QuerySites", nil))
				b.nonceOverride = "after-torn"
				if r := b.get("QuerySites", nil); r.code() != "SignatureNonceUsed" {
					t.Errorf("replay of the record written after a torn one: %v", r.raw)
				}
			}},
		{"compaction", "expired records are dropped from the journal, live ones kept and seen by every Sim",
			func(t *testing.T, file string, a, b *env) {
				b.must(b.get("QuerySites", nil)) // B has read the journal before it is rewritten
				for range 1100 {
					a.clock.Advance(time.Second)
					a.must(a.get("QuerySites", nil))
				}
				st, err := os.Stat(file + ".nonces")
				if err != nil {
					t.Fatal(err)
				}
				if st.Size() > 200*40 {
					t.Errorf("journal of %d bytes after 1,100 nonces with a 60 s window: not compacted", st.Size())
				}
				b.nonceOverride = fmt.Sprintf("nonce-%d", a.nonce) // A's last one
				if r := b.get("QuerySites", nil); r.code() != "SignatureNonceUsed" {
					t.Errorf("replay of a live nonce after compaction: %v", r.raw)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "sim.db")
			clock := NewManualClock(t0)
			a := newEnv(t, Options{DataFile: file, Clock: clock, TimestampWindow: time.Minute})
			b := newEnv(t, Options{DataFile: file, Clock: clock, TimestampWindow: time.Minute})
			b.nonce = 1 << 20
			c.run(t, file, a, b)
			if t.Failed() {
				t.Log("reason:", c.reason)
			}
		})
	}
}

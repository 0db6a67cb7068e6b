//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package sim

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperEnv names the variables that turn TestHelperProcess into a child process of these tests.
const (
	helperMode  = "DESKFLEET_SIM_HELPER"      // accounts | rename | hold | burst
	helperFile  = "DESKFLEET_SIM_HELPER_FILE" // the shared DataFile
	helperCount = "DESKFLEET_SIM_HELPER_N"
)

// startHelper starts this test binary as a child running TestHelperProcess in mode on file, and
// returns it with its stdout.
func startHelper(t *testing.T, mode, file string, n int) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperMode+"="+mode, helperFile+"="+file, helperCount+"="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd, bufio.NewReader(out)
}

// waitLine reads the child's stdout until a line equal to want.
func waitLine(t *testing.T, r *bufio.Reader, want string) {
	t.Helper()
	for {
		line, err := r.ReadString('\n')
		if strings.TrimSpace(line) == want {
			return
		}
		if err != nil {
			t.Fatalf("child ended before saying %q: %v", want, err)
		}
	}
}

// createAccounts creates n sub-accounts named prefix00.. through ServeHTTP.
func createAccounts(s *Sim, prefix string, n int) error {
	for i := range n {
		body := fmt.Sprintf(`{"requestId":"r","name":"%s","email":"%s%02d@example.com"}`, prefix, prefix, i)
		rec := serve(s, "POST", "/gcw/?Action=CreateSubAccount", "application/json", body)
		if !strings.Contains(rec.Body.String(), `"Code":"Success"`) {
			return fmt.Errorf("CreateSubAccount %s%02d: %d %s", prefix, i, rec.Code, rec.Body)
		}
	}
	return nil
}

// renameDesktops renames the desktops named prefix00.. to prefix00-renamed.. through the Go API.
func renameDesktops(s *Sim, prefix string, n int) error {
	for i := range n {
		d, ok := s.DesktopByName(fmt.Sprintf("%s%02d", prefix, i))
		if !ok {
			return fmt.Errorf("no desktop %s%02d", prefix, i)
		}
		if err := s.ConsoleRename(d.ID, d.Name+"-renamed"); err != nil {
			return err
		}
	}
	return nil
}

// TestHelperProcess is not a test: it is the child process of the tests below, and does nothing
// unless DESKFLEET_SIM_HELPER is set.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperMode)
	if mode == "" {
		t.Skip("child process of the multi-process tests")
	}
	n, _ := strconv.Atoi(os.Getenv(helperCount))
	s, err := New(Options{DataFile: os.Getenv(helperFile)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	fmt.Println("ready")
	switch mode {
	case "accounts":
		err = createAccounts(s, "child", n)
	case "rename":
		err = renameDesktops(s, "child", n)
	case "hold":
		// Take the lock and keep it until killed.
		err = s.mutate(func() error {
			fmt.Println("locked")
			time.Sleep(time.Hour)
			return nil
		})
	case "burst":
		// Save as fast as possible until killed.
		for i := 0; err == nil; i++ {
			_, err = s.AddAccount(Account{Name: "burst", Email: fmt.Sprintf("burst%06d@example.com", i)})
			if i == 0 {
				fmt.Println("saving")
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	os.Exit(0)
}

// TestTwoProcesses: a child process and this one change one DataFile at the same time; every change
// of both survives.
func TestTwoProcesses(t *testing.T) {
	const n = 20
	cases := []struct {
		name, mode, reason string
		setup              func(s *Sim) error
		work               func(s *Sim) error // this process's half, run while the child does its own
		check              func(s *Sim) error
	}{
		{"sub-accounts over HTTP", "accounts",
			"each CreateSubAccount reloads the other's accounts and draws ids from the shared generator",
			func(*Sim) error { return nil },
			func(s *Sim) error { return createAccounts(s, "parent", n) },
			func(s *Sim) error {
				ids := map[string]bool{}
				for _, who := range []string{"parent", "child"} {
					for i := range n {
						a, ok := s.AccountByEmail(fmt.Sprintf("%s%02d@example.com", who, i))
						if !ok {
							return fmt.Errorf("account %s%02d lost", who, i)
						}
						ids[a.ID] = true
					}
				}
				if len(ids) != 2*n {
					return fmt.Errorf("%d distinct ids for %d accounts", len(ids), 2*n)
				}
				return nil
			}},
		{"renames through the Go API", "rename",
			"each ConsoleRename works on the latest world, so no rename is undone by a stale save",
			func(s *Sim) error {
				for _, who := range []string{"parent", "child"} {
					for i := range n {
						if _, err := s.AddDesktop(Desktop{Name: fmt.Sprintf("%s%02d", who, i), SiteID: SiteSuqianA,
							ProductID: ProductA5000Win, VPCID: VPCDefaultSuqianA}); err != nil {
							return err
						}
					}
				}
				return nil
			},
			func(s *Sim) error { return renameDesktops(s, "parent", n) },
			func(s *Sim) error {
				for _, who := range []string{"parent", "child"} {
					for i := range n {
						if _, ok := s.DesktopByName(fmt.Sprintf("%s%02d-renamed", who, i)); !ok {
							return fmt.Errorf("rename of %s%02d lost", who, i)
						}
					}
				}
				return nil
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "sim.db")
			s, err := New(Options{DataFile: file})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := c.setup(s); err != nil {
				t.Fatal(err)
			}
			cmd, out := startHelper(t, c.mode, file, n)
			waitLine(t, out, "ready")
			go io.Copy(io.Discard, out)
			loads, _ := ioCounts(s)
			if err := c.work(s); err != nil {
				t.Fatal(err)
			}
			after, _ := ioCounts(s)
			t.Logf("this process reloaded the child's changes %d times during its %d changes", after-loads, n)
			if err := cmd.Wait(); err != nil {
				t.Fatalf("child: %v", err)
			}
			fresh, err := New(Options{DataFile: file})
			if err != nil {
				t.Fatal(err)
			}
			defer fresh.Close()
			for who, sim := range map[string]*Sim{"this process": s, "a Sim opened afterwards": fresh} {
				if err := c.check(sim); err != nil {
					t.Errorf("%s: %v (%s)", who, err, c.reason)
				}
			}
		})
	}
}

// tryLock reports whether the lock file of DataFile can be taken right now, from a new open file
// description (so it is excluded by any other holder, in this process or another).
func tryLock(t *testing.T, file string) bool {
	t.Helper()
	f, err := os.OpenFile(file+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

// TestLockExcludesWithinProcess: flock locks belong to open file descriptions, so two Sims in one
// process exclude each other through the file too, not only through their own mutexes.
func TestLockExcludesWithinProcess(t *testing.T) {
	file, a, b := sharedPair(t)
	var during bool
	if err := a.sim.mutate(func() error { during = tryLock(t, file); return nil }); err != nil {
		t.Fatal(err)
	}
	if during {
		t.Errorf("the lock file could be taken while A was inside an operation")
	}
	if !tryLock(t, file) {
		t.Errorf("the lock file is still held after A's operation")
	}
	b.sim.Desktops()
	if !tryLock(t, file) {
		t.Errorf("the lock file is still held after B's read")
	}
}

// TestKilledProcess: a process killed with SIGKILL, holding the lock or in the middle of saving,
// neither blocks the next one nor leaves a file that does not load.
func TestKilledProcess(t *testing.T) {
	cases := []struct {
		name, mode, ready, reason string
		holdsLock                 bool
	}{
		{"killed holding the lock", "hold", "locked",
			"the kernel releases a flock when its holder dies", true},
		{"killed while saving", "burst", "saving",
			"saves replace the file by rename, so a kill leaves the old or the new world", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "sim.db")
			s, err := New(Options{DataFile: file})
			if err != nil {
				t.Fatal(err)
			}
			cmd, out := startHelper(t, c.mode, file, 0)
			waitLine(t, out, c.ready)
			if c.holdsLock && tryLock(t, file) {
				t.Fatalf("the child says it holds the lock, but this process could take it")
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			go io.Copy(io.Discard, out)

			done := make(chan error, 1)
			go func() {
				_, err := s.AddAccount(Account{Name: "after", Email: "after@example.com"})
				done <- err
			}()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(time.Minute):
				t.Fatalf("still blocked a minute after the child was killed (%s)", c.reason)
			}
			fileGeneration(t, file) // parses
			fresh, err := New(Options{DataFile: file})
			if err != nil {
				t.Fatalf("the file does not load after the kill: %v (%s)", err, c.reason)
			}
			defer fresh.Close()
			if _, ok := fresh.AccountByEmail("after@example.com"); !ok {
				t.Errorf("the change made after the kill is missing")
			}
			if rec := serve(fresh, "GET", "/gcw/?Action=QuerySubAccounts", "", ""); !strings.Contains(rec.Body.String(), "after@example.com") {
				t.Errorf("QuerySubAccounts after the kill: %s", rec.Body)
			}
		})
	}
}

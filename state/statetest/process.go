package statetest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/deskfleet/deskfleet/state"
)

// A store's tests use another process to hold a lock, die holding it, or contend for it: the test
// binary itself, run again with an environment variable (the package's own name for it) that its
// TestMain recognises and answers by acting as that process (HelperArgs, then the package's code).

// Process is a running helper process: Cmd (its pid is Cmd.Process.Pid), Stdin (closing it tells a
// helper to finish), and its output read line by line with Line.
type Process struct {
	Cmd   *exec.Cmd
	Stdin io.WriteCloser
	out   *bufio.Reader
}

// StartHelper runs the test binary again as a helper with args, passed in the environment variable
// env; the helper is killed and waited for when the test ends.
func StartHelper(t *testing.T, env string, args ...string) *Process {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), env+"="+strings.Join(args, "\x1f"))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &Process{Cmd: cmd, Stdin: stdin, out: bufio.NewReader(stdout)}
	t.Cleanup(func() {
		p.Stdin.Close()
		p.Cmd.Process.Kill()
		p.Cmd.Wait()
	})
	return p
}

// HelperArgs returns the arguments StartHelper passed in env, and whether this process is a helper.
func HelperArgs(env string) ([]string, bool) {
	v := os.Getenv(env)
	if v == "" {
		return nil, false
	}
	return strings.Split(v, "\x1f"), true
}

// Line is the helper's next line of output, without its newline.
func (p *Process) Line(t *testing.T) string {
	t.Helper()
	s, err := p.out.ReadString('\n')
	if err != nil {
		t.Fatalf("helper %d printed no line: %v", p.Cmd.Process.Pid, err)
	}
	return strings.TrimSpace(s)
}

// Hold is a helper process's "hold" act on its store s: take fleet's lock, print "locked PID", keep
// the lock until stdin closes (Process.Stdin.Close), then release it. It returns the exit code, 1
// after printing "error ..." when a step fails.
func Hold(s state.Store, fleet string) int {
	ctx := context.Background()
	l, err := s.Lock(ctx, fleet, Holder("helper"), 0)
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	fmt.Println("locked", os.Getpid())
	io.Copy(io.Discard, os.Stdin)
	if err := s.Unlock(ctx, l); err != nil {
		fmt.Println("error", err)
		return 1
	}
	return 0
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/internal/pgtest"
)

// The test binary is also the deskfleet command. TestMain links it into a folder of its own under the
// name deskfleet and puts that folder first on PATH; started under that name, the binary runs the CLI
// (run, as main does) instead of the tests. So the CLI tests run deskfleet as users do, as a process of
// its own (the crash tests SIGKILL it, the concurrency tests start many, shells find it on PATH),
// without a separate build, with the test binary's -race and -cover, and with the test-only hooks of
// the package's _test.go files (crashhook_test.go) that a release build does not have.
const cliName = "deskfleet"

// binPath is the test binary's link named deskfleet, made by TestMain.
var binPath string

func TestMain(m *testing.M) {
	if strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe") == cliName {
		os.Exit(run(os.Args, os.Stdout, os.Stderr))
	}
	dir, err := os.MkdirTemp("", "deskfleet-cli-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, cliName)
	if runtime.GOOS == "windows" {
		binPath += ".exe"
	}
	if err := linkSelf(binPath); err != nil {
		fmt.Fprintln(os.Stderr, "making the test binary deskfleet:", err)
		os.Exit(1)
	}
	os.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	// A race-enabled binary pauses 1s at exit by default (atexit_sleep_ms) to let its threads report;
	// the CLI exits hundreds of times here.
	if os.Getenv("GORACE") == "" {
		os.Setenv("GORACE", "atexit_sleep_ms=10")
	}
	code := pgtest.Run(m) // a PostgreSQL server, started by the first test that asks for one
	os.RemoveAll(dir)
	os.Exit(code)
}

// linkSelf makes path a hard link to the running test binary, or a copy where a link cannot be made
// (a symlink would do on unix, but some tools resolve it and run the binary under its own name).
func linkSelf(path string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if os.Link(self, path) == nil {
		return nil
	}
	src, err := os.Open(self)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// cliEnv is a minimal environment for a run of deskfleet (no inherited credentials): the PATH that finds
// it, the race detector's settings, and extra.
func cliEnv(extra ...string) []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "GORACE=" + os.Getenv("GORACE")}, extra...)
}

// result is what one run of the binary produced.
type result struct {
	stdout, stderr string
	code           int
}

// runBin runs the binary in dir with env added to a minimal environment (no inherited credentials),
// its stdin at /dev/null.
func runBin(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	return runBinWith(t, dir, nil, env, args...)
}

// runBinWith is runBin with stdin read from stdin (nil: /dev/null).
func runBinWith(t *testing.T, dir string, stdin io.Reader, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Dir = dir
	cmd.Env = cliEnv(append([]string{"HOME=" + dir}, env...)...)
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %v: %v", args, err)
	}
	return result{out.String(), errb.String(), code}
}

// startSimServe starts `deskfleet sim serve` on a free port and returns its URL; it is stopped (SIGINT)
// at the end of the test, and its final output (the call counts) is returned by the stop function.
func startSimServe(t *testing.T, args ...string) (url string, stop func() string) {
	t.Helper()
	cmd := exec.Command(binPath, append([]string{"sim", "serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = cliEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(stdout)
	line, err := r.ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("sim serve printed no first line: %v", err)
	}
	m := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(line)
	if m == nil {
		cmd.Process.Kill()
		t.Fatalf("sim serve first line %q does not say where it listens", line)
	}
	stopped := false
	var rest string
	stop = func() string {
		if stopped {
			return rest
		}
		stopped = true
		cmd.Process.Signal(os.Interrupt)
		b, _ := io.ReadAll(r)
		cmd.Wait()
		rest = string(b)
		return rest
	}
	t.Cleanup(func() { stop() })
	return m[1], stop
}

func TestCLIVersion(t *testing.T) {
	r := runBin(t, t.TempDir(), nil, "version")
	if r.code != 0 || !regexp.MustCompile(`^deskfleet \S+ \(commit \S+, go1\.\d+`).MatchString(r.stdout) {
		t.Fatalf("version: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestCLISimServeAndCatalog runs the emulator as a separate process with signature checks on and reads
// its catalog through the real client, as `make demo` does.
func TestCLISimServeAndCatalog(t *testing.T) {
	const secret = "CANARY-cli-secret-31f9"
	dir := t.TempDir()
	data := filepath.Join(dir, "cloud.json")
	url, stop := startSimServe(t, "--key", "demo:"+secret, "--data", data)

	tests := []struct {
		name     string
		reason   string
		env      []string
		args     []string
		wantCode int
		wantOut  []string
		wantErr  []string
	}{
		{
			name:     "signed",
			reason:   "the right credentials read every site, product, image and network",
			env:      []string{"CDS_SECRET_ID=demo", "CDS_SECRET_KEY=" + secret},
			args:     []string{"catalog", "--endpoint", url},
			wantOut:  []string{"3 sites", "宿迁A", "NVIDIA A5000", "Windows10-公共镜像-图像处理型", "none yet (a plan creates it with CreateDefaultNet)"},
			wantCode: 0,
		},
		{
			name:     "one site",
			reason:   "--site narrows the listing to one site",
			env:      []string{"CDS_SECRET_ID=demo", "CDS_SECRET_KEY=" + secret},
			args:     []string{"catalog", "--endpoint", url, "--site", "襄阳A"},
			wantOut:  []string{"1 sites", "襄阳A"},
			wantCode: 0,
		},
		{
			name:     "unknown site",
			reason:   "an unknown site names the sites that exist",
			env:      []string{"CDS_SECRET_ID=demo", "CDS_SECRET_KEY=" + secret},
			args:     []string{"catalog", "--endpoint", url, "--site", "宿迁C"},
			wantErr:  []string{"no site 宿迁C; sites: 宿迁A, 宿迁B, 襄阳A"},
			wantCode: 1,
		},
		{
			name:     "wrong secret",
			reason:   "the emulator checks signatures; the error must not echo either secret",
			env:      []string{"CDS_SECRET_ID=demo", "CDS_SECRET_KEY=CANARY-wrong-secret-77aa"},
			args:     []string{"catalog", "--endpoint", url, "--log-level", "debug"},
			wantErr:  []string{"SignatureDoesNotMatch", "hint: check CDS_SECRET_ID and CDS_SECRET_KEY"},
			wantCode: 1,
		},
		{
			name:     "no credentials",
			reason:   "a real endpoint without credentials fails before any call, naming both variables",
			args:     []string{"catalog", "--endpoint", url},
			wantErr:  []string{"CDS_SECRET_ID", "CDS_SECRET_KEY", "--endpoint sim"},
			wantCode: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runBin(t, dir, tt.env, tt.args...)
			if r.code != tt.wantCode {
				t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tt.reason, r.code, tt.wantCode, r.stdout, r.stderr)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("%s: stdout lacks %q:\n%s", tt.reason, w, r.stdout)
				}
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("%s: stderr lacks %q:\n%s", tt.reason, w, r.stderr)
				}
			}
			for _, leak := range []string{secret, "CANARY-wrong-secret-77aa", "Signature="} {
				if strings.Contains(r.stdout+r.stderr, leak) {
					t.Errorf("%s: output leaks %q", tt.reason, leak)
				}
			}
		})
	}
	final := stop()
	if !regexp.MustCompile(`calls served: \d+`).MatchString(final) || !strings.Contains(final, "QuerySites") {
		t.Errorf("sim serve should print its call counts when interrupted, got %q", final)
	}
	// catalog reads the products of every site with one call: two full listings, two calls.
	if !regexp.MustCompile(`QueryProducts\s+2\n`).MatchString(final) {
		t.Errorf("want exactly 2 QueryProducts calls (one per catalog run), got:\n%s", final)
	}
	// The emulator's files (world, lock, nonce journal) never hold a secret.
	files, _ := filepath.Glob(data + "*")
	if len(files) == 0 {
		t.Fatalf("sim serve --data %s wrote no file", data)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), secret) || strings.Contains(string(b), "CANARY-wrong-secret-77aa") {
			t.Errorf("%s holds a secret", filepath.Base(f))
		}
		if st, _ := os.Stat(f); st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %o: others can read it", filepath.Base(f), st.Mode().Perm())
		}
	}
}

// TestCLIEndpointSim checks that --endpoint sim keeps one emulated cloud in .deskfleet/sim.db, private
// to the user, across runs.
func TestCLIEndpointSim(t *testing.T) {
	dir := t.TempDir()
	for i := range 2 {
		r := runBin(t, dir, nil, "catalog", "--endpoint", "sim")
		if r.code != 0 || !strings.Contains(r.stdout, "Catalog of sim:.deskfleet/sim.db: 3 sites") {
			t.Fatalf("run %d: exit %d\nstdout:\n%s\nstderr:\n%s", i, r.code, r.stdout, r.stderr)
		}
	}
	for path, want := range map[string]os.FileMode{".deskfleet": 0o700, ".deskfleet/sim.db": 0o600} {
		st, err := os.Stat(filepath.Join(dir, path))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("%s has mode %o, want %o", path, got, want)
		}
	}
}

// TestCLIValidateExamples runs the binary on every example fleet, and on a path with a comma (a
// repeatable -f must not split it).
func TestCLIValidateExamples(t *testing.T) {
	examples, err := filepath.Glob("../../examples/*/*.yaml")
	if err != nil || len(examples) < 3 {
		t.Fatalf("want at least three example fleets, found %v (%v)", examples, err)
	}
	comma := filepath.Join(t.TempDir(), "team,a.yaml")
	data, err := os.ReadFile(examples[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(comma, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range append(examples, comma) {
		abs, _ := filepath.Abs(path)
		r := runBin(t, t.TempDir(), nil, "validate", "-f", abs)
		if r.code != 0 || !strings.Contains(r.stdout, "is valid") {
			t.Errorf("validate -f %s: exit %d\nstdout:\n%s\nstderr:\n%s", path, r.code, r.stdout, r.stderr)
		}
	}
}

// TestCLIReadmeValidateOutput keeps README.md's validate example true: the block after
// "$ deskfleet validate -f fleet.yaml" is exactly what the binary prints for testdata/readme/fleet.yaml.
func TestCLIReadmeValidateOutput(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const start, end = "$ deskfleet validate -f fleet.yaml\n", "$ echo $?\n1\n"
	s := string(readme)
	i, j := strings.Index(s, start), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the validate example between %q and %q", start, end)
	}
	want := s[i+len(start) : j]
	dir, _ := filepath.Abs("testdata/readme")
	r := runBin(t, dir, nil, "validate", "-f", "fleet.yaml")
	if r.code != 1 || r.stdout != want {
		t.Errorf("README's validate example is stale (exit %d, want 1).\nbinary prints:\n%s\nREADME shows:\n%s", r.code, r.stdout, want)
	}
}

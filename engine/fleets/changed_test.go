package fleets

import (
	"context"
	"errors"
	"github.com/deskfleet/deskfleet/engine"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// gitRepo makes a Git work tree of files with one commit (tagged base) and returns its folder.
func gitRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	root := writeTree(t, files)
	for _, args := range [][]string{
		{"init", "-q"}, {"add", "."},
		{"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "base"},
		{"tag", "base"},
	} {
		runGit(t, root, args...)
	}
	return root
}

func runGit(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func TestChangedSince(t *testing.T) {
	files := map[string]string{
		"fleets/lab/fleet.yaml":    specYAML("lab"),
		"fleets/course/fleet.yaml": specYAML("course"),
		"fleets/README.md":         "two fleets\n",
		"shared/base.yaml":         "x: 1\n",
	}
	tests := []struct {
		reason string
		change func(t *testing.T, root string)
		want   []string // fleets that run, by name
	}{
		{"nothing changed: no fleet runs", func(*testing.T, string) {}, nil},
		{"an edited spec file runs its fleet", func(t *testing.T, root string) {
			appendFile(t, filepath.Join(root, "fleets/lab/fleet.yaml"), "# edited\n")
		}, []string{"lab"}},
		{"a committed change since the ref counts too", func(t *testing.T, root string) {
			appendFile(t, filepath.Join(root, "fleets/course/fleet.yaml"), "# edited\n")
			runGit(t, root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-am", "edit")
		}, []string{"course"}},
		{"an untracked file in a fleet folder runs that fleet", func(t *testing.T, root string) {
			writeFile(t, filepath.Join(root, "fleets/course/extra.yaml"), "# new\n")
		}, []string{"course"}},
		{"a file deleted from a fleet folder runs that fleet", func(t *testing.T, root string) {
			writeFile(t, filepath.Join(root, "fleets/lab/notes.txt"), "x\n")
			runGit(t, root, "add", ".")
			runGit(t, root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "notes")
			runGit(t, root, "tag", "-f", "base")
			if err := os.Remove(filepath.Join(root, "fleets/lab/notes.txt")); err != nil {
				t.Fatal(err)
			}
		}, []string{"lab"}},
		{"a change outside every fleet's files runs none", func(t *testing.T, root string) {
			appendFile(t, filepath.Join(root, "fleets/README.md"), "more\n")
			appendFile(t, filepath.Join(root, "shared/base.yaml"), "y: 2\n")
		}, nil},
		{"an ignored file is no change", func(t *testing.T, root string) {
			writeFile(t, filepath.Join(root, ".gitignore"), "*.tmp\n")
			runGit(t, root, "add", ".gitignore")
			runGit(t, root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "ignore")
			runGit(t, root, "tag", "-f", "base")
			writeFile(t, filepath.Join(root, "fleets/lab/scratch.tmp"), "x\n")
		}, nil},
	}
	for _, tt := range tests {
		root := gitRepo(t, files)
		tt.change(t, root)
		repo, err := Open(filepath.Join(root, "fleets"))
		if err != nil {
			t.Fatal(err)
		}
		c, err := ChangedSince(context.Background(), repo.Root, "base")
		if err != nil {
			t.Fatalf("%s: %v", tt.reason, err)
		}
		var got []string
		for _, f := range repo.Fleets {
			if c.Touches(f) {
				got = append(got, f.Name())
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: fleets that run %v, want %v (changed: %v)", tt.reason, got, tt.want, c.Paths)
		}
	}
}

// TestChangedSinceSources: a file a fleet's spec read outside its folder (a base it extends) is one
// of its files: a change to it runs the fleet.
func TestChangedSinceSources(t *testing.T) {
	root := gitRepo(t, map[string]string{"fleets/lab/fleet.yaml": specYAML("lab"), "shared/base.yaml": "x: 1\n"})
	appendFile(t, filepath.Join(root, "shared/base.yaml"), "y: 2\n")
	c, err := ChangedSince(context.Background(), root, "base")
	if err != nil {
		t.Fatal(err)
	}
	lab := &Fleet{Dir: filepath.Join(root, "fleets/lab")}
	lab.Spec, lab.Err = loadFleet(lab.Dir)
	if c.Touches(lab) {
		t.Fatal("a fleet that does not read shared/base.yaml must not run for it")
	}
	lab.Spec.Sources = append(lab.Spec.Sources, filepath.Join(root, "shared/base.yaml"))
	if !c.Touches(lab) {
		t.Error("a fleet whose spec read shared/base.yaml must run when it changes")
	}
}

func TestChangedSinceErrors(t *testing.T) {
	root := gitRepo(t, map[string]string{"fleets/lab/fleet.yaml": specYAML("lab")})
	tests := []struct {
		reason string
		dir    string
		ref    string
		want   string
		hint   string
	}{
		{"an unknown ref is named, with how to fetch it", root, "origin/nope", `unknown Git ref "origin/nope"`, "fetch"},
		{"a ref that looks like a flag is refused before git sees it", root, "--output=x", "not a Git ref", "--changed-since origin/main"},
		{"outside a Git work tree", t.TempDir(), "main", "not in a Git work tree", "clone"},
	}
	for _, tt := range tests {
		_, err := ChangedSince(context.Background(), tt.dir, tt.ref)
		var ge *GitError
		if !errors.As(err, &ge) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(ge.Hint(), tt.hint) {
			t.Errorf("%s: err %v, want a *GitError with %q and a hint with %q", tt.reason, err, tt.want, tt.hint)
		}
	}
}

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func loadFleet(dir string) (*engine.Spec, error) { return engine.LoadSpec([]string{dir}) }

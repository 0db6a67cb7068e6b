package fleets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// GitError is ChangedSince's error: not in a Git repository, an unknown ref, or git missing. Fix
// says what to do (Hint).
type GitError struct {
	Msg, Fix string
}

func (e *GitError) Error() string { return "--changed-since: " + e.Msg }

// Hint says what to do.
func (e *GitError) Hint() string { return e.Fix }

// Changes are the files that differ from a Git ref, relative to the top of the work tree
// (slash-separated, as git names them).
type Changes struct {
	// Ref is the ref compared with; Top the work tree's top folder.
	Ref, Top string
	Paths    map[string]bool
}

// ChangedSince lists the files of the Git work tree holding dir that differ from ref: what
// `git diff --name-only --no-renames REF` lists (committed since REF, staged or not; both sides of a
// rename; deletions) and the untracked files git does not ignore (a new fleet folder not yet
// committed is a change). It runs git; outside a work tree, with an unknown ref or without git it
// fails with a *GitError.
func ChangedSince(ctx context.Context, dir, ref string) (*Changes, error) {
	if ref == "" || strings.HasPrefix(ref, "-") {
		return nil, &GitError{Msg: fmt.Sprintf("%q is not a Git ref", ref), Fix: "name a branch, tag or commit: --changed-since origin/main"}
	}
	top, err := git(ctx, dir, "rev-parse", "--show-toplevel")
	if err != nil {
		var notFound *exec.Error
		if errors.As(err, &notFound) {
			return nil, &GitError{Msg: "git is not installed (or not on PATH): " + err.Error(), Fix: "install git, or leave out --changed-since"}
		}
		return nil, &GitError{Msg: dir + " is not in a Git work tree", Fix: "run in a clone of the repository, or leave out --changed-since to run every fleet"}
	}
	c := &Changes{Ref: ref, Top: strings.TrimSpace(top), Paths: map[string]bool{}}
	if _, err := git(ctx, c.Top, "rev-parse", "--verify", "--quiet", "--end-of-options", ref+"^{commit}"); err != nil {
		return nil, &GitError{Msg: fmt.Sprintf("unknown Git ref %q", ref),
			Fix: "fetch it first (git fetch origin main); a shallow CI clone needs the history (fetch-depth: 0)"}
	}
	diff, err := git(ctx, c.Top, "diff", "--name-only", "--no-renames", "-z", "--end-of-options", ref, "--")
	if err != nil {
		return nil, &GitError{Msg: "git diff: " + err.Error(), Fix: "check that the ref names a commit"}
	}
	untracked, err := git(ctx, c.Top, "ls-files", "--others", "--exclude-standard", "--full-name", "-z")
	if err != nil {
		return nil, &GitError{Msg: "git ls-files: " + err.Error(), Fix: "check the work tree"}
	}
	for _, p := range strings.Split(diff+untracked, "\x00") {
		if p != "" {
			c.Paths[p] = true
		}
	}
	return c, nil
}

// git runs git in dir and returns its stdout; an error carries git's stderr.
func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("%s", strings.TrimSpace(stderr.String()))
		}
		return "", err
	}
	return string(out), nil
}

// Touches reports whether a changed file is one the fleet's spec loader read, or lies in the
// fleet's folder (a file deleted or added there, which the loader could not have named).
func (c *Changes) Touches(f *Fleet) bool {
	dir, ok := c.rel(f.Dir)
	if !ok {
		return true // outside the work tree: cannot tell, so it runs
	}
	for p := range c.Paths {
		if p == dir || strings.HasPrefix(p, dir+"/") || dir == "." {
			return true
		}
	}
	for _, s := range f.Sources() {
		if rel, ok := c.rel(s); !ok || c.Paths[rel] {
			return true
		}
	}
	return false
}

// rel is path relative to the work tree's top, slash-separated; false when it is outside.
func (c *Changes) rel(path string) (string, bool) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", false
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	top := c.Top
	if real, err := filepath.EvalSymlinks(top); err == nil {
		top = real
	}
	rel, err := filepath.Rel(top, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

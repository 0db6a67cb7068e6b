// Package fleets runs plan, apply and drift over the fleets of a repository in one run, and says how
// each run ends as the exit code CI branches on.
//
// A fleet repository is a folder that holds no spec file of its own (no *.yaml or *.yml, hidden
// files such as .gitlab-ci.yml aside) and, in folders below it, fleet folders: a folder that holds a
// fleet.yaml (or fleet.yml) is one fleet, whose spec is every *.yaml and *.yml of that folder (as
// `-f FOLDER` reads it). Fleet folders are found up to MaxDepth levels below the repository; the
// search skips hidden folders (.git, .deskfleet) and does not look inside a fleet folder (fleets do
// not nest). A folder without fleet.yaml, such as a shared base/, is not a fleet. A folder that holds
// spec files itself is one fleet, as it always was. A fleet folder whose spec another fleet of the
// repository extends (reads: its source files) is that fleet's base, not a fleet of its own: it is
// not run, so that a base written as a whole fleet (to validate it alone) is never applied by a run.
//
// Each fleet runs on the same engine.Session, one after another, under its own lock in the same
// state store; one fleet's failure does not stop the others, and the run's exit is the worst of the
// fleets' (Worst).
package fleets

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/deskfleet/deskfleet/engine"
)

// MaxDepth is how many folder levels below a repository fleet folders are looked for: lab/ is one,
// sites/eu/lab/ three.
const MaxDepth = 3

// Fleet is one fleet of a repository: its folder and its spec, loaded and checked offline.
type Fleet struct {
	// Dir is the fleet's folder: the repository's path joined with the folder's below it.
	Dir string
	// Spec is the fleet's spec; nil when it has errors (Err).
	Spec *engine.Spec
	// Err is why the spec could not be used: a *engine.SpecError.
	Err error
}

// Name is the fleet's name (its spec's `fleet`), or "" when the spec has errors that leave it unknown.
func (f *Fleet) Name() string {
	if f.Spec != nil {
		return f.Spec.Fleet.Name
	}
	var se *engine.SpecError
	if errors.As(f.Err, &se) && se.Fleet != nil {
		return se.Fleet.Name
	}
	return ""
}

// Sources are the files the fleet's spec loader read (engine.Spec.Sources, or its error's).
func (f *Fleet) Sources() []string {
	if f.Spec != nil {
		return f.Spec.Sources
	}
	var se *engine.SpecError
	if errors.As(f.Err, &se) {
		return se.Sources
	}
	return nil
}

// Repo is a fleet repository: its folder, its fleets, sorted by folder, and the fleet folders that
// are other fleets' bases (not run).
type Repo struct {
	Root   string
	Fleets []*Fleet
	Bases  []string
}

// IsRepo reports whether the spec paths a command was given name a fleet repository: one path, a
// folder with no spec file of its own and at least one fleet folder below it (see the package doc).
// Anything else is one fleet's spec, read as it always was.
func IsRepo(paths []string) bool {
	if len(paths) != 1 {
		return false
	}
	dirs, err := fleetDirs(paths[0])
	return err == nil && len(dirs) > 0
}

// Open finds the fleets of the repository at root and loads each one's spec (a spec with errors is
// kept, with its error, so that the run reports it). Two fleet folders naming the same fleet are an
// error: a fleet's name is its record and its lock in the state.
func Open(root string) (*Repo, error) {
	dirs, err := fleetDirs(root)
	if err != nil {
		return nil, err
	}
	if len(dirs) == 0 {
		return nil, fmt.Errorf("%s is not a fleet repository: no folder below it holds a fleet.yaml", root)
	}
	var all []*Fleet
	for _, d := range dirs {
		f := &Fleet{Dir: d}
		f.Spec, f.Err = engine.LoadSpec([]string{d})
		all = append(all, f)
	}
	r := &Repo{Root: root}
	byName := map[string]string{}
	for _, f := range all {
		if isBase(f, all) {
			r.Bases = append(r.Bases, f.Dir)
			continue
		}
		if name := f.Name(); name != "" {
			if other, dup := byName[name]; dup {
				return nil, &DuplicateError{Fleet: name, Dirs: []string{other, f.Dir}}
			}
			byName[name] = f.Dir
		}
		r.Fleets = append(r.Fleets, f)
	}
	return r, nil
}

// isBase reports whether another fleet of all read a file of f's folder (extends it).
func isBase(f *Fleet, all []*Fleet) bool {
	dir, err := filepath.Abs(f.Dir)
	if err != nil {
		return false
	}
	for _, o := range all {
		if o == f {
			continue
		}
		for _, src := range o.Sources() {
			if abs, err := filepath.Abs(src); err == nil && filepath.Dir(abs) == dir {
				return true
			}
		}
	}
	return false
}

// DuplicateError is Open's error when two fleet folders name the same fleet.
type DuplicateError struct {
	Fleet string
	Dirs  []string
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("fleet %s is named by two folders, %s and %s", e.Fleet, e.Dirs[0], e.Dirs[1])
}

// Hint says what to do.
func (e *DuplicateError) Hint() string {
	return "a fleet's name is its record and its lock in the state: give each folder's fleet.yaml its own `fleet:` name"
}

// fleetDirs returns the fleet folders below root (sorted), none when root is not a folder or holds
// a spec file of its own.
func fleetDirs(root string) ([]string, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if !e.IsDir() && isSpecFile(e.Name()) {
			return nil, nil
		}
	}
	var dirs []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() || path == root {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if isFleetDir(path) {
			dirs = append(dirs, path)
			return filepath.SkipDir
		}
		if depth(root, path) >= MaxDepth {
			return filepath.SkipDir
		}
		return nil
	})
	slices.Sort(dirs)
	return dirs, err
}

// isSpecFile: a *.yaml or *.yml file that is not hidden (.gitlab-ci.yml is a CI file, not a spec).
func isSpecFile(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return (ext == ".yaml" || ext == ".yml") && !strings.HasPrefix(name, ".")
}

// isFleetDir: dir holds a fleet.yaml or fleet.yml file.
func isFleetDir(dir string) bool {
	for _, n := range []string{"fleet.yaml", "fleet.yml"} {
		if fi, err := os.Stat(filepath.Join(dir, n)); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}

// depth is how many folders path is below root.
func depth(root, path string) int {
	rel, err := filepath.Rel(root, path)
	if err != nil {
		return MaxDepth
	}
	return len(strings.Split(filepath.ToSlash(rel), "/"))
}

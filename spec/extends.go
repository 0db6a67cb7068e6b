package spec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// A spec is a stack of layers. The files named (folders expanded) are the top layer, layer 0. When one
// document of a layer sets `extends`, the spec it names (a file, or a folder's *.yaml and *.yml files,
// its path relative to the folder of the file that says so) is the layer below, and so on down. The
// documents of one layer merge as a spec always has: a key set twice is an error. Each layer then
// overrides the layers below it (see overlay).
//
// A file named that is also a base of another file named is read as a base only: `-f` may name a
// folder that holds a base and its overlay, and Fleet.Files, which names the bases, loads again into
// the same fleet.

// maxLayers bounds the depth of a chain of bases.
const maxLayers = 32

// keyExtends is the key of the base's path.
var keyExtends = keyOf[Document]("Extends")

// reader reads the files of one spec, each once, within the spec's size limits (see ReadSources).
type reader struct {
	size, nodes int
	full        bool // a limit was crossed: no further file is read
	diags       Diagnostics
	parsed      map[string][]Source // by identity
}

func newReader() *reader { return &reader{parsed: map[string][]Source{}} }

// identity is the key under which a file is read once: its absolute, cleaned path.
func identity(f string) string {
	if abs, err := filepath.Abs(f); err == nil {
		return abs
	}
	return filepath.Clean(f)
}

// read reads and parses f, once: a second read returns the documents of the first, named f.
func (r *reader) read(f string) []Source {
	id := identity(f)
	if srcs, ok := r.parsed[id]; ok {
		out := make([]Source, len(srcs))
		for i, s := range srcs {
			s.File = f
			out[i] = s
		}
		return out
	}
	r.parsed[id] = nil
	if r.full {
		return nil
	}
	data, err := readFile(f, maxSetSize-r.size)
	if errors.Is(err, errSetTooLarge) {
		r.diags = append(r.diags, Diagnostic{Pos: Pos{File: f, Line: 1, Col: 1}, Message: err.Error(),
			Hint: "a spec's files together are at most 16 MiB: pass only the spec's files or folder with -f"})
		r.full = true
		return nil
	}
	if err != nil {
		r.diags = append(r.diags, Diagnostic{Pos: Pos{File: f}, Message: err.Error()})
		return nil
	}
	r.size += len(data)
	if r.nodes += nodeEstimate(data); r.nodes > maxSetNodes {
		r.diags = append(r.diags, Diagnostic{Pos: Pos{File: f, Line: 1, Col: 1},
			Message: fmt.Sprintf("spec too large: its files make more than %d YAML nodes (lines and indicators counted before parsing)", maxSetNodes),
			Hint:    "a spec's files together make at most 200,000 YAML nodes: use count in a desktop group rather than listing each desktop, and pass only the spec's files or folder with -f"})
		r.full = true
		return nil
	}
	srcs, ds := ParseSources(f, data)
	r.diags = append(r.diags, ds...)
	r.parsed[id] = srcs
	return srcs
}

// extendsOf returns the first document of srcs whose top-level mapping sets extends to a string, and
// the node of that string; nil when none does (a value of another type is the schema's to report).
func extendsOf(srcs []Source) (Source, *yaml.Node) {
	for _, s := range srcs {
		root := s.Node
		if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
			root = root.Content[0]
		}
		if root.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(root.Content); i += 2 {
			k, v := root.Content[i], Unalias(root.Content[i+1])
			if k.Kind == yaml.ScalarNode && k.Value == keyExtends && v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str" && v.Value != "" {
				return s, v
			}
		}
	}
	return Source{}, nil
}

// baseFiles returns the files the extends value ext, written in from, names: the file, or a folder's
// *.yaml and *.yml files in name order. The reason is set, and no file returned, when the path cannot
// be read or is no spec file.
func baseFiles(from string, ext *yaml.Node) (files []string, reason, hint string) {
	p := ext.Value
	if !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(from), p)
	}
	hint = fmt.Sprintf("the path is relative to the folder of %s", from)
	st, err := os.Stat(p)
	if err != nil {
		var why error = err
		if pe, ok := err.(*os.PathError); ok {
			why = pe.Err
		}
		return nil, fmt.Sprintf("cannot read %s: %v", p, why), hint
	}
	if !st.IsDir() {
		if e := strings.ToLower(filepath.Ext(p)); e != ".yaml" && e != ".yml" {
			return nil, fmt.Sprintf("%s is not a fleet spec: a spec file's name ends in .yaml or .yml", p), "name the base spec's file or folder"
		}
		return []string{p}, "", ""
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, fmt.Sprintf("cannot read folder %s: %v", p, err), hint
	}
	for _, e := range entries {
		if ext := strings.ToLower(filepath.Ext(e.Name())); !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
			files = append(files, filepath.Join(p, e.Name()))
		}
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, fmt.Sprintf("no *.yaml or *.yml files in the folder %s", p), "name the base spec's file or folder"
	}
	return files, "", ""
}

// notSpec returns a reason when srcs, a base's documents, are not those of a fleet spec: each must be
// a mapping with a version key.
func notSpec(srcs []Source) string {
	if len(srcs) == 0 {
		return "holds no YAML document"
	}
	for _, s := range srcs {
		root := s.Node
		if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
			root = root.Content[0]
		}
		if root.Kind != yaml.MappingNode {
			return fmt.Sprintf("is not a fleet spec: a document at %s is not a mapping", Pos{File: s.File, Line: root.Line, Col: root.Column})
		}
		found := false
		for i := 0; i+1 < len(root.Content); i += 2 {
			found = found || root.Content[i].Value == keyOf[Document]("Version")
		}
		if !found {
			return fmt.Sprintf("is not a fleet spec: the document at %s has no version key", Pos{File: s.File, Line: root.Line, Col: root.Column})
		}
	}
	return ""
}

// failed reports whether reading one of files was an error (already reported).
func (r *reader) failed(files []string) bool {
	for _, d := range r.diags {
		for _, f := range files {
			if d.Severity == Error && d.Pos.File == f {
				return true
			}
		}
	}
	return false
}

// basesOf returns the identities of the files that some file of roots extends, directly or through
// other bases. It reads what it follows (read reports the problems of reading once); a base that cannot
// be read is left to layers to report.
func (r *reader) basesOf(roots []string) map[string]bool {
	bases := map[string]bool{}
	var follow func(f string)
	follow = func(f string) {
		from, ext := extendsOf(r.read(f))
		if ext == nil {
			return
		}
		files, reason, _ := baseFiles(from.File, ext)
		if reason != "" {
			return
		}
		for _, b := range files {
			if id := identity(b); !bases[id] {
				bases[id] = true
				follow(b)
			}
		}
	}
	for _, f := range roots {
		follow(f)
	}
	return bases
}

// layers reads the bases below top, the documents of the files named, and returns every document in
// load order: the deepest base's first, each document's Layer set. A base that cannot be read, that is
// not a spec, that is already part of the spec (a cycle) or that is deeper than maxLayers is an error
// at the extends value that names it, and is not read.
func (r *reader) layers(top []Source) []Source {
	stack := [][]Source{top}
	seen := map[string]bool{}
	for _, s := range top {
		seen[identity(s.File)] = true
	}
	chain := []string{}
	for cur := top; ; {
		from, ext := extendsOf(cur)
		if ext == nil {
			break
		}
		at := Pos{File: from.File, Line: ext.Line, Col: ext.Column}
		chain = append(chain, from.File)
		files, reason, hint := baseFiles(from.File, ext)
		if reason == "" && len(stack) >= maxLayers {
			reason, hint = fmt.Sprintf("more than %d bases deep", maxLayers-1), "a chain of bases is at most 31 long"
		}
		for _, f := range files {
			if reason == "" && seen[identity(f)] {
				reason = fmt.Sprintf("makes a cycle: %s → %s", strings.Join(chain, " → "), f)
				hint = "a base may not extend, directly or through its bases, a spec that extends it"
			}
		}
		var next []Source
		if reason == "" {
			for _, f := range files {
				next = append(next, r.read(f)...)
			}
			if why := notSpec(next); why != "" && !r.full && !r.failed(files) {
				reason, hint = fmt.Sprintf("%s %s", strings.Join(files, ", "), why), "extends names the file or folder of another fleet spec"
			}
		}
		if reason != "" {
			r.diags = append(r.diags, Diagnostic{Pos: at, Message: fmt.Sprintf("%s %q: %s", keyExtends, ext.Value, reason), Hint: hint})
			break
		}
		for _, f := range files {
			seen[identity(f)] = true
		}
		for i := range next {
			next[i].Layer = len(stack)
		}
		stack = append(stack, next)
		cur = next
	}
	var out []Source
	for i := len(stack) - 1; i >= 0; i-- {
		out = append(out, stack[i]...)
	}
	return out
}

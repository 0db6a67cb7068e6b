package spec

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Limits that bound the work Load does on hostile input.
const (
	// MaxCount is the largest count of one desktop group.
	MaxCount = 1000
	// MaxDesktops is the most desktops one fleet may have, all groups together.
	MaxDesktops = 10_000
	// maxNodes bounds the YAML nodes visited per document, aliases expanded (alias bombs).
	maxNodes = 200_000
	// maxFileSize bounds the size of one spec file, maxSetSize the size of all the files of a spec
	// together: files are read through a reader limited to what is left of both, so an endless input
	// (-f /dev/zero) costs no more than the limit.
	maxFileSize = 8 << 20
	maxSetSize  = 16 << 20
	// maxSetNodes bounds the YAML nodes all the files of a spec may make together, estimated before
	// parsing (nodeEstimate): the YAML parser builds every node of a file before maxNodes is checked,
	// at a few hundred bytes a node with its garbage, and two bytes of YAML ("0,") make a node. A
	// spec of the largest fleet, its 10,000 desktops written out one by one with a few keys each, is
	// estimated at under 200,000 nodes. Reading a spec at the limits takes under 100 MiB of memory.
	maxSetNodes = maxNodes
)

// Source is one parsed YAML document of a spec, before decoding: File is the path as given (joined with
// its folder when found in one, or with the folder of the file that extends it), Node the document's
// root (a yaml.DocumentNode).
type Source struct {
	File string
	Node *yaml.Node
	// Data is the whole file as read (shared by the file's documents): what Fleet.Digest sums.
	Data []byte
	// Layer is 0 for the documents of the files named, 1 for those of the base they extend, 2 for its
	// base, and so on (see extends.go).
	Layer int
}

// ReadSources expands paths (files, or folders whose *.yaml and *.yml files are read, not recursing;
// none means ".") and parses every document of every file, and of the bases they extend. Files and
// folders that cannot be read, YAML syntax errors and bases that cannot be followed are reported as
// diagnostics; the documents that parsed are returned in load order: the deepest base's first, the
// files named last. A file named that another file named extends is read as a base only.
//
// A spec is bounded: a file larger than 8 MiB, files together (bases included) larger than 16 MiB, or
// files together estimated to make more than 200,000 YAML nodes are reported at the file that crosses
// the limit, and no further file is read.
func ReadSources(paths ...string) ([]Source, Diagnostics) {
	r := newReader()
	roots := expandPaths(paths, &r.diags)
	bases := r.basesOf(roots)
	var top []Source
	for _, f := range roots {
		if !bases[identity(f)] {
			top = append(top, r.read(f)...)
		}
	}
	if len(top) == 0 && len(bases) > 0 {
		// Every file named is a base of another: they extend each other. Read them as named, so
		// that following their bases reports the cycle.
		for _, f := range roots {
			top = append(top, r.read(f)...)
		}
	}
	out := r.layers(top)
	return out, r.diags
}

// errSetTooLarge is readFile's error for a file that does not fit in what is left of maxSetSize.
var errSetTooLarge = errors.New("spec too large: its files together are larger than 16 MiB")

// readFile reads name, failing when it is larger than maxFileSize or than room, what is left of the
// spec's maxSetSize (errSetTooLarge). It never reads more than the smaller of the two, plus one byte.
func readFile(name string, room int) ([]byte, error) {
	fh, err := os.Open(name)
	if err != nil {
		return nil, errors.Unwrap(err) // the *PathError's path is already in the position
	}
	defer fh.Close()
	limit := min(maxFileSize, room)
	data, err := io.ReadAll(io.LimitReader(fh, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	switch {
	case len(data) <= limit:
		return data, nil
	case limit == maxFileSize:
		return nil, fmt.Errorf("file is larger than %d MiB", maxFileSize>>20)
	}
	return nil, errSetTooLarge
}

// nodeEstimate is a bound, counted without parsing, of the YAML nodes data makes: a node starts at a
// line or after an indicator: - : ? [ start at most one each, and , { at most two (a flow mapping's
// key and its empty value); a document adds one. It is meant for well-formed YAML: the parser stops
// at the first syntax error, and makes no more nodes than the text before it bounds.
func nodeEstimate(data []byte) int {
	n := 2
	for _, c := range []byte("\n-:?[") {
		n += bytes.Count(data, []byte{c})
	}
	for _, c := range []byte(",{") {
		n += 2 * bytes.Count(data, []byte{c})
	}
	return n
}

// expandPaths turns the arguments into the list of files to read, in order, without duplicates.
func expandPaths(paths []string, diags *Diagnostics) []string {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	var files []string
	seen := map[string]bool{}
	add := func(f string) {
		if !seen[filepath.Clean(f)] {
			seen[filepath.Clean(f)] = true
			files = append(files, f)
		}
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			*diags = append(*diags, Diagnostic{Pos: Pos{File: p}, Message: "cannot read: " + errors.Unwrap(err).Error()})
			continue
		}
		if !st.IsDir() {
			add(p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			*diags = append(*diags, Diagnostic{Pos: Pos{File: p}, Message: "cannot read folder: " + err.Error()})
			continue
		}
		var names []string
		for _, e := range entries {
			ext := strings.ToLower(filepath.Ext(e.Name()))
			if !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
				names = append(names, e.Name())
			}
		}
		sort.Strings(names)
		if len(names) == 0 {
			*diags = append(*diags, Diagnostic{Pos: Pos{File: p}, Message: "no *.yaml or *.yml files in this folder",
				Hint: "pass the spec's file or folder with -f"})
		}
		for _, n := range names {
			add(filepath.Join(p, n))
		}
	}
	return files
}

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// ParseSources parses every YAML document of data, read from the file named file. A syntax error is
// reported at its line; the documents before it are returned. It never panics.
func ParseSources(file string, data []byte) (out []Source, diags Diagnostics) {
	defer func() {
		if r := recover(); r != nil {
			diags = append(diags, Diagnostic{Pos: Pos{File: file, Line: 1, Col: 1}, Message: fmt.Sprintf("cannot parse YAML: %v", r)})
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			diags = append(diags, yamlError(file, data, err))
			break
		}
		if len(n.Content) == 0 {
			continue // a document with only comments
		}
		out = append(out, Source{File: file, Node: &n, Data: data})
	}
	if len(out) == 0 && len(diags) == 0 {
		diags = append(diags, Diagnostic{Pos: Pos{File: file, Line: 1, Col: 1}, Severity: Warning, Message: "no YAML document in this file"})
	}
	return out, diags
}

// yamlError turns a yaml.v3 parse error ("yaml: line 3: ...") into a diagnostic at that line. yaml.v3
// gives some errors no line ("unknown anchor 'x' referenced"): those are placed at the first alias of
// that name in data, or else at the start of the file, so that every diagnostic has a line.
func yamlError(file string, data []byte, err error) Diagnostic {
	msg := err.Error()
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		// yaml.v3 reports a block ended by a wrongly indented line where the block starts: point at
		// the line that breaks the indentation instead, when the lines from there show it.
		if strings.HasPrefix(m[2], "did not find expected") {
			if at, col, ok := misfit(data, line); ok {
				return Diagnostic{Pos: Pos{File: file, Line: at, Col: col}, Message: "YAML syntax: " + m[2],
					Hint: "this line is indented like no mapping or list above it; line up the keys of one mapping or list item, with spaces"}
			}
		}
		return Diagnostic{Pos: Pos{File: file, Line: line}, Message: "YAML syntax: " + m[2],
			Hint: "indent with spaces, the keys of one mapping or list item lined up; the mistake may be on a line above this one"}
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	pos := Pos{File: file, Line: 1, Col: 1}
	if m := unknownAnchorRe.FindStringSubmatch(msg); m != nil {
		if line, col, ok := findAlias(data, m[1]); ok {
			pos.Line, pos.Col = line, col
		}
		return Diagnostic{Pos: pos, Message: "YAML syntax: " + msg, Hint: "define the anchor with &" + m[1] + " before using *" + m[1]}
	}
	return Diagnostic{Pos: pos, Message: "YAML syntax: " + msg}
}

var unknownAnchorRe = regexp.MustCompile(`^unknown anchor '([^']*)' referenced$`)

// findAlias returns the 1-based line and column (in characters) of the first "*name" alias in data
// that is not followed by another anchor character.
func findAlias(data []byte, name string) (line, col int, ok bool) {
	token := []byte("*" + name)
	for off := 0; ; {
		i := bytes.Index(data[off:], token)
		if i < 0 {
			return 0, 0, false
		}
		at := off + i
		end := at + len(token)
		if end == len(data) || bytes.IndexByte([]byte(" \t\r\n,]}"), data[end]) >= 0 {
			before := data[:at]
			line = bytes.Count(before, []byte("\n")) + 1
			col = utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:]) + 1
			return line, col, true
		}
		off = end
	}
}

// Load reads a spec from paths (files, or folders whose *.yaml and *.yml files are read, not recursing;
// none means "."), and the bases it extends; merges all its documents into one Fleet (the files named
// over their base, see overlay.go), applies the defaults cascade, expands counts
// into desktop names and runs the cross-checks. It returns every problem found, not only the first,
// sorted by position. The Fleet is always non-nil but is complete and trustworthy only when the
// diagnostics hold no Error. Load never panics, whatever the input.
func Load(paths ...string) (*Fleet, Diagnostics) {
	srcs, diags := ReadSources(paths...)
	return Finish(srcs, diags)
}

// Finish completes Load for sources already read: it decodes and cross-checks them and adds the
// diagnostics to those of reading (read), sorted. When nothing was read, the reason reading gave is
// kept and "no fleet spec found" is added only when reading reported no error.
func Finish(srcs []Source, read Diagnostics) (*Fleet, Diagnostics) {
	fl, ds := decodeAll(srcs)
	if fl != nil {
		fl.Digest = digest(srcs)
		fl.Files = nil
		for i, s := range srcs {
			if i == 0 || srcs[i-1].File != s.File {
				fl.Files = append(fl.Files, s.File)
			}
		}
	}
	if len(srcs) == 0 {
		switch {
		case read.HasErrors():
			ds = nil
		case len(read) > 0:
			for i := range ds {
				ds[i].Pos = Pos{File: read[0].Pos.File, Line: 1, Col: 1}
			}
		}
	}
	diags := append(read, ds...)
	diags.Sort()
	return fl, diags
}

// digest is the SHA-256 of the files of srcs, in order, each once ("sha256:" and hex): the bytes that
// were parsed, never read a second time.
func digest(srcs []Source) string {
	h := sha256.New()
	for i, s := range srcs {
		if i > 0 && srcs[i-1].File == s.File {
			continue
		}
		fmt.Fprintf(h, "%s\x00%d\x00", s.File, len(s.Data))
		h.Write(s.Data)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// Parse is Load for one file's contents held in memory; name is used in positions, and the base it
// extends, if any, is read from disk relative to name's folder.
func Parse(name string, data []byte) (*Fleet, Diagnostics) {
	srcs, diags := ParseSources(name, data)
	r := newReader()
	r.parsed[identity(name)] = srcs
	srcs = r.layers(srcs)
	return Finish(srcs, append(diags, r.diags...))
}

// decodeAll decodes parsed documents into one Fleet and returns the diagnostics of decoding and
// cross-checking, unsorted (Finish sorts them with the others). No document at all is an error.
func decodeAll(srcs []Source) (*Fleet, Diagnostics) {
	var diags Diagnostics
	sch, err := ownSchema()
	if err != nil {
		// A broken build, not a broken spec: say so at every document rather than accept them unchecked.
		for _, s := range srcs {
			diags = append(diags, Diagnostic{Pos: Pos{File: s.File, Line: 1, Col: 1}, Message: "the fleet schema does not compile: " + err.Error()})
		}
		srcs = nil
	}
	docs := make([]*docInfo, 0, len(srcs))
	for _, s := range srcs {
		diags = append(diags, yaml11Power(s.File, s.Node)...)
		di, ds := decodeDocument(s, sch)
		diags = append(diags, ds...)
		if di != nil {
			docs = append(docs, di)
		}
	}
	fl, ds := assemble(docs)
	diags = append(diags, ds...)
	if len(srcs) == 0 && err == nil {
		diags = append(diags, Diagnostic{Message: "no fleet spec found: no YAML document was read"})
	}
	return fl, diags
}

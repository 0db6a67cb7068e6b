package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// PlanFileMode is the permission of a saved plan file. A plan holds no secret, but it does hold the
// fleet's names, emails and ids: it is readable by its owner only.
const PlanFileMode os.FileMode = 0o600

// SavePlan writes p to path as indented JSON (the plan's JSON form, docs/plan-json.md) followed by a
// newline. The write is atomic: the JSON goes to a temporary file in the same folder, which is synced
// and then renamed over path, so a crash leaves either the old file or the whole new one, never half a
// plan. The file has mode PlanFileMode whatever the umask, and also when path existed with other
// permissions (it is replaced, not rewritten). A plan whose FormatVersion is 0 is written with
// FormatVersion (p itself is not modified); a plan of another version is refused.
// On error nothing is left behind and an existing file at path is unchanged.
func SavePlan(path string, p *Plan) error {
	if p == nil {
		return errors.New("save plan: no plan")
	}
	cp := *p
	switch cp.FormatVersion {
	case 0:
		cp.FormatVersion = FormatVersion
	case FormatVersion:
	default:
		return fmt.Errorf("save plan: the plan has format_version %d; this deskfleet writes format_version %d",
			cp.FormatVersion, FormatVersion)
	}
	cp.Checksum = ""
	sum, err := planChecksum(&cp)
	if err != nil {
		return fmt.Errorf("save plan: %w", err)
	}
	cp.Checksum = sum
	b, err := json.MarshalIndent(&cp, "", "  ")
	if err != nil {
		return fmt.Errorf("save plan: %w", err)
	}
	b = append(b, '\n')
	if err := writePlanFile(path, b, PlanFileMode); err != nil {
		return fmt.Errorf("save plan: %w", err)
	}
	return nil
}

// writePlanFile writes b to a temporary file next to path with mode perm, syncs it, renames it over
// path and syncs the folder (best effort: not every system can sync a folder).
func writePlanFile(path string, b []byte, perm os.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	// CreateTemp makes the file 0600 already; Chmod states it and is not subject to the umask.
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if _, err = f.Write(b); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// Limits of a plan file, so that loading a file that is not a plan (apply /dev/zero, a log passed by
// mistake, a file made to exhaust memory) fails with an error instead of growing until the system kills
// the process. A plan of the largest fleet (spec.MaxDesktops desktops, every one created) is about
// 6 MiB with 30,000 objects and 190,000 values; each limit is more than twice what such a plan needs.
// Loading a file at the limits takes under 100 MiB of memory, whatever it holds.
const (
	// MaxPlanFileSize is the size of the largest plan file LoadPlan reads: 16 MiB.
	MaxPlanFileSize = 16 << 20
	// MaxPlanObjects is the most JSON objects a plan file may hold, and MaxPlanValues the most values
	// (objects, arrays, and the members and elements after the first of each), counted before the file
	// is decoded: a few bytes of JSON ({} or "",) decode to up to a hundred times as many bytes of
	// memory, which the file's size alone does not bound.
	MaxPlanObjects = 100_000
	MaxPlanValues  = 500_000
)

// LoadPlan reads a plan written by SavePlan. It refuses a file that is not a plan (no format_version)
// or whose format_version is not the one this deskfleet reads (FormatVersion), saying which version it
// reads; the plan must then be made again. Fields it does not know are ignored (new fields do not
// change the format version). Whether the plan is still current is for Stale to tell.
//
// A file larger than MaxPlanFileSize, or holding more than MaxPlanObjects objects or MaxPlanValues
// values, is refused before it is decoded, with an error naming the file and the limit; no more than
// MaxPlanFileSize+1 bytes are read from any file (a pipe or a device included).
func LoadPlan(path string) (*Plan, error) {
	b, err := readPlanFile(path)
	if err != nil {
		return nil, err
	}
	return decodePlanFile(path, b)
}

// readPlanFile reads at most MaxPlanFileSize bytes of path, failing when it holds more.
func readPlanFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load plan: %w", err)
	}
	defer f.Close()
	tooBig := fmt.Errorf("load plan %s: the file is larger than %d MiB, the most a plan file may be",
		path, MaxPlanFileSize>>20)
	// One allocation of the file's size (or of the limit, for a device or a pipe, whose size is not
	// known): growing a buffer as it fills would hold twice as much for a moment.
	size := int64(MaxPlanFileSize)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		if st.Size() > MaxPlanFileSize {
			return nil, tooBig
		}
		size = st.Size()
	}
	b := make([]byte, 0, size+1)
	r := io.LimitReader(f, MaxPlanFileSize+1)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("load plan: %w", err)
		}
		if len(b) > MaxPlanFileSize {
			return nil, tooBig
		}
		if len(b) == cap(b) { // a regular file that grew since Stat
			b = slices.Grow(b, min(cap(b), MaxPlanFileSize+1-len(b)))
		}
	}
	return b, nil
}

// decodePlanFile decodes a plan file's bytes read from path (named in errors); see LoadPlan.
func decodePlanFile(path string, b []byte) (*Plan, error) {
	switch objects, values := jsonShape(b); {
	case objects > MaxPlanObjects:
		return nil, fmt.Errorf("load plan %s: the file holds more than %d JSON objects, the most a plan file may hold",
			path, MaxPlanObjects)
	case values > MaxPlanValues:
		return nil, fmt.Errorf("load plan %s: the file holds more than %d JSON values, the most a plan file may hold",
			path, MaxPlanValues)
	}
	var head struct {
		FormatVersion *int `json:"format_version"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("load plan %s: not a deskfleet plan file: %w", path, err)
	}
	switch {
	case head.FormatVersion == nil:
		return nil, fmt.Errorf("load plan %s: not a deskfleet plan file (no format_version)", path)
	case *head.FormatVersion != FormatVersion:
		return nil, fmt.Errorf("load plan %s: the file has format_version %d; this deskfleet reads format_version %d: make the plan again with this deskfleet",
			path, *head.FormatVersion, FormatVersion)
	}
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("load plan %s: %w", path, err)
	}
	if want := p.Checksum; want != "" {
		p.Checksum = ""
		got, err := planChecksum(&p)
		p.damaged = err != nil || got != want
	}
	return &p, nil
}

// planChecksum is the "sha256:HEX" of p's JSON form (decoding and writing a plan again gives the same
// bytes, docs/plan-json.md, so a loaded plan sums as it did when saved).
func planChecksum(p *Plan) (string, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// jsonShape counts, without decoding, the objects of JSON text b and its values: every object and
// array, and every member or element after a comma (those before the first comma of a container are
// not counted: the counts are a bound for valid JSON within one per container). Text inside strings is
// skipped. Invalid JSON gives meaningless counts, and json.Unmarshal then refuses it before decoding
// anything.
func jsonShape(b []byte) (objects, values int) {
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case '{':
			objects++
			values++
		case '[', ',':
			values++
		}
	}
	return objects, values
}

// LooksLikePlanFile reports whether path is a regular file, not named *.yaml or *.yml, whose content
// starts as a JSON object does (a plan file SavePlan wrote), telling a saved plan from a spec given
// where either may be. It reads at most 512 bytes.
func LooksLikePlanFile(path string) bool {
	if ext := strings.ToLower(filepath.Ext(path)); ext == ".yaml" || ext == ".yml" {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return false
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	head = bytes.TrimLeft(bytes.TrimPrefix(head[:n], []byte("\xef\xbb\xbf")), " \t\r\n")
	return len(head) > 0 && head[0] == '{'
}

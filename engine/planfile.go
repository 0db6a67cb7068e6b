package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

// LoadPlan reads a plan written by SavePlan. It refuses a file that is not a plan (no format_version)
// or whose format_version is not the one this deskfleet reads (FormatVersion), saying which version it
// reads; the plan must then be made again. Fields it does not know are ignored (new fields do not
// change the format version). Whether the plan is still current is for Stale to tell.
func LoadPlan(path string) (*Plan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load plan: %w", err)
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
	return &p, nil
}

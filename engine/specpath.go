package engine

import (
	"os"
	"path/filepath"
	"strings"
)

// IsSpecPath tells a spec from a saved plan where a command takes either (apply's positional
// argument): a folder, a file named *.yaml or *.yml (even one that does not exist), or an existing
// file that is not a JSON object (a plan file is one: LooksLikePlanFile). A path that does not exist
// is a plan file, which the command's own error then names.
func IsSpecPath(path string) bool {
	if ext := strings.ToLower(filepath.Ext(path)); ext == ".yaml" || ext == ".yml" {
		return true
	}
	fi, err := os.Stat(path)
	if err != nil {
		return false
	}
	return fi.IsDir() || !LooksLikePlanFile(path)
}

// Command gendoc writes docs/spec.md, the spec's reference, from fleet.schema.json and the studio
// example. Run it through `go generate ./schema`, which runs it in the schema folder after gen has
// written the schema.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/deskfleet/deskfleet/schema/internal/specdoc"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gendoc:", err)
		os.Exit(1)
	}
}

func run() error {
	in, err := specdoc.ReadInput("..")
	if err != nil {
		return err
	}
	out, err := specdoc.Render(in)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join("..", filepath.FromSlash(specdoc.DocPath)), out, 0o644)
}

// Command gen writes fleet.schema.json from the spec types. Run it through `go generate ./schema`, which
// runs it in the schema folder.
package main

import (
	"fmt"
	"os"

	"github.com/deskfleet/deskfleet/schema"
)

func main() {
	out, err := schema.Generate("../spec")
	if err == nil {
		err = os.WriteFile("fleet.schema.json", out, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

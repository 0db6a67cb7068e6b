// Command deskfleet runs a fleet of GPU cloud desktops as code: validate a YAML spec, plan it against the
// live state of the cloud-desktop API, apply the plan, and report drift.
package main

import "os"

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

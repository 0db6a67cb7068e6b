package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine"
)

// Flags of import.
const (
	flagFleet      = "fleet"
	flagSite       = "site"
	flagNamePrefix = "name-prefix"
	flagLabel      = "label"
	flagAdopt      = "adopt"
)

func importCommand() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "write a spec (YAML on stdout) describing live desktops and the sub-accounts bound to them",
		UsageText: "deskfleet import --fleet NAME [--site SITE]... [--name-prefix PREFIX] [--label LABEL] [--adopt] > fleet.yaml",
		Description: "Reads the live desktops (reads only, unless --adopt) and writes a spec that describes them, to\n" +
			"bring desktops made in the console under deskfleet. The filters apply to desktops; the spec's\n" +
			"accounts are the sub-accounts bound to the desktops kept, and its bindings those bindings.\n\n" +
			"How the spec is written:\n" +
			"  - desktops named name, name_001, name_002, ... in sequence that share a site, product, network,\n" +
			"    bandwidth, billing and label become one group with count; any other desktop is a group of its own;\n" +
			"  - every group has protect: true (never deleted, replaced or rebuilt until you set protect: false);\n" +
			"  - the image: QueryVm does not report a desktop's image, so import writes the only image usable at\n" +
			"    the desktop's site that QueryImages lists for its product; when there are several it writes the\n" +
			"    first with a \"# TODO: check the image\" comment and a warning on stderr (with --adopt the state\n" +
			"    then does not record an image, so correcting it in the spec does not rebuild the desktops);\n" +
			"  - labels are written (and so enforced from then on); power is not (not enforced); monthly desktops\n" +
			"    get a plan `monthly` with autoRenew false (QueryVm does not report auto-renewal: set it);\n" +
			"  - desktops whose name another live desktop shares are left out, with a warning.\n" +
			"Planned against the same cloud the spec shows only adoptions (nothing at all with --adopt).\n\n" +
			"--adopt also records the desktops and accounts in the state, protected, under the fleet's lock\n" +
			"(exit 4, naming the holder, when another run holds it). A desktop or sub-account belongs to one\n" +
			"fleet of a state: when another fleet manages one of them, nothing is recorded (exit 1, naming it;\n" +
			"`deskfleet state forget --fleet OTHER NAME` releases it there).\n\n" +
			"Exit codes: 0 written, 1 error, 4 lock held (--adopt).\n\n" +
			"Examples:\n" +
			"   deskfleet import --fleet studio --endpoint sim > fleet.yaml\n" +
			"   deskfleet import --fleet render --site 宿迁A --name-prefix render > render.yaml\n" +
			"   deskfleet import --fleet studio --label team-a --adopt > fleet.yaml && deskfleet plan",
		Flags: append(append([]cli.Flag{
			&cli.StringFlag{Name: flagFleet, Required: true, Usage: "the spec's fleet `NAME` (the key of its state record)"},
			&cli.StringSliceFlag{Name: flagSite, Usage: "import only desktops at `SITE` (name or id; repeatable)"},
			&cli.StringFlag{Name: flagNamePrefix, Usage: "import only desktops whose name starts with `PREFIX`"},
			&cli.StringFlag{Name: flagLabel, Usage: "import only desktops whose label is exactly `LABEL` (\"\" for none)"},
			&cli.BoolFlag{Name: flagAdopt, Usage: "also record the imported desktops and accounts in the state (protected)"},
		}, apiFlags()...), stateFlags()...),
		Action: runImport,
	}
}

func runImport(c *cli.Context) error {
	opt := engine.ImportOptions{Fleet: c.String(flagFleet), Sites: c.StringSlice(flagSite),
		NamePrefix: c.String(flagNamePrefix), Now: time.Now()}
	if c.IsSet(flagLabel) {
		opt.Label = new(c.String(flagLabel))
	}
	sess, err := openSession(c)
	if err != nil {
		return err
	}
	defer sess.close()
	im, err := sess.Import(c.Context, opt)
	if err != nil {
		return withHint(err, "")
	}
	for _, w := range im.Warnings {
		fmt.Fprintln(c.App.ErrWriter, "warning:", w)
	}
	if c.Bool(flagAdopt) {
		if err := sess.Adopt(c.Context, opt.Fleet, im, c.Duration(flagLockTimeout)); err != nil {
			return fleetError(c, err)
		}
		fmt.Fprintf(c.App.ErrWriter, "adopted %s and %s into fleet %s (protected)\n",
			plural(len(im.Desktops), "desktop"), plural(len(im.Accounts), "account"), opt.Fleet)
	}
	_, err = c.App.Writer.Write(im.YAML)
	return err
}

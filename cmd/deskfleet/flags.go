package main

import (
	"errors"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/provider/connect"
	"github.com/deskfleet/deskfleet/provider/gcw"
)

// Flags shared by every command that talks to the API. They are attached to each such command (not
// only to the app) so that `deskfleet plan --endpoint sim` works as well as `deskfleet --endpoint sim
// plan`; each has a DESKFLEET_<NAME> environment variable.
const (
	flagEndpoint    = "endpoint"
	flagRate        = "rate"
	flagParallelism = "parallelism"
	flagLogLevel    = "log-level"
	flagLogFormat   = "log-format"
)

// defaultSimData is where `--endpoint sim` keeps its cloud.
var defaultSimData = connect.DefaultSimData

func apiFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: flagEndpoint, EnvVars: []string{"DESKFLEET_ENDPOINT"}, Value: gcw.DefaultEndpoint,
			Usage: "API base URL; \"sim\" (or \"sim:PATH\") runs the built-in emulator in-process on .deskfleet/sim.db"},
		&cli.Float64Flag{Name: flagRate, EnvVars: []string{"DESKFLEET_RATE"}, Value: 0,
			Usage: "upper bound on API requests per second, shared by all calls; below it the rate adapts (as fast as --parallelism allows until the API throttles, then near what it accepts); 0: no bound; negative: no limit, no adapting"},
		&cli.IntFlag{Name: flagParallelism, EnvVars: []string{"DESKFLEET_PARALLELISM"}, Value: 8,
			Usage: "API requests in flight at once"},
		&cli.StringFlag{Name: flagLogLevel, EnvVars: []string{"DESKFLEET_LOG_LEVEL"}, Value: "warn",
			Usage: "log level on stderr: debug, info, warn or error (no level ever logs a secret or signature)"},
		&cli.StringFlag{Name: flagLogFormat, EnvVars: []string{"DESKFLEET_LOG_FORMAT"}, Value: "text",
			Usage: "log format: text or json"},
	}
}

// noColorFlag is --no-color, which every command accepts (those that print no colour ignore it).
func noColorFlag() cli.Flag {
	return &cli.BoolFlag{Name: flagNoColor, EnvVars: []string{"DESKFLEET_NO_COLOR"},
		Usage: "no colour, even at a terminal (NO_COLOR is honoured too)"}
}

// openAPI connects to the API the flags name (connect.Open: credentials from CDS_SECRET_ID and
// CDS_SECRET_KEY only; "sim" runs the emulator in this process).
func openAPI(c *cli.Context) (*connect.API, error) {
	logger, err := connect.NewLogger(c.App.ErrWriter, c.String(flagLogLevel), c.String(flagLogFormat))
	if err != nil {
		return nil, err
	}
	api, err := connect.Open(gcw.Config{UserAgent: "deskfleet/" + version, Endpoint: c.String(flagEndpoint),
		Rate: c.Float64(flagRate), MaxConcurrent: c.Int(flagParallelism), Logger: logger})
	var he *connect.HintedError
	if errors.As(err, &he) {
		return nil, withHint(err, he.Hint)
	}
	return api, err
}

// flagChangedSince limits a run over a fleet repository to the fleets changed since a Git ref.
const flagChangedSince = "changed-since"

// selectFlags choose what plan, apply and drift look at: --target and --exclude (verb: what the
// command does to what matches) and --changed-since.
func selectFlags(verb string) []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: flagTarget, Usage: verb + " only desktops and accounts matching `GLOB` (repeatable)"},
		&cli.StringSliceFlag{Name: flagExclude, Usage: "leave out desktops and accounts matching `GLOB` (repeatable)"},
		&cli.StringFlag{Name: flagChangedSince, Usage: "with a fleet repository (-f DIR of fleet folders): run only the fleets whose files differ from Git `REF` (committed, staged, unstaged or untracked)"},
	}
}

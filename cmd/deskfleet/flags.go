package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/provider/gcw"
	"github.com/deskfleet/deskfleet/provider/sim"
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

// simEndpoint is the --endpoint value that runs the emulator in-process on a local file.
const simEndpoint = "sim"

// simTaskTimeEnv sets how long the in-process emulator's tasks take (default 2s): tests and demos
// shorten it.
const simTaskTimeEnv = "DESKFLEET_SIM_TASK_TIME"

// defaultSimData is where `--endpoint sim` keeps its cloud, so successive runs see one cloud.
var defaultSimData = filepath.Join(".deskfleet", "sim.db")

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

// newLogger builds the stderr logger from --log-level and --log-format.
func newLogger(c *cli.Context, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.String(flagLogLevel))); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.String(flagLogLevel))
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.String(flagLogFormat) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", c.String(flagLogFormat))
	}
}

// apiSession is a connected client plus whatever must be released when the command ends (the
// in-process emulator of --endpoint sim).
type apiSession struct {
	Client   *gcw.Client
	Endpoint string // for display: never carries credentials
	close    func() error
}

// Calls returns the number of HTTP requests sent so far (retries included): the "API calls" of a plan.
func (s *apiSession) Calls() int { return s.Client.Requests() }

// Close releases the session; for --endpoint sim it stops the emulator and saves its file.
func (s *apiSession) Close() error {
	if s.close == nil {
		return nil
	}
	return s.close()
}

// openAPI connects to the endpoint the flags name. For a real endpoint the credentials come from
// CDS_SECRET_ID and CDS_SECRET_KEY only; for "sim" the emulator runs in this process behind a loopback
// listener with a throwaway key, so every call still crosses the real wire format and signing.
func openAPI(c *cli.Context) (*apiSession, error) {
	logger, err := newLogger(c, c.App.ErrWriter)
	if err != nil {
		return nil, err
	}
	cfg := gcw.Config{
		UserAgent:     "deskfleet/" + version,
		Endpoint:      c.String(flagEndpoint),
		Rate:          c.Float64(flagRate),
		MaxConcurrent: c.Int(flagParallelism),
		Logger:        logger,
	}
	if cfg.MaxConcurrent < 1 {
		return nil, fmt.Errorf("--parallelism %d: want 1 or more", cfg.MaxConcurrent)
	}
	if cfg.Endpoint == simEndpoint || strings.HasPrefix(cfg.Endpoint, simEndpoint+":") {
		return openInProcessSim(cfg, strings.TrimPrefix(strings.TrimPrefix(cfg.Endpoint, simEndpoint), ":"))
	}
	cfg.AccessKeyID, cfg.Secret, err = gcw.CredentialsFromEnv()
	if err != nil {
		return nil, withHint(err, "export both variables, or try the built-in emulator with --endpoint sim")
	}
	client, err := gcw.New(cfg)
	if err != nil {
		return nil, err
	}
	return &apiSession{Client: client, Endpoint: cfg.Endpoint}, nil
}

// openInProcessSim starts the emulator on dataFile (default .deskfleet/sim.db) in this process
// (sim.OpenLocal) and returns a real client pointed at it.
func openInProcessSim(cfg gcw.Config, dataFile string) (*apiSession, error) {
	if dataFile == "" {
		dataFile = defaultSimData
	}
	taskTime := 2 * time.Second
	if v := os.Getenv(simTaskTimeEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("%s=%q: want a duration such as 2s or 50ms", simTaskTimeEnv, v)
		}
		taskTime = d
	}
	local, err := sim.OpenLocal(dataFile, taskTime)
	var dfe *sim.DataFileError
	if errors.As(err, &dfe) {
		return nil, withHint(err, "delete the file to start a fresh emulated cloud")
	} else if err != nil {
		return nil, err
	}
	cfg.Endpoint, cfg.AccessKeyID, cfg.Secret = local.Endpoint, local.KeyID, local.Secret
	client, err := gcw.New(cfg)
	if err != nil {
		return nil, errors.Join(err, local.Stop())
	}
	closeFn := func() error {
		// The client's idle connections first, or stopping the emulator waits for them.
		client.CloseIdleConnections()
		return local.Stop()
	}
	return &apiSession{Client: client, Endpoint: "sim:" + dataFile, close: closeFn}, nil
}

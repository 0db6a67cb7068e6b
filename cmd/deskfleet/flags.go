package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/provider"
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
		&cli.Float64Flag{Name: flagRate, EnvVars: []string{"DESKFLEET_RATE"}, Value: 10,
			Usage: "API requests per second (token bucket shared by all calls)"},
		&cli.IntFlag{Name: flagParallelism, EnvVars: []string{"DESKFLEET_PARALLELISM"}, Value: 8,
			Usage: "API requests in flight at once"},
		&cli.StringFlag{Name: flagLogLevel, EnvVars: []string{"DESKFLEET_LOG_LEVEL"}, Value: "warn",
			Usage: "log level on stderr: debug, info, warn or error (no level ever logs a secret or signature)"},
		&cli.StringFlag{Name: flagLogFormat, EnvVars: []string{"DESKFLEET_LOG_FORMAT"}, Value: "text",
			Usage: "log format: text or json"},
	}
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
	Client   provider.Client
	Endpoint string // for display: never carries credentials
	close    func() error
	calls    *countingTransport
}

// Calls returns the number of HTTP requests sent so far (retries included): the "API calls" of a plan.
func (s *apiSession) Calls() int {
	if s.calls == nil {
		return 0
	}
	return int(s.calls.n.Load())
}

// countingTransport counts the requests that go through it.
type countingTransport struct {
	base http.RoundTripper
	n    atomic.Int64
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.base.RoundTrip(r)
}

// CloseIdleConnections closes the base transport's idle connections (http.Client.CloseIdleConnections
// reaches it through this method).
func (t *countingTransport) CloseIdleConnections() {
	if ci, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

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
	counter := &countingTransport{base: http.DefaultTransport}
	cfg := gcw.Config{
		HTTPClient:    &http.Client{Transport: counter},
		Endpoint:      c.String(flagEndpoint),
		Rate:          c.Float64(flagRate),
		MaxConcurrent: c.Int(flagParallelism),
		Logger:        logger,
	}
	if cfg.MaxConcurrent < 1 {
		return nil, fmt.Errorf("--parallelism %d: want 1 or more", cfg.MaxConcurrent)
	}
	if cfg.Endpoint == simEndpoint || strings.HasPrefix(cfg.Endpoint, simEndpoint+":") {
		s, err := openInProcessSim(cfg, strings.TrimPrefix(strings.TrimPrefix(cfg.Endpoint, simEndpoint), ":"))
		if s != nil {
			s.calls = counter
		}
		return s, err
	}
	cfg.AccessKeyID, cfg.Secret, err = gcw.CredentialsFromEnv()
	if err != nil {
		return nil, withHint(err, "export both variables, or try the built-in emulator with --endpoint sim")
	}
	client, err := gcw.New(cfg)
	if err != nil {
		return nil, err
	}
	return &apiSession{Client: client, Endpoint: cfg.Endpoint, calls: counter}, nil
}

// openInProcessSim starts the emulator on dataFile (default .deskfleet/sim.db, created 0600 in a 0700
// folder) behind a loopback listener (sim.ServeLocal) and returns a real client pointed at it.
func openInProcessSim(cfg gcw.Config, dataFile string) (*apiSession, error) {
	if dataFile == "" {
		dataFile = defaultSimData
	}
	if err := os.MkdirAll(filepath.Dir(dataFile), 0o700); err != nil {
		return nil, fmt.Errorf("emulator data folder: %w", err)
	}
	secret, err := randomHex(16)
	if err != nil {
		return nil, err
	}
	const keyID = "deskfleet-sim"
	taskTime := 2 * time.Second
	if v := os.Getenv(simTaskTimeEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("%s=%q: want a duration such as 2s or 50ms", simTaskTimeEnv, v)
		}
		taskTime = d
	}
	emu, err := sim.New(sim.Options{
		Keys:         map[string]string{keyID: secret},
		DataFile:     dataFile,
		TaskDuration: taskTime,
	})
	if err != nil {
		return nil, withHint(fmt.Errorf("emulator %s: %w", dataFile, err), "delete the file to start a fresh emulated cloud")
	}
	endpoint, stopSim, err := sim.ServeLocal(emu)
	if err != nil {
		return nil, errors.Join(err, emu.Close())
	}
	cfg.Endpoint, cfg.AccessKeyID, cfg.Secret = endpoint, keyID, secret
	client, err := gcw.New(cfg)
	if err != nil {
		return nil, errors.Join(err, stopSim())
	}
	closeFn := func() error {
		// The client's idle connections first, or stopping the emulator waits for them.
		if cfg.HTTPClient != nil {
			cfg.HTTPClient.CloseIdleConnections()
		}
		return stopSim()
	}
	return &apiSession{Client: client, Endpoint: "sim:" + dataFile, close: closeFn}, nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

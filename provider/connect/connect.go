// Package connect opens the API an endpoint names, for a front end: the real API, signed with the
// credentials of CDS_SECRET_ID and CDS_SECRET_KEY (read from the environment only: never from a flag,
// which shell history and process lists keep), or, for "sim" or "sim:PATH", the emulator run in this
// process behind a loopback listener with a throwaway key, so that every call still crosses the real
// wire format and signing.
package connect

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/deskfleet/deskfleet/provider/gcw"
	"github.com/deskfleet/deskfleet/provider/sim"
)

// Sim is the endpoint that runs the emulator in-process, on DefaultSimData ("sim") or on PATH
// ("sim:PATH").
const Sim = "sim"

// SimTaskTimeEnv sets how long the in-process emulator's tasks take (default 2s): tests and demos
// shorten it.
const SimTaskTimeEnv = "DESKFLEET_SIM_TASK_TIME"

// DefaultSimData is where the in-process emulator keeps its cloud, so successive runs see one cloud.
var DefaultSimData = filepath.Join(".deskfleet", "sim.db")

// API is a connected client plus whatever must be released when the front end is done with it (the
// in-process emulator).
type API struct {
	Client *gcw.Client
	// Endpoint is for display: it never carries credentials.
	Endpoint string
	close    func() error
}

// Calls returns the number of HTTP requests sent so far (retries included): the "API calls" of a plan.
func (a *API) Calls() int { return a.Client.Requests() }

// Close releases the API; for the emulator it stops it and saves its file.
func (a *API) Close() error {
	if a.close == nil {
		return nil
	}
	return a.close()
}

// HintedError is an error of Open with what to do about it.
type HintedError struct {
	Err  error
	Hint string
}

func (e *HintedError) Error() string { return e.Err.Error() }
func (e *HintedError) Unwrap() error { return e.Err }

// Open connects to cfg.Endpoint. For a real endpoint the credentials come from CDS_SECRET_ID and
// CDS_SECRET_KEY only (those of cfg are ignored); a missing one is a *HintedError.
func Open(cfg gcw.Config) (*API, error) {
	if cfg.MaxConcurrent < 1 {
		return nil, fmt.Errorf("--parallelism %d: want 1 or more", cfg.MaxConcurrent)
	}
	if cfg.Endpoint == Sim || strings.HasPrefix(cfg.Endpoint, Sim+":") {
		return openSim(cfg, strings.TrimPrefix(strings.TrimPrefix(cfg.Endpoint, Sim), ":"))
	}
	var err error
	cfg.AccessKeyID, cfg.Secret, err = gcw.CredentialsFromEnv()
	if err != nil {
		return nil, &HintedError{Err: err, Hint: "export both variables, or try the built-in emulator with --endpoint sim"}
	}
	client, err := gcw.New(cfg)
	if err != nil {
		return nil, err
	}
	return &API{Client: client, Endpoint: cfg.Endpoint}, nil
}

// openSim starts the emulator on dataFile (default DefaultSimData) in this process (sim.OpenLocal)
// and returns a real client pointed at it.
func openSim(cfg gcw.Config, dataFile string) (*API, error) {
	if dataFile == "" {
		dataFile = DefaultSimData
	}
	taskTime := 2 * time.Second
	if v := os.Getenv(SimTaskTimeEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("%s=%q: want a duration such as 2s or 50ms", SimTaskTimeEnv, v)
		}
		taskTime = d
	}
	local, err := sim.OpenLocal(dataFile, taskTime)
	var dfe *sim.DataFileError
	if errors.As(err, &dfe) {
		return nil, &HintedError{Err: err, Hint: "delete the file to start a fresh emulated cloud"}
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
	return &API{Client: client, Endpoint: "sim:" + dataFile, close: closeFn}, nil
}

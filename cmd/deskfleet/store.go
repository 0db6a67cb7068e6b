package main

import (
	"os"
	"os/user"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/bolt"
)

// Flags naming the state store and how long to wait for its lock.
const (
	flagState       = "state"
	flagLockTimeout = "lock-timeout"
)

// defaultStatePath is where the state lives unless --state says otherwise: relative to the working
// directory, next to the spec, like .deskfleet/sim.db.
var defaultStatePath = filepath.Join(".deskfleet", "state.db")

// stateFileFlag is --state alone, for the commands that never wait for the lock (state ...).
func stateFileFlag() cli.Flag {
	return &cli.StringFlag{Name: flagState, EnvVars: []string{"DESKFLEET_STATE"}, Value: defaultStatePath,
		Usage: "the state file (bbolt; created 0600 in a 0700 folder by the first apply, never by a read)"}
}

// stateFlags are --state and --lock-timeout, attached to every command that reads or writes the state.
func stateFlags() []cli.Flag {
	return []cli.Flag{
		stateFileFlag(),
		&cli.DurationFlag{Name: flagLockTimeout, EnvVars: []string{"DESKFLEET_LOCK_TIMEOUT"}, Value: 0,
			Usage: "wait this long for the fleet's lock when another run holds it (0s: fail at once, naming the holder)"},
	}
}

// openStore opens the state store --state names. It creates nothing: a missing file reads as empty,
// and is created by the first write (an apply's lock). The caller closes the store.
func openStore(c *cli.Context) (state.Store, error) {
	s, err := bolt.Open(c.String(flagState), bolt.Options{})
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return s, nil
}

// currentHolder describes this process as a lock holder: the user (from the OS, else $USER), host,
// pid, the command it runs, since now.
func currentHolder(command string) state.Holder {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = "unknown"
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return state.Holder{User: name, Host: host, PID: os.Getpid(), Command: command, Since: time.Now()}
}

package main

import (
	"context"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/bolt"
	"github.com/deskfleet/deskfleet/state/postgres"
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
		Usage: "where the state lives: a file (bbolt; created 0600 in a 0700 folder by the first apply, never by " +
			"a read), or postgres://USER@HOST/DB for a team's shared state (password from PGPASSWORD or ~/.pgpass, " +
			"or in the URL: never printed)"}
}

// stateFlags are --state and --lock-timeout, attached to every command that reads or writes the state.
func stateFlags() []cli.Flag {
	return []cli.Flag{
		stateFileFlag(),
		&cli.DurationFlag{Name: flagLockTimeout, EnvVars: []string{"DESKFLEET_LOCK_TIMEOUT"}, Value: 0,
			Usage: "wait this long for the fleet's lock when another run holds it (0s: fail at once, naming the holder)"},
	}
}

// openStore opens the state store --state names. The caller closes the store.
func openStore(c *cli.Context) (state.Store, error) {
	return openStoreAt(c.Context, c.String(flagState))
}

// openStoreAt opens the store at location: a PostgreSQL URL (postgres://...), whose schema is created
// or migrated on first use, or else a bbolt file, which nothing creates until the first write (an
// apply's lock): a missing file reads as empty.
func openStoreAt(ctx context.Context, location string) (state.Store, error) {
	if postgres.IsDSN(location) {
		s, err := postgres.Open(ctx, location, postgres.Options{})
		if err != nil {
			return nil, withHint(err, "check the URL, that the server is reachable and that the role may create tables "+
				"in the database (the password comes from the URL, PGPASSWORD or ~/.pgpass)")
		}
		return s, nil
	}
	s, err := bolt.Open(location, bolt.Options{})
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return s, nil
}

// stateLocation is --state as messages show it: a PostgreSQL URL with its password masked.
func stateLocation(c *cli.Context) string { return describeLocation(c.String(flagState)) }

// describeLocation shows a state location without its secret: a PostgreSQL URL's password is masked.
func describeLocation(location string) string {
	if postgres.IsDSN(location) {
		return postgres.Redact(location)
	}
	return location
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

// commandLine is args as the journal records it: a PostgreSQL URL given to --state, --to or
// DESKFLEET_STATE-like flags has its password masked, since the journal is read by everyone who can
// read the state.
func commandLine(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if name, value, ok := strings.Cut(a, "="); ok && strings.HasPrefix(name, "-") {
			out[i] = name + "=" + describeLocation(value)
			continue
		}
		out[i] = describeLocation(a)
	}
	return strings.Join(out, " ")
}

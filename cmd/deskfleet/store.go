package main

import (
	"context"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/stores"
)

// Flags naming the state store and how long to wait for its lock.
const (
	flagState       = "state"
	flagLockTimeout = "lock-timeout"
)

// stateFileFlag is --state alone, for the commands that never wait for the lock (state ...).
func stateFileFlag() cli.Flag {
	return &cli.StringFlag{Name: flagState, EnvVars: []string{"DESKFLEET_STATE"}, Value: stores.DefaultLocation,
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

// openStoreAt opens the store at location (stores.Open), with a hint for a database it cannot reach.
func openStoreAt(ctx context.Context, location string) (state.Store, error) {
	s, err := stores.Open(ctx, location)
	if err != nil && stores.IsShared(location) {
		return nil, withHint(err, "check the URL, that the server is reachable and that the role may create tables "+
			"in the database (the password comes from the URL, PGPASSWORD or ~/.pgpass)")
	}
	return s, err
}

// stateLocation is --state as messages show it: a PostgreSQL password masked.
func stateLocation(c *cli.Context) string { return stores.Describe(c.String(flagState)) }

package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine/render"
	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/stores"
)

// Flags of state migrate.
const (
	flagMigrateTo    = "to"
	flagMigrateForce = "force"
)

// stateMigrateCommand copies fleets' records, journal included, from one store to another: from a
// person's state file to the team's PostgreSQL database when a fleet moves into CI, and back.
func stateMigrateCommand() *cli.Command {
	return stateSubcommand("migrate", "copy fleets' records (managed objects, unfinished calls, journal) to another state store",
		"deskfleet state migrate --to LOCATION [--state LOCATION] [--force] [FLEET...]", runStateMigrate,
		&cli.StringFlag{Name: flagMigrateTo, Usage: "the target store: a file path or a postgres:// URL"},
		&cli.BoolFlag{Name: flagMigrateForce, Usage: "overwrite a fleet's record that already exists in the target"})
}

func runStateMigrate(c *cli.Context) error {
	fleets, err := positionalArgs(c, -1)
	if err != nil {
		return err
	}
	from, to := c.String(flagState), c.String(flagMigrateTo)
	if to == "" {
		return withHint(errors.New("name the target store"), "deskfleet state migrate --to postgres://USER@HOST/DB")
	}
	if from == to {
		return withHint(errors.New("--to names the store --state already names"), "give the target store with --to")
	}
	src, err := openStore(c)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := openStoreAt(c.Context, to)
	if err != nil {
		return err
	}
	defer dst.Close()

	ctx, w := c.Context, c.App.Writer
	if len(fleets) == 0 {
		if fleets, err = src.Fleets(ctx); err != nil {
			return err
		}
		if len(fleets) == 0 {
			return withHint(fmt.Errorf("no fleets in %s: nothing to migrate", stateLocation(c)),
				"--state names the store to copy from")
		}
	}
	holder := stores.CurrentHolder("deskfleet state migrate")
	for _, fleet := range fleets {
		rec, err := state.Migrate(ctx, src, dst, fleet, holder, c.Bool(flagMigrateForce))
		if err != nil {
			return fmt.Errorf("fleet %s: %w", fleet, migrateError(err))
		}
		if err := render.Migrated(w, fleet, rec, stateLocation(c), stores.Describe(to)); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "The source is unchanged. Use --state %s (or DESKFLEET_STATE) from now on.\n", stores.Describe(to))
	return nil
}

// migrateError gives Migrate's errors what to do next, and a held lock its exit code (4).
func migrateError(err error) error {
	var (
		exists *state.TargetExistsError
		locked *state.LockedError
	)
	switch {
	case errors.Is(err, state.ErrNoSourceRecord):
		return withHint(err, "`deskfleet state list` lists its fleets")
	case errors.As(err, &exists):
		return withHint(err, "pass --force to overwrite it, after checking it is not the newer one")
	case errors.As(err, &locked):
		return withCode(exitLockHeld, err)
	}
	return err
}

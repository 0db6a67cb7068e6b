package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/state"
)

// Flags of state migrate.
const (
	flagMigrateTo    = "to"
	flagMigrateForce = "force"
)

// stateMigrateCommand copies fleets' records, journal included, from one store to another: from a
// person's state file to the team's PostgreSQL database when a fleet moves into CI, and back.
func stateMigrateCommand() *cli.Command {
	return &cli.Command{
		Name:      "migrate",
		Usage:     "copy fleets' records (managed objects, unfinished calls, journal) to another state store",
		UsageText: "deskfleet state migrate --to LOCATION [--state LOCATION] [--force] [FLEET...]",
		Description: "Copies each FLEET (default: every fleet in --state) to the store --to names: a file, or a\n" +
			"postgres:// URL. Both fleets' locks are held during the copy, so no apply runs on either side\n" +
			"meanwhile; the copy is read back and compared before it is reported done. The source is left\n" +
			"as it was: point --state (or DESKFLEET_STATE) at the target from then on. A target that already\n" +
			"holds a record of the fleet is not overwritten without --force. Serials restart in the target,\n" +
			"so plans saved before the move are stale (plan again).\n\n" +
			"Exit codes: 0 copied, 1 error (nothing copied for that fleet), 4 a fleet's lock is held.\n\n" +
			"Examples:\n" +
			"   deskfleet state migrate --to postgres://deskfleet@db.internal/deskfleet\n" +
			"   deskfleet state migrate --to postgres://deskfleet@db.internal/deskfleet studio\n" +
			"   deskfleet state migrate --state postgres://deskfleet@db.internal/deskfleet --to backup.db",
		Flags: []cli.Flag{
			stateFileFlag(),
			&cli.StringFlag{Name: flagMigrateTo, Usage: "the target store: a file path or a postgres:// URL"},
			&cli.BoolFlag{Name: flagMigrateForce, Usage: "overwrite a fleet's record that already exists in the target"},
		},
		Action: runStateMigrate,
	}
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
	holder := currentHolder("deskfleet state migrate")
	for _, fleet := range fleets {
		rec, err := migrateFleet(ctx, src, dst, fleet, holder, c.Bool(flagMigrateForce))
		if err != nil {
			return fmt.Errorf("fleet %s: %w", fleet, err)
		}
		fmt.Fprintf(w, "Copied fleet %s (%s, %s, %s, %s) from %s to %s: serial %d there.\n", fleet,
			plural(len(rec.Desktops), "desktop"), plural(len(rec.Accounts), "account"), plural(len(rec.Runs), "run"),
			plural(openIntents(rec), "unfinished call"), stateLocation(c), describeLocation(to), rec.Serial)
	}
	fmt.Fprintf(w, "The source is unchanged. Use --state %s (or DESKFLEET_STATE) from now on.\n", describeLocation(to))
	return nil
}

// migrateFleet copies one fleet's record from src to dst under both its locks, and returns the copy
// as read back from dst.
func migrateFleet(ctx context.Context, src, dst state.Store, fleet string, holder state.Holder, force bool) (*state.Record, error) {
	srcLock, err := src.Lock(ctx, fleet, holder, 0)
	if err != nil {
		return nil, lockErr(err)
	}
	defer src.Unlock(ctx, srcLock) //nolint:errcheck // a failed release leaves a lock state unlock clears
	rec, err := src.Read(ctx, fleet)
	if err != nil {
		return nil, err
	}
	if rec.Serial == 0 {
		return nil, withHint(errors.New("no record in the source"), "`deskfleet state list` lists its fleets")
	}
	dstLock, err := dst.Lock(ctx, fleet, holder, 0)
	if err != nil {
		return nil, lockErr(err)
	}
	defer dst.Unlock(ctx, dstLock) //nolint:errcheck // as above
	existing, err := dst.Read(ctx, fleet)
	if err != nil {
		return nil, err
	}
	if existing.Serial > 0 && !force {
		return nil, withHint(fmt.Errorf("the target already holds a record of it (serial %d, %s)", existing.Serial,
			plural(len(existing.Desktops), "desktop")), "pass --force to overwrite it, after checking it is not the newer one")
	}
	if err := dst.Update(ctx, dstLock, func(r *state.Record) error {
		serial := r.Serial
		*r = *rec
		r.Serial = serial // the store numbers its own changes
		return nil
	}); err != nil {
		return nil, err
	}
	got, err := dst.Read(ctx, fleet)
	if err != nil {
		return nil, err
	}
	if !sameRecord(rec, got) {
		return nil, errors.New("the copy read back from the target differs from the source; the target's record is not to be trusted")
	}
	return got, nil
}

// sameRecord compares two records but for their serial, which each store numbers itself, as JSON:
// both stores keep a record as JSON, and equal instants may come back in different time.Locations.
func sameRecord(a, b *state.Record) bool {
	x, y := normalizeRecord(*a), normalizeRecord(*b)
	x.Serial, y.Serial = 0, 0
	jx, errX := json.Marshal(x)
	jy, errY := json.Marshal(y)
	return errX == nil && errY == nil && bytes.Equal(jx, jy)
}

// normalizeRecord makes empty collections nil, so that a store returning {} for nil compares equal.
func normalizeRecord(r state.Record) state.Record {
	if len(r.Desktops) == 0 {
		r.Desktops = nil
	}
	if len(r.Accounts) == 0 {
		r.Accounts = nil
	}
	if len(r.Intents) == 0 {
		r.Intents = nil
	}
	if len(r.Runs) == 0 {
		r.Runs = nil
	}
	return r
}

// openIntents counts the calls of unfinished applies in rec.
func openIntents(rec *state.Record) int {
	n := 0
	for _, in := range rec.Intents {
		if in.Open() {
			n++
		}
	}
	return n
}

// lockErr gives a lock held by another run its exit code (4).
func lockErr(err error) error {
	var le *state.LockedError
	if errors.As(err, &le) {
		return withCode(exitLockHeld, err)
	}
	return err
}

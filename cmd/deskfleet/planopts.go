package main

import (
	"time"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/schedule"
)

const (
	flagOnly       = "only"
	flagAt         = "at"
	flagBatchLimit = "batch-limit"
)

func batchLimitFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: flagBatchLimit, EnvVars: []string{"DESKFLEET_BATCH_LIMIT"}, Usage: engine.BatchLimitUsage}
}

func onlyFlag() cli.Flag {
	return &cli.StringFlag{Name: flagOnly, Usage: "`power`: only start and stop desktops as the spec and its schedules want (nothing is created, deleted or changed otherwise)"}
}

func atFlag() cli.Flag {
	return &cli.StringFlag{Name: flagAt, Usage: "plan the scheduled power of `TIME` (RFC 3339, or YYYY-MM-DD HH:MM in the local time zone) instead of now"}
}

// planOptions are the flags that shape a plan: --target, --exclude, --max-delete-percent, --only,
// --batch-limit and --at (plan's only).
func planOptions(c *cli.Context) (opt engine.PlanOptions, err error) {
	opt = engine.PlanOptions{Targets: c.StringSlice(flagTarget), Excludes: c.StringSlice(flagExclude),
		MaxDeletePercent: maxDeletePercent(c)}
	if opt.BatchLimits, err = engine.ParseBatchLimits(c.StringSlice(flagBatchLimit)); err != nil {
		return opt, withCode(exitError, err)
	}
	if opt.Only, err = engine.ParseOnly(c.String(flagOnly)); err != nil {
		return opt, withCode(exitError, withHint(err, "--only power"))
	}
	opt.At, err = atOption(c)
	return opt, err
}

// atOption is --at: a moment (RFC 3339, or YYYY-MM-DD HH:MM in the local time zone), zero when not
// given.
func atOption(c *cli.Context) (time.Time, error) {
	at := c.String(flagAt)
	if at == "" {
		return time.Time{}, nil
	}
	t, err := schedule.ParseMoment(at, time.Local)
	if err != nil {
		return time.Time{}, withCode(exitError, err)
	}
	return t, nil
}

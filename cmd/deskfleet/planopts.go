package main

import (
	"time"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/schedule"
)

const (
	flagOnly = "only"
	flagAt   = "at"
)

func onlyFlag() cli.Flag {
	return &cli.StringFlag{Name: flagOnly, Usage: "`power`: only start and stop desktops as the spec and its schedules want (nothing is created, deleted or changed otherwise)"}
}

func atFlag() cli.Flag {
	return &cli.StringFlag{Name: flagAt, Usage: "plan the scheduled power of `TIME` (RFC 3339, or YYYY-MM-DD HH:MM in the local time zone) instead of now"}
}

// planOptions are the flags that narrow a plan: --target, --exclude, --max-delete-percent, --only and
// --at (plan's only).
func planOptions(c *cli.Context) (opt engine.PlanOptions, err error) {
	opt = engine.PlanOptions{Targets: c.StringSlice(flagTarget), Excludes: c.StringSlice(flagExclude),
		MaxDeletePercent: maxDeletePercent(c)}
	if opt.Only, err = engine.ParseOnly(c.String(flagOnly)); err != nil {
		return opt, withCode(exitError, withHint(err, "--only power"))
	}
	if at := c.String(flagAt); at != "" {
		if opt.At, err = schedule.ParseMoment(at, time.Local); err != nil {
			return opt, withCode(exitError, err)
		}
	}
	return opt, nil
}

package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine"
)

const (
	flagOnly = "only"
	flagAt   = "at"
)

// onlyFlag narrows plan and apply to one kind of work.
func onlyFlag() cli.Flag {
	return &cli.StringFlag{Name: flagOnly, Usage: "`power`: only start and stop desktops as the spec and its schedules want (nothing is created, deleted or changed otherwise)"}
}

// atFlag previews the plan of another moment (schedules).
func atFlag() cli.Flag {
	return &cli.StringFlag{Name: flagAt, Usage: "plan the scheduled power of `TIME` (RFC 3339, or YYYY-MM-DD HH:MM in the local time zone) instead of now"}
}

// planOptions are the flags that narrow a plan: --target, --exclude, --max-delete-percent, --only and
// --at (the last one plan's only).
func planOptions(c *cli.Context) (engine.PlanOptions, error) {
	opt := engine.PlanOptions{Targets: c.StringSlice(flagTarget), Excludes: c.StringSlice(flagExclude),
		MaxDeletePercent: maxDeletePercent(c)}
	switch only := c.String(flagOnly); only {
	case "":
	case string(engine.OnlyPower):
		opt.Only = engine.OnlyPower
	default:
		return opt, withCode(exitError, withHint(fmt.Errorf("--only %q: the one kind of work is power", only), "--only power"))
	}
	if at := c.String(flagAt); at != "" {
		t, err := parseAt(at)
		if err != nil {
			return opt, withCode(exitError, withHint(fmt.Errorf("--at %q: %v", at, err), "--at 2027-01-04T08:00:00+08:00, or --at '2027-01-04 08:00' (local time)"))
		}
		opt.At = t
	}
	return opt, nil
}

// parseAt reads --at: RFC 3339, or a date and time of day in the local time zone.
func parseAt(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a time")
}

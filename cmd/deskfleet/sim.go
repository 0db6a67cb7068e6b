package main

import (
	"errors"
	"fmt"
	"net"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/provider/sim"
)

// simCommand groups the emulator's commands.
func simCommand() *cli.Command {
	return &cli.Command{
		Name:        "sim",
		Usage:       "the built-in API emulator",
		Description: help("sim"),
		Subcommands: append([]*cli.Command{simServeCommand()}, simConsoleCommands()...),
	}
}

func simServeCommand() *cli.Command {
	return &cli.Command{
		Name:        "serve",
		Usage:       "serve the API emulator over HTTP until interrupted",
		UsageText:   "deskfleet sim serve [--addr HOST:PORT] [--data FILE] [--key ID:SECRET]... [options]",
		Description: help("sim-serve"),
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "addr", Value: "127.0.0.1:8088", Usage: "listen address (port 0 picks a free port)"},
			&cli.StringFlag{Name: "data", Usage: "keep the emulated cloud in this file (JSON, 0600) across restarts"},
			&cli.DurationFlag{Name: "latency", Usage: "added to every request"},
			&cli.DurationFlag{Name: "task-time", Value: 5 * time.Second, Usage: "how long an asynchronous task runs"},
			&cli.Float64Flag{Name: "fault-rate", Usage: "fraction of requests that get an injected fault (0 to 1)"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of generated ids and faults"},
			&cli.StringSliceFlag{Name: "key", EnvVars: []string{"DESKFLEET_SIM_KEY"},
				Usage: "accepted credentials as ID:SECRET (repeatable; prefer the environment variable, which ps and shell history do not show); none: unsigned requests pass"},
		},
		Action: runSimServe,
	}
}

func runSimServe(c *cli.Context) error {
	faults, err := sim.FaultsAt(c.Float64("fault-rate"))
	if err != nil {
		return err
	}
	keys, err := sim.ParseKeys(c.StringSlice("key"))
	if err != nil {
		return err
	}
	emu, err := sim.New(sim.Options{
		Keys:         keys,
		DataFile:     c.String("data"),
		Latency:      c.Duration("latency"),
		TaskDuration: c.Duration("task-time"),
		Seed:         c.Uint64("seed"),
		Faults:       faults,
	})
	if err != nil {
		return withHint(err, "check --data, or move the file away to start a fresh cloud")
	}
	ln, err := net.Listen("tcp", c.String("addr"))
	if err != nil {
		return withHint(fmt.Errorf("listen on %s: %w", c.String("addr"), err), "pick another --addr, or port 0 for a free one")
	}
	ctx, stop := signal.NotifyContext(c.Context, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	signed := "unsigned requests accepted"
	if len(keys) > 0 {
		signed = fmt.Sprintf("%d key(s), signatures checked", len(keys))
	}
	fmt.Fprintf(c.App.Writer, "deskfleet emulator listening on http://%s/gcw (%s)\n", ln.Addr(), signed)
	err = sim.Serve(ctx, emu, ln)
	return errors.Join(err, sim.WriteCalls(c.App.Writer, emu.Calls()), emu.Close())
}

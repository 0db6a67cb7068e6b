package main

import (
	"errors"

	"github.com/urfave/cli/v2"
)

// simCommand is a placeholder until provider/sim lands.
func simCommand() *cli.Command {
	return &cli.Command{Name: "sim", Usage: "the API emulator (not yet implemented)",
		Action: func(*cli.Context) error { return errors.New("sim: not implemented yet") }}
}

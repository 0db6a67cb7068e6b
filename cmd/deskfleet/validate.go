package main

import (
	"errors"

	"github.com/urfave/cli/v2"
)

// validateCommand is a placeholder until the spec package lands (issue 3).
func validateCommand() *cli.Command {
	return &cli.Command{Name: "validate", Usage: "check a fleet spec (not yet implemented)",
		Action: func(*cli.Context) error { return errors.New("validate: not implemented yet") }}
}

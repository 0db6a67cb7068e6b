package main

import (
	"errors"

	"github.com/urfave/cli/v2"
)

// schemaCommand is a placeholder until the schema package lands (issue 3).
func schemaCommand() *cli.Command {
	return &cli.Command{Name: "schema", Usage: "print the JSON Schema of the spec (not yet implemented)",
		Action: func(*cli.Context) error { return errors.New("schema: not implemented yet") }}
}

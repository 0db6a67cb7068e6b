package main

import (
	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/schema"
)

// schemaCommand prints the JSON Schema of the spec, as committed in schema/fleet.schema.json.
func schemaCommand() *cli.Command {
	return &cli.Command{
		Name:        "schema",
		Usage:       "print the JSON Schema of the fleet spec",
		UsageText:   "deskfleet schema > fleet.schema.json",
		Description: help("schema"),
		Action: func(c *cli.Context) error {
			_, err := c.App.Writer.Write(schema.JSON())
			return err
		},
	}
}

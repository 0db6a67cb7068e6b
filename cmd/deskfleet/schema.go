package main

import (
	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/schema"
)

// schemaCommand prints the JSON Schema of the spec, as committed in schema/fleet.schema.json.
func schemaCommand() *cli.Command {
	return &cli.Command{
		Name:      "schema",
		Usage:     "print the JSON Schema of the fleet spec",
		UsageText: "deskfleet schema > fleet.schema.json",
		Description: "Prints the JSON Schema (draft 2020-12) of the fleet spec. Point your editor at it with a first\n" +
			"line like:\n   # yaml-language-server: $schema=./fleet.schema.json",
		Action: func(c *cli.Context) error {
			_, err := c.App.Writer.Write(schema.JSON())
			return err
		},
	}
}

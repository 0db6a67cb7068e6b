package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/engine/render"
)

// catalogCommand lists what a spec can name: sites, products with prices, images and where they can be
// used, and each site's networks. Reads only.
func catalogCommand() *cli.Command {
	return &cli.Command{
		Name:        "catalog",
		Usage:       "list the sites, products, prices, images and networks a spec can name (read-only)",
		UsageText:   "deskfleet catalog [--site NAME]... [--endpoint URL]",
		Description: help("catalog"),
		Flags: append([]cli.Flag{
			&cli.StringSliceFlag{Name: "site", Usage: "only this site (name or id); repeatable"},
		}, apiFlags()...),
		Action: runCatalog,
	}
}

func runCatalog(c *cli.Context) error {
	api, err := openAPI(c)
	if err != nil {
		return err
	}
	defer api.Close()
	cat, sites, err := engine.ReadSites(c.Context, api.Client, c.StringSlice("site"))
	if err != nil {
		return err
	}
	w := c.App.Writer
	fmt.Fprintf(w, "Catalog of %s: %d sites\n", api.Endpoint, len(sites))
	for _, s := range sites {
		if err := render.Catalog(w, s, cat.Products, cat.Images); err != nil {
			return err
		}
	}
	return nil
}

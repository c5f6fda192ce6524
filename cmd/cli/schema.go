package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/relreg/relreg/schemas"
)

const schemaLong = `Print the JSON Schema (draft 2020-12) of a document kind, as embedded in
relreg and used by 'relreg validate'. The kind is one of Registry, Approvers,
Service, Release, Schedule and DMLEntry, in any case.

Without a kind, list the kinds, one a line, with the $id of their schema.

Editors that use yaml-language-server (VS Code, Neovim, JetBrains) validate
registry files as you type when a file starts with a modeline such as

  # yaml-language-server: $schema=https://relreg.dev/schemas/v1/release.json

or with a local copy written by this command.`

const schemaExample = `  relreg schema
  relreg schema release
  relreg schema DMLEntry > .relreg/dmlentry.json`

func newSchemaCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:       "schema [KIND]",
		Short:     "Print the JSON Schema of a document kind",
		Long:      schemaLong,
		Example:   schemaExample,
		Args:      cobra.MaximumNArgs(1),
		ValidArgs: schemas.Names(),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return listSchemas(g)
			}
			return printSchema(g, args[0])
		},
	}
}

// listSchemas prints every kind with its schema's $id.
func listSchemas(g *globals) error {
	for _, k := range schemas.Names() {
		id, err := schemas.ID(k)
		if err != nil {
			return err
		}
		fmt.Fprintf(g.stdout, "%-10s %s\n", k, id)
	}
	return nil
}

// printSchema prints one kind's schema exactly as embedded.
func printSchema(g *globals, kind string) error {
	data, err := schemas.Get(kind)
	if err != nil {
		return err // an unknown kind: the message lists the kinds; exit 2
	}
	_, err = g.stdout.Write(data)
	return err
}

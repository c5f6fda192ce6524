// Command relreg validates and governs a GitOps release registry.
package main

import (
	"os"

	"github.com/relreg/relreg/cmd/cli"
)

func main() { os.Exit(cli.Main()) }

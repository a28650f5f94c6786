package main

import (
	"context"
	"fmt"
	"net"

	"kawaraban/cmd/internal/cli"
	"kawaraban/config"
)

// checkConfig validates a config file and prints one problem per line;
// with --dns it then looks up the sender's DNS records (checkdns.go).
func checkConfig(ctx context.Context, c cli.Call) error {
	args := c.Args
	dns := len(args) == 2 && args[0] == "--dns"
	if dns {
		args = args[1:]
	}
	if len(args) != 1 {
		return cli.Usagef("check-config takes [--dns] and one FILE")
	}
	cfg, err := config.Load(args[0])
	if err != nil {
		return cli.Usage(fmt.Errorf("%s:\n%s", args[0], cli.ProblemLines(err)))
	}
	fmt.Fprintf(c.Stdout, "%s: ok\n", args[0])
	checkListDrift(ctx, cfg, c.Stdout)
	if dns {
		return checkConfigDNS(ctx, cfg, net.DefaultResolver, c.Stdout)
	}
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"kawaraban/config"
)

// cmdCheckConfig validates a config file and prints one problem per line;
// with --dns it then looks up the sender's DNS records (checkdns.go).
func cmdCheckConfig(ctx context.Context, args []string, stdout io.Writer) error {
	dns := len(args) == 2 && args[0] == "--dns"
	if dns {
		args = args[1:]
	}
	if len(args) != 1 {
		return badUsage("check-config takes [--dns] and one FILE")
	}
	c, err := config.Load(args[0])
	if err == nil {
		fmt.Fprintf(stdout, "%s: ok\n", args[0])
		checkListDrift(ctx, c, stdout)
		if dns {
			return checkConfigDNS(ctx, c, net.DefaultResolver, stdout)
		}
		return nil
	}
	return usageError{fmt.Errorf("%s:\n%s", args[0], problemLines(err))}
}

// problemLines renders joined validation errors one per line.
func problemLines(err error) string {
	var lines []string
	var j interface{ Unwrap() []error }
	if errors.As(err, &j) {
		for _, e := range j.Unwrap() {
			lines = append(lines, "  "+e.Error())
		}
	} else {
		lines = append(lines, "  "+err.Error())
	}
	return strings.Join(lines, "\n")
}

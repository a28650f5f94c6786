package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"kawaraban/cmd/internal/cli"
	"kawaraban/config"
	"kawaraban/dnscheck"
)

// checkConfigDNS looks up the records the configured sender needs (MX of
// the bounce and inbound domains, SPF, DKIM, DMARC of each From domain)
// and prints one line each. Anything missing exits 2.
func checkConfigDNS(ctx context.Context, c *config.Config, r dnscheck.Resolver, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	findings := dnscheck.Check(ctx, r, c.DNSSender())
	var missing int
	for _, f := range findings {
		fmt.Fprintln(stdout, f)
		if !f.OK {
			missing++
		}
	}
	if missing > 0 {
		return cli.Usagef("dns: %d of %d records missing or wrong (docs/OPERATING.md, \"DNS records the sender needs\")", missing, len(findings))
	}
	return nil
}

package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"kawaraban/config"
	"kawaraban/dnscheck"
)

// checkConfigDNS looks up the records the configured sender needs (MX of
// the bounce and inbound domains, SPF, DKIM, DMARC of each From domain)
// and prints one line each. Anything missing exits 2.
func checkConfigDNS(ctx context.Context, c *config.Config, r dnscheck.Resolver, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	findings := dnscheck.Check(ctx, r, dnsSender(c))
	var missing int
	for _, f := range findings {
		fmt.Fprintln(stdout, f)
		if !f.OK {
			missing++
		}
	}
	if missing > 0 {
		return badUsage("dns: %d of %d records missing or wrong (docs/OPERATING.md, \"DNS records the sender needs\")", missing, len(findings))
	}
	return nil
}

// dnsSender describes the configured sender for dnscheck.
func dnsSender(c *config.Config) dnscheck.Sender {
	s := dnscheck.Sender{
		ReturnPathDomain: c.Bounce.ReturnPathDomain,
		InboundDomain:    c.Bounce.InboundDomain,
		DKIMDomain:       c.DKIM.Domain,
		DKIMSelector:     c.DKIM.Selector,
	}
	for _, l := range c.Lists {
		if at := strings.LastIndexByte(l.FromAddress, '@'); at >= 0 {
			s.FromDomains = append(s.FromDomains, l.FromAddress[at+1:])
		}
	}
	if c.DKIM.Domain != "" && c.DKIM.KeyFile != "" {
		// Under systemd the key is a credential the operator's shell cannot
		// read: then the record is checked for presence only.
		if key, err := config.ReadCredential(c.DKIM.KeyFile); err == nil {
			s.DKIMPublicKey, _ = dnscheck.PublicKeyRecord(key)
		}
	}
	return s
}

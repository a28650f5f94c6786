// Package dnscheck looks up the DNS records a bulk sender needs — the MX
// of its bounce domain, SPF, DKIM and DMARC — and says which are missing
// or wrong. It knows nothing of kawaraban's config: the caller describes
// the sender in a Sender, and passes a Resolver (net.Resolver in the
// daemon, a fake in tests).
package dnscheck

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
)

// Resolver is the part of *net.Resolver the checks use.
type Resolver interface {
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// Sender describes what the records are checked for.
type Sender struct {
	// ReturnPathDomain is the envelope sender's domain (VERP bounces+…@):
	// it needs an MX (bounces come back there) and SPF.
	ReturnPathDomain string
	// InboundDomain receives join and unsubscribe mail; it needs an MX.
	// Empty: the same as ReturnPathDomain.
	InboundDomain string
	// FromDomains are the domains of the lists' From addresses: each
	// needs a DMARC record, and alignment with SPF or DKIM.
	FromDomains []string
	// DKIMDomain and DKIMSelector locate the DKIM key record; empty
	// DKIMDomain means mail is not signed.
	DKIMDomain, DKIMSelector string
	// DKIMPublicKey is the p= value the record must carry (from
	// PublicKeyRecord), or "" when the private key could not be read.
	DKIMPublicKey string
}

// Finding is one checked record.
type Finding struct {
	Record string // MX, SPF, DKIM, DMARC
	Name   string // the DNS name looked up
	OK     bool
	Detail string // what was found, or what is missing and why it matters
}

func (f Finding) String() string {
	state := "ok"
	if !f.OK {
		state = "MISSING"
	}
	return fmt.Sprintf("%-7s %-5s %s: %s", state, f.Record, f.Name, f.Detail)
}

// Check looks up every record s needs and returns one finding each.
func Check(ctx context.Context, r Resolver, s Sender) []Finding {
	var out []Finding
	inbound := s.InboundDomain
	if inbound == "" {
		inbound = s.ReturnPathDomain
	}
	out = append(out, checkMX(ctx, r, s.ReturnPathDomain, "bounces come back to the return path's domain"))
	if !strings.EqualFold(inbound, s.ReturnPathDomain) {
		out = append(out, checkMX(ctx, r, inbound, "join and unsubscribe mail is sent to the inbound domain"))
	}
	out = append(out, checkSPF(ctx, r, s.ReturnPathDomain))
	out = append(out, checkDKIM(ctx, r, s))
	for _, d := range uniqueFold(s.FromDomains) {
		out = append(out, checkDMARC(ctx, r, d, s))
	}
	return out
}

func checkMX(ctx context.Context, r Resolver, domain, why string) Finding {
	f := Finding{Record: "MX", Name: domain}
	mxs, err := r.LookupMX(ctx, domain)
	if err != nil || len(mxs) == 0 {
		f.Detail = "no MX record (" + lookupErr(err) + "): " + why
		return f
	}
	var hosts []string
	for _, mx := range mxs {
		hosts = append(hosts, fmt.Sprintf("%d %s", mx.Pref, strings.TrimSuffix(mx.Host, ".")))
	}
	f.OK, f.Detail = true, strings.Join(hosts, ", ")
	return f
}

func checkSPF(ctx context.Context, r Resolver, domain string) Finding {
	f := Finding{Record: "SPF", Name: domain}
	spf := recordsWith(ctx, r, domain, "v=spf1")
	switch {
	case len(spf) == 0:
		f.Detail = "no v=spf1 TXT record: receivers check SPF on the envelope sender's domain; list the relays' addresses (v=spf1 ip4:… -all)"
	case len(spf) > 1:
		f.Detail = fmt.Sprintf("%d v=spf1 records: SPF fails with a permanent error when there is more than one (RFC 7208 section 4.5)", len(spf))
	case strings.HasSuffix(spf[0], "+all") || strings.HasSuffix(spf[0], " all"):
		f.Detail = spf[0] + ": ends in +all, which lets anyone send as this domain"
	default:
		f.OK, f.Detail = true, spf[0]
	}
	return f
}

func checkDKIM(ctx context.Context, r Resolver, s Sender) Finding {
	if s.DKIMDomain == "" {
		return Finding{Record: "DKIM", Name: "(dkim.domain not set)",
			Detail: "mail is not signed: set dkim.domain, dkim.selector and dkim.key_file; the carriers and DMARC want DKIM"}
	}
	name := s.DKIMSelector + "._domainkey." + s.DKIMDomain
	f := Finding{Record: "DKIM", Name: name}
	recs := recordsWith(ctx, r, name, "")
	var p string
	found := false
	for _, rec := range recs {
		tags := parseTags(rec)
		if v, ok := tags["v"]; ok && v != "DKIM1" {
			continue
		}
		if pv, ok := tags["p"]; ok {
			p, found = pv, true
			break
		}
	}
	switch {
	case !found:
		f.Detail = "no DKIM key record (v=DKIM1; k=…; p=…): receivers cannot verify the signature"
	case p == "":
		f.Detail = "the record's p= is empty: the key is revoked (RFC 6376 section 3.6.1)"
	case s.DKIMPublicKey == "":
		f.OK, f.Detail = true, "key record present (not compared: the private key was not readable here)"
	case p != s.DKIMPublicKey:
		f.Detail = "the record's p= is not the public half of dkim.key_file: signatures will fail; publish p=" + s.DKIMPublicKey
	default:
		f.OK, f.Detail = true, "key record matches dkim.key_file"
	}
	return f
}

func checkDMARC(ctx context.Context, r Resolver, domain string, s Sender) Finding {
	f := Finding{Record: "DMARC", Name: "_dmarc." + domain}
	recs := recordsWith(ctx, r, "_dmarc."+domain, "v=DMARC1")
	where := ""
	if len(recs) == 0 {
		// Receivers fall back to the organisational domain (RFC 7489
		// section 6.6.3); without a public suffix list, try the parent.
		if parent, ok := parentDomain(domain); ok {
			if recs = recordsWith(ctx, r, "_dmarc."+parent, "v=DMARC1"); len(recs) > 0 {
				where = " (at _dmarc." + parent + ")"
			}
		}
	}
	if len(recs) == 0 {
		f.Detail = "no v=DMARC1 TXT record for the From domain: start with v=DMARC1; p=none; rua=mailto:…"
		return f
	}
	spfAligned := related(s.ReturnPathDomain, domain)
	dkimAligned := s.DKIMDomain != "" && related(s.DKIMDomain, domain)
	if !spfAligned && !dkimAligned {
		f.Detail = recs[0] + where + ": but neither the return path (" + s.ReturnPathDomain + ") nor the DKIM domain shares this From domain, so DMARC fails"
		return f
	}
	f.OK, f.Detail = true, recs[0]+where
	return f
}

// PublicKeyRecord returns the p= value of the DKIM key record for a PEM
// private key: base64 of the SubjectPublicKeyInfo for RSA (RFC 6376
// section 3.6.1), of the raw 32-byte key for Ed25519 (RFC 8463).
func PublicKeyRecord(pemKey []byte) (string, error) {
	block, _ := pem.Decode(pemKey)
	if block == nil {
		return "", errors.New("no PEM block")
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return "", fmt.Errorf("parsing the private key: %w", err)
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
		if err != nil {
			return "", err
		}
		return base64.StdEncoding.EncodeToString(der), nil
	case ed25519.PrivateKey:
		return base64.StdEncoding.EncodeToString(k.Public().(ed25519.PublicKey)), nil
	case *ecdsa.PrivateKey:
		return "", errors.New("ECDSA keys are not used for DKIM: use RSA 2048 or Ed25519")
	}
	return "", fmt.Errorf("unsupported key type %T", key)
}

// recordsWith returns the TXT records at name that start with prefix
// (case-insensitively; any record when prefix is empty).
func recordsWith(ctx context.Context, r Resolver, name, prefix string) []string {
	txts, err := r.LookupTXT(ctx, name)
	if err != nil {
		return nil
	}
	var out []string
	for _, t := range txts {
		t = strings.TrimSpace(t)
		if prefix == "" || strings.HasPrefix(strings.ToLower(t), strings.ToLower(prefix)) &&
			(len(t) == len(prefix) || t[len(prefix)] == ' ' || t[len(prefix)] == ';') {
			out = append(out, t)
		}
	}
	return out
}

// parseTags splits a tag=value; list (DKIM, DMARC), removing whitespace
// inside values as RFC 6376 section 3.2 allows.
func parseTags(rec string) map[string]string {
	m := map[string]string{}
	for _, part := range strings.Split(rec, ";") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		m[strings.TrimSpace(k)] = strings.Join(strings.Fields(v), "")
	}
	return m
}

// related reports whether a and b are the same domain or one is under the
// other: an approximation of DMARC's relaxed alignment that needs no
// public suffix list.
func related(a, b string) bool {
	a, b = strings.ToLower(strings.TrimSuffix(a, ".")), strings.ToLower(strings.TrimSuffix(b, "."))
	return a == b || strings.HasSuffix(a, "."+b) || strings.HasSuffix(b, "."+a)
}

func parentDomain(d string) (string, bool) {
	_, parent, ok := strings.Cut(d, ".")
	return parent, ok && strings.Contains(parent, ".")
}

func uniqueFold(ds []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range ds {
		if k := strings.ToLower(d); k != "" && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func lookupErr(err error) string {
	var de *net.DNSError
	switch {
	case err == nil:
		return "none published"
	case errors.As(err, &de) && de.IsNotFound:
		return "the name has none"
	}
	return "lookup failed: " + err.Error()
}

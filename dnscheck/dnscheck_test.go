package dnscheck

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net"
	"strings"
	"testing"
)

// zone is a fake Resolver: records by name; a missing name answers as
// DNS does (not found).
type zone struct {
	mx  map[string][]*net.MX
	txt map[string][]string
}

func (z zone) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	if v, ok := z.mx[name]; ok {
		return v, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (z zone) LookupTXT(_ context.Context, name string) ([]string, error) {
	if v, ok := z.txt[name]; ok {
		return v, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

// goodZone holds every record the example sender needs.
func goodZone(p string) zone {
	return zone{
		mx: map[string][]*net.MX{"bounces.city.example.jp": {{Host: "mx1.city.example.jp.", Pref: 10}}},
		txt: map[string][]string{
			"bounces.city.example.jp":                 {"v=spf1 ip4:192.0.2.25 -all", "google-site-verification=x"},
			"kw2026._domainkey.city.example.jp":       {"v=DKIM1; k=rsa; p=" + p[:20] + " " + p[20:]},
			"_dmarc.city.example.jp":                  {"v=DMARC1; p=none; rua=mailto:dmarc@city.example.jp"},
			"city.example.jp":                         {"v=spf1 -all"},
			"kw2026._domainkey.bunka.city.example.jp": {"v=DKIM1; p=" + p},
		},
	}
}

func sender(p string) Sender {
	return Sender{
		ReturnPathDomain: "bounces.city.example.jp",
		FromDomains:      []string{"city.example.jp", "CITY.example.jp"},
		DKIMDomain:       "city.example.jp", DKIMSelector: "kw2026", DKIMPublicKey: p,
	}
}

func rsaKey(t *testing.T) ([]byte, string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	pub, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), base64.StdEncoding.EncodeToString(pub)
}

func TestCheck(t *testing.T) {
	t.Parallel()
	_, p := rsaKey(t)
	cases := []struct {
		name    string
		edit    func(z zone, s *Sender)
		missing map[string]string // "RECORD name" → a word its detail must hold; every other finding ok
	}{
		{"everything published", func(zone, *Sender) {}, nil},
		{"no MX for the bounce domain", func(z zone, _ *Sender) { delete(z.mx, "bounces.city.example.jp") }, map[string]string{"MX bounces.city.example.jp": "bounces come back"}},
		{"inbound domain without MX", func(_ zone, s *Sender) { s.InboundDomain = "in.city.example.jp" }, map[string]string{"MX in.city.example.jp": "join and unsubscribe"}},
		{"no SPF", func(z zone, _ *Sender) { z.txt["bounces.city.example.jp"] = []string{"something else"} }, map[string]string{"SPF bounces.city.example.jp": "no v=spf1"}},
		{"two SPF records", func(z zone, _ *Sender) {
			z.txt["bounces.city.example.jp"] = []string{"v=spf1 ip4:192.0.2.25 -all", "v=spf1 include:relay.example -all"}
		}, map[string]string{"SPF bounces.city.example.jp": "RFC 7208"}},
		{"SPF +all", func(z zone, _ *Sender) { z.txt["bounces.city.example.jp"] = []string{"v=spf1 +all"} }, map[string]string{"SPF bounces.city.example.jp": "anyone"}},
		{"no DKIM record", func(z zone, _ *Sender) { delete(z.txt, "kw2026._domainkey.city.example.jp") }, map[string]string{"DKIM kw2026._domainkey.city.example.jp": "no DKIM key record"}},
		{"DKIM key of another private key", func(z zone, s *Sender) { _, s.DKIMPublicKey = rsaKey(t) }, map[string]string{"DKIM kw2026._domainkey.city.example.jp": "not the public half"}},
		{"DKIM revoked", func(z zone, _ *Sender) { z.txt["kw2026._domainkey.city.example.jp"] = []string{"v=DKIM1; p="} }, map[string]string{"DKIM kw2026._domainkey.city.example.jp": "revoked"}},
		{"DKIM key unreadable here", func(_ zone, s *Sender) { s.DKIMPublicKey = "" }, nil},
		{"not signed", func(_ zone, s *Sender) { s.DKIMDomain = "" }, map[string]string{"DKIM (dkim.domain not set)": "not signed"}},
		{"no DMARC", func(z zone, _ *Sender) { delete(z.txt, "_dmarc.city.example.jp") }, map[string]string{"DMARC _dmarc.city.example.jp": "no v=DMARC1"}},
		{"DMARC at the parent domain", func(z zone, s *Sender) {
			s.FromDomains = []string{"bunka.city.example.jp"}
			s.DKIMDomain = "bunka.city.example.jp"
		}, nil},
		{"From domain aligned with neither", func(z zone, s *Sender) {
			s.FromDomains = []string{"kyoto.example"}
			z.txt["_dmarc.kyoto.example"] = []string{"v=DMARC1; p=reject"}
		}, map[string]string{"DMARC _dmarc.kyoto.example": "neither"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			z, s := goodZone(p), sender(p)
			c.edit(z, &s)
			got := Check(context.Background(), z, s)
			seen := map[string]bool{}
			for _, f := range got {
				want, bad := c.missing[f.Record+" "+f.Name]
				switch {
				case bad && f.OK:
					t.Errorf("%s reported ok, want missing (%q)", f, want)
				case bad && !strings.Contains(f.Detail, want):
					t.Errorf("%s: detail lacks %q", f, want)
				case !bad && !f.OK:
					t.Errorf("unexpected problem: %s", f)
				}
				seen[f.Record] = true
				delete(c.missing, f.Record+" "+f.Name)
			}
			if len(c.missing) > 0 {
				t.Errorf("no finding for %v in %v", c.missing, got)
			}
			for _, r := range []string{"MX", "SPF", "DKIM", "DMARC"} {
				if !seen[r] {
					t.Errorf("no %s finding in %v", r, got)
				}
			}
		})
	}
}

func TestPublicKeyRecord(t *testing.T) {
	t.Parallel()
	pemRSA, want := rsaKey(t)
	if got, err := PublicKeyRecord(pemRSA); err != nil || got != want {
		t.Errorf("RSA: %q, %v; want %q", got, err, want)
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	got, err := PublicKeyRecord(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if raw, _ := base64.StdEncoding.DecodeString(got); err != nil || len(raw) != ed25519.PublicKeySize {
		t.Errorf("Ed25519: %q, %v; want the raw 32-byte key (RFC 8463)", got, err)
	}
	if _, err := PublicKeyRecord([]byte("not a key")); err == nil {
		t.Error("garbage accepted")
	}
}

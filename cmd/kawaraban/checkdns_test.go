package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kawaraban/config"
)

// fakeDNS answers from maps; a missing name is "not found", as DNS says.
type fakeDNS struct {
	mx  map[string][]*net.MX
	txt map[string][]string
}

func (f fakeDNS) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	if v, ok := f.mx[name]; ok {
		return v, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (f fakeDNS) LookupTXT(_ context.Context, name string) ([]string, error) {
	if v, ok := f.txt[name]; ok {
		return v, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

// check-config --dns on config.example.yaml's sender (no network: a fake
// resolver holds the zone).
func TestCheckConfigDNS(t *testing.T) {
	t.Parallel()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	keyFile := filepath.Join(t.TempDir(), "dkim.key")
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	p := base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey))
	zone := fakeDNS{
		mx: map[string][]*net.MX{"bounces.city.example.jp": {{Host: "mx.city.example.jp.", Pref: 10}}},
		txt: map[string][]string{
			"bounces.city.example.jp":       {"v=spf1 ip4:192.0.2.25 -all"},
			"kw._domainkey.city.example.jp": {"v=DKIM1; k=ed25519; p=" + p},
			"_dmarc.city.example.jp":        {"v=DMARC1; p=none"},
		},
	}
	signed := exampleWith(t, "dkim:\n  # Sign every message when domain is set. Default: not signed.\n  domain: \"\"\n  selector: \"\"\n  # PEM private key, RSA 2048 or Ed25519.\n  key_file: \"\"\n",
		"dkim:\n  domain: city.example.jp\n  selector: kw\n  key_file: "+keyFile+"\n")
	cases := []struct {
		name     string
		config   string
		wantExit int
		want     []string // lines that must appear
	}{
		{"all records published", signed, 0, []string{
			"ok      MX    bounces.city.example.jp: 10 mx.city.example.jp",
			"ok      SPF   bounces.city.example.jp: v=spf1 ip4:192.0.2.25 -all",
			"ok      DKIM  kw._domainkey.city.example.jp: key record matches dkim.key_file",
			"ok      DMARC _dmarc.city.example.jp: v=DMARC1; p=none",
		}},
		{"example config: mail not signed", exampleWith(t, "", ""), 2, []string{
			"MISSING DKIM  (dkim.domain not set): mail is not signed",
			"1 of 4 records missing",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Parse(strings.NewReader(c.config))
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			err = checkConfigDNS(context.Background(), cfg, zone, &out)
			if code := exitCode(err, &out); code != c.wantExit {
				t.Fatalf("exit %d, want %d:\n%s", code, c.wantExit, out.String())
			}
			for _, w := range c.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

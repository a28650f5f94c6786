package config

import (
	"strings"
	"testing"
)

// Issue 15: check-config refuses what would send a password in clear over
// the network, and accepts plain text to a relay on loopback.
func TestConfigRefusesCleartextAuth(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, old, new string
		want           string // "" = accepted
	}{
		{"smtp auth without tls", "  tls: starttls\n", "  tls: none\n", "smtp.tls: none with smtp.username sends the password in clear to smtp.city.example.jp"},
		{"smtp auth without tls on loopback", "  host: smtp.city.example.jp\n  # Required: 1-65535 (587 for submission with STARTTLS, 465 for TLS).\n  port: 587\n  # none, starttls or tls. Default starttls.\n  tls: starttls\n",
			"  host: 127.0.0.1\n  port: 587\n  tls: none\n", ""},
		{"smtp without auth without tls", "  tls: starttls\n  # AUTH user; empty for none. Default empty.\n  username: kawaraban\n", "  tls: none\n  username: \"\"\n", ""},
		{"imap without tls", "  tls: tls\n", "  tls: none\n", "imap.tls: none sends the password in clear to imap.city.example.jp"},
		{"bad test recipient", "  test_recipients: []\n", "  test_recipients: [\"a, b\"]\n", "sending.test_recipients[0]:"},
		{"test recipient without a domain", "  test_recipients: []\n", "  test_recipients: [\"proof@\"]\n", "sending.test_recipients[0]:"},
		{"two test recipients", "  test_recipients: []\n", "  test_recipients: [\"proof@city.example.jp\", \"Kikaku@City.Example.JP\"]\n", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(strings.NewReader(exampleWith(t, tc.old, tc.new)))
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// A fail-over relay without tls talks STARTTLS (the mailer's default), so
// its password is not sent in clear even beside a plain primary on
// loopback; only tls: none is refused.
func TestRelayTLSDefaultIsStartTLS(t *testing.T) {
	t.Parallel()
	primary := exampleWith(t, "  host: smtp.city.example.jp\n  # Required: 1-65535 (587 for submission with STARTTLS, 465 for TLS).\n  port: 587\n  # none, starttls or tls. Default starttls.\n  tls: starttls\n",
		"  host: 127.0.0.1\n  port: 587\n  tls: none\n")
	for tls, want := range map[string]string{"": "", "tls: starttls, ": "", "tls: none, ": "smtp.relays[0].tls: none with a username"} {
		relay := "  relays:\n    - {host: smtp2.city.example.jp, port: 587, " + tls + "username: kawaraban, password_env: KAWARABAN_SMTP2_PASSWORD}\n"
		_, err := Parse(strings.NewReader(strings.Replace(primary, "  relays: []\n", relay, 1)))
		switch {
		case want == "" && err != nil:
			t.Errorf("relay %q: refused: %v", tls, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("relay %q: error %v, want it to contain %q", tls, err, want)
		}
	}
}

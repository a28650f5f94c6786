package mailer

import (
	"strings"
	"testing"
)

func TestVERPRoundTrip(t *testing.T) {
	t.Parallel()
	m := newMailer(t, nil, Options{})
	for _, id := range []int64{1, 345, 1 << 40} {
		addr := m.VERP(id)
		if !strings.HasPrefix(addr, "bounces+") || !strings.HasSuffix(addr, "@bounce.city.example.jp") {
			t.Fatalf("VERP(%d) = %q", id, addr)
		}
		if len(addr[:strings.IndexByte(addr, '@')]) > 64 {
			t.Errorf("local part of %q longer than 64 octets (RFC 5321 §4.5.3.1.1)", addr)
		}
		for _, in := range []string{addr, "<" + addr + ">", strings.ToUpper(addr[:8]) + addr[8:strings.IndexByte(addr, '@')] + "@BOUNCE.city.example.jp"} {
			got, ok := m.ParseVERP(in)
			if !ok || got != id {
				t.Errorf("ParseVERP(%q) = %d, %v; want %d", in, got, ok, id)
			}
		}
	}
}

func TestParseVERPRefusesForgeries(t *testing.T) {
	t.Parallel()
	m := newMailer(t, nil, Options{})
	good := m.VERP(7)
	tok := good[len("bounces+"):strings.IndexByte(good, '@')]
	for _, in := range []string{
		"", "bounces@bounce.city.example.jp", "bounces+@bounce.city.example.jp",
		"bounces+" + tok + "x@bounce.city.example.jp",
		"bounces+" + tok + "@other.example.jp",
		"other+" + tok + "@bounce.city.example.jp",
	} {
		if id, ok := m.ParseVERP(in); ok {
			t.Errorf("ParseVERP(%q) = %d, true; want refusal", in, id)
		}
	}
}

func FuzzParseVERP(f *testing.F) {
	m := newMailer(f, nil, Options{})
	f.Add(m.VERP(42))
	f.Add("bounces+AAAA@bounce.city.example.jp")
	f.Add("@")
	f.Fuzz(func(t *testing.T, s string) {
		if id, ok := m.ParseVERP(s); ok && m.VERP(id) == "" {
			t.Fatalf("accepted %q", s)
		}
	})
}

func TestSMTPAddress(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"taro@example.jp", "taro@example.jp"},
		{"user..name.@docomo.ne.jp", `"user..name."@docomo.ne.jp`},
		{".dot@ezweb.ne.jp", `".dot"@ezweb.ne.jp`},
		{`"user..name."@docomo.ne.jp`, `"user..name."@docomo.ne.jp`},
		{"a+b@Example.JP", "a+b@Example.JP"},
		{"no-at", ""},
		{"a@", ""},
		{"@b.jp", ""},
		{"a b@c.jp", ""},
		{"a@b.jp>\r\nRCPT TO:<x@y.jp", ""},
		{`a"b@c.jp`, ""},
	}
	for _, tc := range cases {
		got, err := SMTPAddress(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("SMTPAddress(%q) = %q, want error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("SMTPAddress(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if d := Domain("x@DoCoMo.ne.jp"); d != "docomo.ne.jp" {
		t.Errorf("Domain = %q", d)
	}
}

func FuzzSMTPAddress(f *testing.F) {
	for _, s := range []string{"taro@example.jp", "user..name.@docomo.ne.jp", `"q"@x.jp`, "a@b@c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := SMTPAddress(s)
		if err != nil {
			return
		}
		if strings.ContainsAny(out, "\r\n<> ") && !strings.HasPrefix(out, `"`) {
			t.Fatalf("SMTPAddress(%q) = %q: unsafe in RCPT TO", s, out)
		}
		if again, err := SMTPAddress(out); err != nil || again != out {
			t.Fatalf("not idempotent: %q → %q → %q, %v", s, out, again, err)
		}
	})
}

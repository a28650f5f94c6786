package subscribers

import (
	"errors"
	"strings"
	"testing"
)

func TestParseAddress(t *testing.T) {
	t.Parallel()
	ok := []struct {
		name, in, str, smtp string
	}{
		{"plain", "taro@example.jp", "taro@example.jp", "taro@example.jp"},
		{"trimmed", "  taro@example.jp\t", "taro@example.jp", "taro@example.jp"},
		{"domain lower-cased, local kept", "Taro.Yamada@Example.JP", "Taro.Yamada@example.jp", "Taro.Yamada@example.jp"},
		// Issue 3: legacy carrier local parts, sent quoted (RFC 5321 §4.1.2).
		{"docomo double dot and trailing dot", "user..name.@docomo.ne.jp", "user..name.@docomo.ne.jp", `"user..name."@docomo.ne.jp`},
		{"ezweb leading dot", ".name@ezweb.ne.jp", ".name@ezweb.ne.jp", `".name"@ezweb.ne.jp`},
		{"quoted dot-atom unquoted", `"taro"@example.jp`, "taro@example.jp", "taro@example.jp"},
		{"quoted with space", `"taro yamada"@example.jp`, `"taro yamada"@example.jp`, `"taro yamada"@example.jp`},
		{"quoted with @", `"a@b"@example.jp`, `"a@b"@example.jp`, `"a@b"@example.jp`},
		{"quoted escape", `"a\"b"@example.jp`, `"a\"b"@example.jp`, `"a\"b"@example.jp`},
		{"IDN to punycode", "info@京都.jp", "info@xn--1lqs03n.jp", "info@xn--1lqs03n.jp"},
		{"IDN upper-case", "info@BÜCHER.example", "info@xn--bcher-kva.example", "info@xn--bcher-kva.example"},
		{"plus tag", "a+news@example.jp", "a+news@example.jp", "a+news@example.jp"},
		{"subdomain", "kikaku@city.kyoto.lg.jp", "kikaku@city.kyoto.lg.jp", "kikaku@city.kyoto.lg.jp"},
	}
	for _, c := range ok {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a, err := ParseAddress(c.in)
			if err != nil {
				t.Fatalf("ParseAddress(%q): %v", c.in, err)
			}
			if a.String() != c.str || a.SMTP() != c.smtp {
				t.Fatalf("ParseAddress(%q) = %q / SMTP %q, want %q / %q", c.in, a.String(), a.SMTP(), c.str, c.smtp)
			}
			again, err := ParseAddress(a.String())
			if err != nil || again != a {
				t.Fatalf("String() %q does not re-parse: %v %v", a.String(), again, err)
			}
		})
	}
	bad := []struct {
		name, in, code string
	}{
		{"not an address (issue 3)", "not-an-address", "no-at"},
		{"two @ (issue 3)", "a@b@c.jp", "multiple-at"},
		{"CR LF header injection (issue 3)", "a@example.jp\r\nBcc: x@example.jp", "line-break"},
		{"trailing LF", "a@example.jp\n", "line-break"},
		{"CR only", "a\r@example.jp", "line-break"},
		{"no domain", "taro@", "no-domain"},
		{"empty local", "@example.jp", "empty-local"},
		{"empty", "   ", "empty"},
		{"space inside", "taro yamada@example.jp", "space"},
		{"full-width space", "taro　@example.jp", "space"},
		{"full-width at", "taro＠example.jp", "fullwidth-at"},
		{"full-width letters", "ｔａｒｏ@example.jp", "fullwidth"},
		{"no dot in domain", "taro@localhost", "no-dot"},
		{"bad domain", "taro@exa_mple.jp", "bad-domain"},
		{"domain trailing dot", "taro@example.jp.", "bad-domain"},
		{"numeric tld", "taro@1.2.3.4", "bad-domain"},
		{"angle bracket", "<taro@example.jp>", "bad-char"},
		{"unclosed quote", `"taro@example.jp`, "bad-quoted"},
		{"local too long", strings.Repeat("a", 65) + "@example.jp", "local-too-long"},
		{"too long", "a@" + strings.Repeat("abcdefghij.", 25) + "jp", "too-long"},
		{"control char", "ta\x00ro@example.jp", "control"},
		{"invalid utf-8", "ta\xffro@example.jp", "encoding"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseAddress(c.in)
			var ae *AddressError
			if !errors.As(err, &ae) {
				t.Fatalf("ParseAddress(%q) = %v, want *AddressError", c.in, err)
			}
			if ae.Code != c.code || ae.Message == "" || ae.MessageJA == "" {
				t.Fatalf("ParseAddress(%q): code %q (%s / %s), want %q", c.in, ae.Code, ae.Message, ae.MessageJA, c.code)
			}
			if strings.Contains(err.Error(), "@example") {
				t.Fatalf("error %q leaks the address", err)
			}
		})
	}
}

func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{"taro@example.jp", "user..name.@docomo.ne.jp", ".name@ezweb.ne.jp",
		`"a b"@example.jp`, `"a\"b"@x.jp`, "info@京都.jp", "a@b@c.jp", "not-an-address", "a@x.jp\r\n",
		"Ｔａｒｏ@example.jp", "x@xn--1lqs03n.jp", `"\\"@a.jp`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		a, err := ParseAddress(in)
		if err != nil {
			var ae *AddressError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v is not an *AddressError", err)
			}
			return
		}
		if len(a.SMTP()) > maxAddressLen || strings.ContainsAny(a.SMTP(), "\r\n") {
			t.Fatalf("accepted %q as %q", in, a.SMTP())
		}
		b, err := ParseAddress(a.String())
		if err != nil || b != a {
			t.Fatalf("%q: String() %q re-parses to %#v, %v", in, a.String(), b, err)
		}
		c, err := ParseAddress(a.SMTP())
		if err != nil || c != a {
			t.Fatalf("%q: SMTP() %q re-parses to %#v, %v", in, a.SMTP(), c, err)
		}
	})
}

func TestMaskEmail(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"hanako@example.jp": "h*****@example.jp",
		"ab@example.jp":     "a***@example.jp",
		`"a b"@example.jp`:  "a***@example.jp",
		"京都太郎@example.jp":   "京***@example.jp",
		"not-an-address":    "**************",
	} {
		if got := MaskEmail(in); got != want {
			t.Errorf("MaskEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

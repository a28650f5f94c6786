package web

import "testing"

// TestAddrErased: a keyed hash standing for an erased address is shown as
// words, never as the hash; any other address as it is.
func TestAddrErased(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ lang, in, want string }{
		{"ja", "erased:3q2+7w", "(消去済みのアドレス)"},
		{"en", "erased:3q2+7w", "(erased address)"},
		{"ja", "hanako@example.jp", "hanako@example.jp"},
	} {
		if got := (&view{Lang: tc.lang}).Addr(tc.in); got != tc.want {
			t.Errorf("%s: Addr(%q) = %q, want %q", tc.lang, tc.in, got, tc.want)
		}
	}
}

// TestAuditDetailLocalMail: the local mail page's audit detail names the
// sender's domain in words of the page's language.
func TestAuditDetailLocalMail(t *testing.T) {
	t.Parallel()
	for lang, want := range map[string]string{"ja": "差出人のドメイン: example.jp", "en": "sender's domain: example.jp"} {
		if got := (&view{Lang: lang}).AuditDetail("from-domain example.jp"); got != want {
			t.Errorf("%s: %q, want %q", lang, got, want)
		}
	}
}

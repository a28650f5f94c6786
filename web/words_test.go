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

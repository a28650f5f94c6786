package bounces

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzInboundHeader feeds arbitrary messages to the header reader and the
// command detector: they must never panic, and a token placed in an
// unsubscribe address must come back unchanged.
func FuzzInboundHeader(f *testing.F) {
	f.Add([]byte(dsnMail("b1@mx", 1, "5.1.1", "failed", "550 user unknown")), "AbC-_9")
	f.Add([]byte(plainMail("j1@a", "Alice <alice@home.test>", "kyoiku-join@example.test", "", "")), "x")
	f.Add([]byte("To: \"a..b.\"@docomo.ne.jp, <c@d>\r\nFrom: =?ISO-2022-JP?B?GyRCJCIbKEI=?= <x@y>\r\n\r\n"), "t")
	if eml, err := filepath.Glob(filepath.Join("testdata", "*.eml")); err == nil {
		for _, p := range eml {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b, "seed")
			}
		}
	}
	s := &Service{opt: Options{Domain: testDomain}}
	f.Fuzz(func(t *testing.T, raw []byte, tok string) {
		rh := readRawHeader(raw)
		s.commandFor(rh)
		for _, a := range rh.envelopeTo {
			splitAddr(a)
		}
		if tok == "" || strings.ContainsAny(tok, "@ \t\r\n<>,\"") {
			return
		}
		got, ok := unsubscribeToken(UnsubscribeMailto(testDomain, tok), testDomain)
		if !ok || got != tok {
			t.Errorf("token %q came back as %q, %v", tok, got, ok)
		}
	})
}

package bounces

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
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

// FuzzIngest runs arbitrary messages through classification, attribution,
// the policy and the database: nothing may fail or panic, and a message
// handled twice is recorded once.
func FuzzIngest(f *testing.F) {
	f.Add([]byte(dsnMail("b1@mx", 1, "5.1.1", "failed", "550 user unknown")))
	f.Add([]byte(dsnMail("b2@mx", 2, "4.2.2", "delayed", "452 full")))
	f.Add([]byte(plainMail("u1@c", "c@home.test", UnsubscribeMailto(testDomain, "AbC"), "", "")))
	f.Add([]byte(plainMail("r1@c", "c@home.test", "news@example.test", "Re: news", "")))
	s := newService(f, nil, newRecorder(), Options{})
	var uid atomic.Uint32
	f.Fuzz(func(t *testing.T, raw []byte) {
		src := source{mailbox: "INBOX", uidvalidity: 1, uid: uid.Add(1)}
		var st1, st2 Stats
		if _, err := s.ingest(context.Background(), src, raw, &st1); err != nil {
			t.Fatalf("first ingest: %v", err)
		}
		if _, err := s.ingest(context.Background(), src, raw, &st2); err != nil {
			t.Fatalf("second ingest: %v", err)
		}
		if st2.Bounces != 0 || st2.Commands != 0 {
			t.Errorf("second ingest did something again: %+v", st2)
		}
	})
}

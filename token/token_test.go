package token

import (
	"bytes"
	"errors"
	"regexp"
	"testing"
	"time"
)

func signer(t testing.TB) *Signer {
	s, err := NewSigner(bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRoundTripAndPurpose(t *testing.T) {
	t.Parallel()
	s := signer(t)
	now := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	tok := s.Sign("confirm", IDs(7, 42), now.Add(7*24*time.Hour))
	if !regexp.MustCompile(`^[A-Za-z0-9_-]+$`).MatchString(tok) {
		t.Fatalf("token %q is not URL- and local-part-safe", tok)
	}
	p, err := s.Verify("confirm", tok, now)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := ParseIDs(p, 2)
	if err != nil || ids[0] != 7 || ids[1] != 42 {
		t.Fatalf("ids %v %v", ids, err)
	}
	if _, err := s.Verify("unsubscribe", tok, now); !errors.Is(err, ErrForged) {
		t.Fatalf("other purpose: %v", err)
	}
	if _, err := s.Verify("confirm", tok, now.Add(8*24*time.Hour)); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired: %v", err)
	}
	never := s.Sign("unsubscribe", IDs(1), time.Time{})
	if _, err := s.Verify("unsubscribe", never, now.Add(100*365*24*time.Hour)); err != nil {
		t.Fatalf("non-expiring: %v", err)
	}
	other, _ := NewSigner(bytes.Repeat([]byte("x"), 32))
	if _, err := other.Verify("confirm", tok, now); !errors.Is(err, ErrForged) {
		t.Fatalf("other key: %v", err)
	}
}

func TestShortKeyRefused(t *testing.T) {
	t.Parallel()
	if _, err := NewSigner([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
}

func FuzzVerify(f *testing.F) {
	s := signer(f)
	f.Add(s.Sign("confirm", IDs(1, 2), time.Time{}))
	f.Add("")
	f.Add("!!!")
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, tok string) {
		if _, err := s.Verify("confirm", tok, time.Unix(0, 0)); err != nil {
			return
		}
		// Whatever verifies for one purpose must not verify for another:
		// the purpose is under the signature.
		if _, err := s.Verify("unsubscribe", tok, time.Unix(0, 0)); err == nil {
			t.Fatalf("token %q verifies for two purposes", tok)
		}
	})
}

func BenchmarkSign(b *testing.B) {
	s, err := NewSigner([]byte("bench-key-0123456789abcdef0123456789"))
	if err != nil {
		b.Fatal(err)
	}
	payload := IDs(123456, 7)
	b.ReportAllocs()
	for b.Loop() {
		s.Sign("unsubscribe", payload, time.Time{})
	}
}

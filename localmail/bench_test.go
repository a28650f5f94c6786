package localmail

import (
	"bytes"
	"context"
	"strconv"
	"testing"

	"github.com/emersion/go-smtp"
)

// BenchmarkCountOnly measures the sink of the mailer benchmark: one
// connection, one recipient per message.
func BenchmarkCountOnly(b *testing.B) {
	s, err := NewSMTP(SMTPOptions{CountOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	addr, err := s.Listen("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)
	c, err := smtp.Dial(addr.String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	body := []byte("From: a@example.jp\r\nTo: b@example.jp\r\nSubject: x\r\n\r\n" + "hello world, a small newsletter body\r\n")
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := c.SendMail("bounces+t@example.jp", []string{"r" + strconv.Itoa(i%1000) + "@example.jp"}, bytes.NewReader(body)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if s.Total() != b.N {
		b.Fatalf("Total %d, want %d", s.Total(), b.N)
	}
}

package mailer_test

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"kawaraban/localmail"
	"kawaraban/mailer"
	"kawaraban/store"
	"kawaraban/token"
)

func ExampleSMTPAddress() {
	a, _ := mailer.SMTPAddress("user..name.@docomo.ne.jp")
	fmt.Println(a)
	// Output: "user..name."@docomo.ne.jp
}

func ExampleMailer_VERP() {
	signer, _ := token.NewSigner([]byte("an example key of at least 32 bytes!"))
	m, _ := mailer.New(nil, mailer.Options{Signer: signer, ReturnPathDomain: "bounce.city.example.jp"})
	addr := m.VERP(42)
	id, ok := m.ParseVERP(addr)
	fmt.Println(strings.HasPrefix(addr, "bounces+"), id, ok)
	// Output: true 42 true
}

func ExampleMailer_Build() {
	m, _ := mailer.New(nil, mailer.Options{})
	raw, _ := m.Build(&mailer.Message{
		FromName: "京都市", FromAddress: "news@city.example.jp",
		To: "taro@example.jp", Subject: "Forum", Text: "こんにちは\n",
		Date:           time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC),
		MessageID:      "1@city.example.jp",
		ListID:         "news <news.city.example.jp>",
		UnsubscribeURL: "https://city.example.jp/unsubscribe/T", UnsubscribeMailto: "mailto:u+T@city.example.jp",
	})
	for _, line := range strings.Split(string(raw), "\r\n") {
		if strings.HasPrefix(line, "List-") || strings.HasPrefix(line, "Precedence") {
			fmt.Println(line)
		}
	}
	// Output:
	// List-Id: news <news.city.example.jp>
	// List-Unsubscribe: <https://city.example.jp/unsubscribe/T>, <mailto:u+T@city.example.jp>
	// List-Unsubscribe-Post: List-Unsubscribe=One-Click
	// Precedence: bulk
}

type people []string

func (p people) EachRecipient(ctx context.Context, tx *sql.Tx, listID int64, fn func(mailer.Recipient) error) error {
	for i, e := range p {
		if err := fn(mailer.Recipient{SubscriberID: int64(i + 1), Email: e}); err != nil {
			return err
		}
	}
	return nil
}

type hello struct{}

func (hello) Render(ctx context.Context, d mailer.Delivery) (*mailer.Message, error) {
	return &mailer.Message{FromAddress: "news@city.example.jp", Subject: "Hello", Text: "Hello\n"}, nil
}

// An issue goes out: snapshot the recipients, run the engine until the
// issue is done.
func ExampleMailer_Run() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	relay, _ := localmail.NewSMTP(localmail.SMTPOptions{CountOnly: true})
	addr, _ := relay.Listen("127.0.0.1:0")
	go relay.Run(ctx)
	db, _ := store.Open(ctx, filepath.Join(dir, "k.db"), store.Options{})
	defer db.Close()

	done := make(chan int64, 1)
	m, _ := mailer.New(db, mailer.Options{
		Relays:      []mailer.Relay{{Host: "127.0.0.1", Port: addr.(*net.TCPAddr).Port, TLS: mailer.TLSNone}},
		Renderer:    hello{},
		OnIssueDone: func(ctx context.Context, issueID int64) { done <- issueID },
	})
	n, _ := m.Snapshot(ctx, 7, 1, people{"a@example.jp", "user..name.@docomo.ne.jp"})
	go m.Run(ctx)
	<-done
	p, _ := m.Progress(ctx, 7)
	fmt.Println(n, p.Sent, relay.Total())
	// Output: 2 2 2
}

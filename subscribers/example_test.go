package subscribers_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"kawaraban/store"
	"kawaraban/subscribers"
	"kawaraban/token"
)

func ExampleParseAddress() {
	a, err := subscribers.ParseAddress(" user..name.@DOCOMO.ne.jp ")
	fmt.Println(a, a.SMTP(), err)

	_, err = subscribers.ParseAddress("a@b@c.jp")
	fmt.Println(err.(*subscribers.AddressError).MessageJA)
	// Output:
	// user..name.@docomo.ne.jp "user..name."@docomo.ne.jp <nil>
	// メールアドレスに@が2つ以上あります
}

// exampleDB opens a migrated database in a new temporary directory, as
// the daemon opens its file with store.Open; done closes it and removes
// the directory.
func exampleDB(ctx context.Context) (db *sql.DB, done func()) {
	dir, err := os.MkdirTemp("", "subscribers-example")
	if err != nil {
		panic(err)
	}
	db, err = store.Open(ctx, filepath.Join(dir, "k.db"), store.Options{})
	if err != nil {
		panic(err)
	}
	return db, func() { db.Close(); os.RemoveAll(dir) }
}

// mailbox is a Confirmer that prints instead of mailing.
type mailbox struct{ last subscribers.Confirmation }

func (m *mailbox) SendConfirmation(_ context.Context, c subscribers.Confirmation) error {
	m.last = c
	fmt.Println("confirmation to", c.To, "for", len(c.Lists), "list(s)")
	return nil
}

func ExampleStore_Subscribe() {
	ctx := context.Background()
	db, done := exampleDB(ctx)
	defer done()
	signer, _ := token.NewSigner(bytes.Repeat([]byte("k"), 32))
	box := &mailbox{}
	s := subscribers.New(db, subscribers.Options{Signer: signer, BaseURL: "https://mail.example.jp", Confirmer: box})
	_ = s.SyncLists(ctx, []subscribers.List{{Slug: "kodomo", NameJA: "子ども・若者センター通信", DoubleOptIn: true}})

	err := s.Subscribe(ctx, subscribers.SubscribeRequest{Email: "hanako@example.jp", Lists: []string{"kodomo"},
		Source: subscribers.SourceWeb, Evidence: subscribers.Evidence{IP: "192.0.2.1", UserAgent: "Mobile Safari"}})
	fmt.Println("subscribe:", err)

	tok := strings.TrimPrefix(box.last.ConfirmURL, "https://mail.example.jp/confirm/")
	res, err := s.Confirm(ctx, tok, subscribers.Evidence{IP: "192.0.2.1"})
	fmt.Println("confirmed:", res.Lists[0].Slug, err)

	l, _ := s.ListBySlug(ctx, "kodomo")
	_ = s.EachRecipient(ctx, nil, l.ID, func(r subscribers.Recipient) error {
		fmt.Println("recipient:", r.Email)
		return nil
	})
	// Output:
	// confirmation to hanako@example.jp for 1 list(s)
	// subscribe: <nil>
	// confirmed: kodomo <nil>
	// recipient: hanako@example.jp
}

// Erasing a subscriber for a deletion request: the address is gone, the
// erasure and the consent proof are found again from the address.
func ExampleStore_Erase() {
	ctx := context.Background()
	db, done := exampleDB(ctx)
	defer done()
	signer, _ := token.NewSigner(bytes.Repeat([]byte("k"), 32))
	s := subscribers.New(db, subscribers.Options{Signer: signer})
	_ = s.SyncLists(ctx, []subscribers.List{{Slug: "chonai", NameJA: "庁内情報誌", Kind: subscribers.KindInternal}})
	_ = s.AddMember(ctx, "chonai", "taro@city.example.jp", "京都太郎", subscribers.SourceAdmin, subscribers.Evidence{Actor: "admin"})
	var id int64
	_ = db.QueryRow(`SELECT id FROM subscribers`).Scan(&id)

	er, err := s.Erase(ctx, id, "admin", "本人からの削除依頼")
	fmt.Println("erased from", er.Lists, err)
	_, err = s.Profile(ctx, id)
	fmt.Println("profile:", err)
	recs, _ := s.Erasures(ctx, "Taro@city.example.jp")
	fmt.Println("erasures of the address:", len(recs), recs[0].Reason)
	err = s.AddMember(ctx, "chonai", "taro@city.example.jp", "", subscribers.SourceAdmin, subscribers.Evidence{Actor: "admin"})
	fmt.Println("added again by staff:", err)
	// Output:
	// erased from [chonai] <nil>
	// profile: subscriber 1: not found
	// erasures of the address: 1 本人からの削除依頼
	// added again by staff: adding member to chonai: the address was erased at its owner's request
}

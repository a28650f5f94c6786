package web

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"kawaraban/store"
	"kawaraban/subscribers"
	"kawaraban/token"
)

// BenchmarkSubscribePost measures POST /subscribe through the whole
// handler (form token, rate limiter, real subscribers store on SQLite),
// without the network. Each request is a new address.
func BenchmarkSubscribePost(b *testing.B) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "k.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	signer, _ := token.NewSigner([]byte(strings.Repeat("s", 32)))
	subs := subscribers.New(db, subscribers.Options{Signer: signer, BaseURL: "http://x"})
	if err := subs.SyncLists(ctx, []subscribers.List{{Slug: "kankyo-hozen", NameJA: "環境", Kind: "public", DoubleOptIn: true,
		FromName: "京都市", FromAddress: "a@city.example.jp", PostalAddress: "京都市", Contact: "075"}}); err != nil {
		b.Fatal(err)
	}
	srv, err := New(Options{DB: db, SubscribePerMinute: 1e9, SubscribeBurst: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	Domain{Subscribers: subs}.Fill(&srv.opt) // the public pages need only the subscribers store
	ft := srv.formToken("subscribe", "")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		body := url.Values{"form_token": {ft}, "email": {fmt.Sprintf("u%d@example.jp", i)}, "list": {"kankyo-hozen"}}.Encode()
		req := httptest.NewRequest("POST", "/subscribe", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

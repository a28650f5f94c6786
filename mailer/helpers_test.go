package mailer

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/pem"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"kawaraban/store"
	"kawaraban/token"
)

var pinned = time.Date(2026, 11, 24, 9, 30, 0, 0, time.FixedZone("JST", 9*3600))

func openDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func testSigner(t testing.TB) *token.Signer {
	t.Helper()
	s, err := token.NewSigner([]byte("0123456789abcdef0123456789abcdef-test-key"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newMailer(t testing.TB, db *sql.DB, opt Options) *Mailer {
	t.Helper()
	if opt.Signer == nil {
		opt.Signer = testSigner(t)
	}
	if opt.ReturnPathDomain == "" {
		opt.ReturnPathDomain = "bounce.city.example.jp"
	}
	m, err := New(db, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// ed25519PEM returns a fixed Ed25519 key (so golden files stay stable) and
// its DNS TXT record.
func ed25519PEM(t testing.TB) ([]byte, string) {
	t.Helper()
	seed := make([]byte, ed25519.SeedSize)
	copy(seed, "kawaraban golden dkim seed.....")
	key := ed25519.NewKeyFromSeed(seed)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pub := key.Public().(ed25519.PublicKey)
	txt := "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), txt
}

var rsaOnce struct {
	sync.Once
	pem []byte
	txt string
}

func rsaPEM(t testing.TB) ([]byte, string) {
	t.Helper()
	rsaOnce.Do(func() {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
		rsaOnce.pem = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
		rsaOnce.txt = "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(pub)
	})
	return rsaOnce.pem, rsaOnce.txt
}

// listMessage is a typical magazine mail.
func listMessage() *Message {
	return &Message{
		FromName:          "京都市 市民参加推進フォーラム",
		FromAddress:       "news@city.example.jp",
		To:                "taro@example.jp",
		ToName:            "山田 太郎",
		Subject:           "【市民参加】第12号 市民参加推進フォーラムのお知らせ ― 参加者を募集しています",
		Text:              "山田 太郎 様\n\n市民参加推進フォーラムを開催します。\n\n配信停止: https://city.example.jp/unsubscribe/TOKEN\n",
		HTML:              "<p>山田 太郎 様</p>\n<p>市民参加推進フォーラムを開催します。</p>\n",
		MessageID:         "kawaraban.12.345@city.example.jp",
		Date:              pinned,
		ListID:            "市民参加 <sanka.city.example.jp>",
		UnsubscribeURL:    "https://city.example.jp/unsubscribe/TOKEN",
		UnsubscribeMailto: "mailto:unsubscribe+TOKEN@city.example.jp",
		Boundary:          "kawaraban-golden-boundary",
	}
}

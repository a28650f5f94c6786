package mailer

import (
	"context"
	"database/sql"

	"strconv"
	"strings"
	"testing"
	"time"

	"kawaraban/token"
)

// benchRenderer personalises a cached ~3 KB issue per recipient the way the
// templates adapter does: greeting with the name, signed unsubscribe and
// preferences links; the body parts are rendered once.
type benchRenderer struct {
	signer     *token.Signer
	text, html string
}

func newBenchRenderer(s *token.Signer) *benchRenderer {
	para := "京都市では、市民の皆さまの市政への参加を進めるため、さまざまな取組を行っています。今号では、市民参加推進フォーラムの開催と、区民まちづくり会議の報告をお届けします。\n"
	return &benchRenderer{signer: s, text: strings.Repeat(para, 4), html: "<p>" + strings.Repeat(para, 4) + "</p>"}
}

func (r *benchRenderer) Render(ctx context.Context, d Delivery) (*Message, error) {
	unsub := r.signer.Sign("unsubscribe", token.IDs(d.SubscriberID, 1), time.Time{})
	url := "https://city.example.jp/unsubscribe/" + unsub
	var b strings.Builder
	b.Grow(len(r.text) + 256)
	b.WriteString(d.Name)
	b.WriteString(" 様\n\n")
	b.WriteString(r.text)
	b.WriteString("\n配信停止: ")
	b.WriteString(url)
	b.WriteString("\n")
	return &Message{
		FromName: "京都市 市民参加推進", FromAddress: "news@city.example.jp",
		To: d.Email, ToName: d.Name,
		Subject:           "【市民参加】第12号 フォーラムのお知らせ",
		Text:              b.String(),
		HTML:              "<p>" + d.Name + " 様</p>" + r.html + `<p><a href="` + url + `">配信停止</a></p>`,
		ListID:            "sanka <sanka.city.example.jp>",
		UnsubscribeURL:    url,
		UnsubscribeMailto: "mailto:unsubscribe+" + unsub + "@city.example.jp",
	}, nil
}

type benchSource int

func (n benchSource) EachRecipient(ctx context.Context, tx *sql.Tx, listID int64, fn func(Recipient) error) error {
	for i := 1; i <= int(n); i++ {
		if err := fn(Recipient{SubscriberID: int64(i), Email: "r" + strconv.Itoa(i) + "@d" + strconv.Itoa(i%50) + ".example.jp", Name: "読者" + strconv.Itoa(i)}); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkPipeline sends a personalised issue of 10,000 recipients through
// the whole pipeline (SQLite outbox, rendering, VERP, List-Unsubscribe,
// go-mail composition, pooled SMTP) into localmail's count-only sink.
// One op is one recipient. cmd/sendbench does the 100,000 run.
func BenchmarkPipeline(b *testing.B) {
	const n = 10_000
	var sent int
	var took time.Duration
	for b.Loop() {
		b.StopTimer()
		sink := newSink(b, nil, true)
		db := openDB(b)
		done := make(chan int64, 1)
		s := testSigner(b)
		m := newMailer(b, db, Options{
			Relays:   []Relay{{Host: "127.0.0.1", Port: sink.port, TLS: TLSNone, MaxConns: 8}},
			Renderer: newBenchRenderer(s), Signer: s,
			OnIssueDone: func(ctx context.Context, id int64) { done <- id },
		})
		ctx, cancel := context.WithCancel(context.Background())
		if _, err := m.Snapshot(ctx, 1, 1, benchSource(n)); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		ran := make(chan error, 1)
		go func() { ran <- m.Run(ctx) }()
		<-done
		took += time.Since(start)
		b.StopTimer()
		cancel()
		if err := <-ran; err != nil {
			b.Fatal(err)
		}
		if got := sink.lm.Total(); got != n {
			b.Fatalf("sink got %d, want %d", got, n)
		}
		sent += n
		b.StartTimer()
	}
	b.ReportMetric(float64(sent)/took.Seconds(), "msgs/s")
}

package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"kawaraban/store"
	"kawaraban/subscribers"
	"kawaraban/token"
)

// intakeSubscribers is the public side of a real subscribers store as the
// daemon wires it: POST /subscribe goes through subscribers.Intake, or
// straight to Store.Subscribe when in is nil (the path before issue 15).
type intakeSubscribers struct {
	Subscribers // only Lists and Subscribe are used
	s           *subscribers.Store
	in          *subscribers.Intake
}

func (a intakeSubscribers) Lists(ctx context.Context) ([]List, error) {
	ls, err := a.s.Lists(ctx)
	out := make([]List, 0, len(ls))
	for _, l := range ls {
		out = append(out, List{ID: l.ID, Slug: l.Slug, NameJA: l.NameJA, Kind: l.Kind})
	}
	return out, err
}

func (a intakeSubscribers) Subscribe(ctx context.Context, r SubscribeRequest) error {
	req := subscribers.SubscribeRequest{Email: r.Email, Lists: r.Lists, Source: r.Source}
	if a.in != nil {
		return a.in.Submit(ctx, req)
	}
	return a.s.Subscribe(ctx, req)
}

type keptConfirmations struct {
	mu  sync.Mutex
	all []subscribers.Confirmation
}

func (k *keptConfirmations) SendConfirmation(_ context.Context, c subscribers.Confirmation) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.all = append(k.all, c)
	return nil
}

// BenchmarkSubscribeByStatus (issue 15: timing told who is subscribed)
// posts /subscribe over HTTP (httptest, keep-alive) alternately for a new
// and an already confirmed address, with the synchronous store ("sync",
// as before) and with subscribers.Intake ("intake", as the daemon does
// now), and reports each class's median and 90th percentile in µs.
func BenchmarkSubscribeByStatus(b *testing.B) {
	for _, mode := range []string{"sync", "intake"} {
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			db, err := store.Open(ctx, filepath.Join(b.TempDir(), "k.db"), store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			signer, _ := token.NewSigner([]byte(strings.Repeat("s", 32)))
			kept := &keptConfirmations{}
			subs := subscribers.New(db, subscribers.Options{Signer: signer, BaseURL: "http://x", Confirmer: kept,
				MaxConfirmationsPerAddressPerDay: 1 << 30})
			if err := subs.SyncLists(ctx, []subscribers.List{{Slug: "kankyo-hozen", NameJA: "環境", Kind: "public", DoubleOptIn: true,
				FromName: "京都市", FromAddress: "a@city.example.jp", PostalAddress: "京都市", Contact: "075"}}); err != nil {
				b.Fatal(err)
			}
			const known = 100
			for i := range known {
				subs.Subscribe(ctx, subscribers.SubscribeRequest{Email: fmt.Sprintf("known%d@example.jp", i), Lists: []string{"kankyo-hozen"}})
				if _, err := subs.Confirm(ctx, strings.TrimPrefix(kept.all[len(kept.all)-1].ConfirmURL, "http://x/confirm/"), subscribers.Evidence{}); err != nil {
					b.Fatal(err)
				}
			}
			a := intakeSubscribers{s: subs}
			if mode == "intake" {
				a.in = subs.NewIntake(nil)
				rctx, cancel := context.WithCancel(ctx)
				defer cancel()
				go a.in.Run(rctx)
			}
			srv, err := New(Options{DB: db, Subscribers: a, SubscribePerMinute: 1e9, SubscribeBurst: 1 << 30})
			if err != nil {
				b.Fatal(err)
			}
			hs := httptest.NewServer(srv)
			defer hs.Close()
			cl := hs.Client()
			post := func(email string) time.Duration {
				start := time.Now()
				resp, err := cl.PostForm(hs.URL+"/subscribe", url.Values{"email": {email}, "list": {"kankyo-hozen"}})
				if err != nil {
					b.Fatal(err)
				}
				var buf bytes.Buffer
				buf.ReadFrom(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("status %d", resp.StatusCode)
				}
				return time.Since(start)
			}
			var fresh, confirmed []time.Duration
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				fresh = append(fresh, post(fmt.Sprintf("new%d-%d@example.jp", i, b.N)))
				confirmed = append(confirmed, post(fmt.Sprintf("known%d@example.jp", i%known)))
			}
			b.StopTimer()
			q := func(ts []time.Duration, p int) float64 {
				slices.Sort(ts)
				return float64(ts[len(ts)*p/100].Microseconds())
			}
			b.ReportMetric(q(fresh, 50), "new-p50-µs")
			b.ReportMetric(q(fresh, 90), "new-p90-µs")
			b.ReportMetric(q(confirmed, 50), "confirmed-p50-µs")
			b.ReportMetric(q(confirmed, 90), "confirmed-p90-µs")
		})
	}
}

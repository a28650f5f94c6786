package bounces

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkIngest10k reads 10,000 DSNs from the in-memory IMAP server,
// records them in SQLite and applies the policy (issue 6 target: < 30 s).
// Run with -benchtime=1x.
func BenchmarkIngest10k(b *testing.B) {
	const n = 10_000
	for b.Loop() {
		b.StopTimer()
		ms := startIMAP(b, TLSNone)
		for i := 1; i <= n; i++ {
			ms.put(b, "INBOX", dsnMail(fmt.Sprintf("b%d@mx", i), int64(i), "5.1.1", "failed", "550 5.1.1 user unknown"))
		}
		rec := newRecorder()
		s := newService(b, ms, rec, Options{})
		b.StartTimer()
		st, err := s.PollOnce(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if st.Bounces != n {
			b.Fatalf("recorded %d, want %d", st.Bounces, n)
		}
	}
}

// BenchmarkList pages the bounces page over 5,000 failed deliveries, 500
// of them reported twice (refused at RCPT, then a relay's DSN), so that
// List groups reports per delivery (issue 18).
func BenchmarkList(b *testing.B) {
	const n, twice = 5_000, 500
	s := newService(b, nil, newRecorder(), Options{})
	ctx := context.Background()
	for i := 1; i <= n; i++ {
		d := Delivery{ID: int64(i), IssueID: 7, SubscriberID: int64(100 + i), Email: fmt.Sprintf("user%d@dest.test", i)}
		if err := s.RecordSendFailure(ctx, d, 550, "5.1.1", "user unknown"); err != nil {
			b.Fatal(err)
		}
	}
	for i := 1; i <= twice; i++ {
		raw := dsnMail(fmt.Sprintf("dsn-%d@mx", i), int64(i), "5.1.1", "failed", "550 5.1.1 user unknown")
		if _, err := s.ingest(ctx, source{mailbox: "INBOX", uidvalidity: 1, uid: uint32(i)}, []byte(raw), &Stats{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if l, err := s.List(ctx, Filter{Page: 90, PerPage: 50}); err != nil || len(l) != 50 {
			b.Fatalf("List = %d, %v", len(l), err)
		}
		if _, err := s.CountsByIssue(ctx, 7); err != nil {
			b.Fatal(err)
		}
	}
}

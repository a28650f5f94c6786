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

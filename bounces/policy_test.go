package bounces

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kawaraban/bounces/classify"
	"kawaraban/internal/testclock"
)

func delivery(id int64) Delivery {
	d, _, _ := fakeDeliveries{}.ByID(context.Background(), id)
	return d
}

func TestHardThreshold(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	s := newService(t, nil, rec, Options{HardThreshold: 2})
	ctx := context.Background()
	d := delivery(1)
	for i, step := range []struct {
		id       int64
		wantSupp bool
	}{
		{1, false}, // first hard bounce: 1 of 2
		{1, false}, // the same delivery reported again counts once
		{2, true},  // second delivery to the same address: 2 of 2
	} {
		dd := d
		dd.ID = step.id
		if err := s.RecordSendFailure(ctx, dd, 550, "5.1.1", "user unknown"); err != nil {
			t.Fatal(err)
		}
		if _, got := rec.suppressed[d.Email]; got != step.wantSupp {
			t.Fatalf("step %d: suppressed = %v, want %v", i, got, step.wantSupp)
		}
	}
	list, err := s.List(ctx, Filter{Email: d.Email})
	if err != nil || len(list) != 2 {
		t.Fatalf("List = %d, %v; want 2", len(list), err)
	}
	if !strings.Contains(list[0].Rule, "2 of threshold 2") || list[0].Outcome != OutcomeSuppressed {
		t.Errorf("rule %q outcome %q", list[0].Rule, list[0].Outcome)
	}
}

// TestPolicyDefaults: the zero Options suppress as the daemon's documented
// defaults do (config.example.yaml's bounce section, docs/BOUNCE-READER.md):
// a hard bounce at once, a soft score of 5, restarting after 30 quiet days.
func TestPolicyDefaults(t *testing.T) {
	t.Parallel()
	var o Options
	o.defaults()
	day := 24 * time.Hour
	if o.HardThreshold != 1 || o.SoftThreshold != 5 || o.SoftWindow != 30*day || o.SoftHalfLife != 15*day || o.SoftPersist != 30*day {
		t.Fatalf("defaults: hard %d, soft %v, window %v, half-life %v, persist %v",
			o.HardThreshold, o.SoftThreshold, o.SoftWindow, o.SoftHalfLife, o.SoftPersist)
	}
}

// TestSoftScore walks one address through soft bounces at chosen times
// (half-life 15 days, window 30 days; threshold 3, or the default 5 where
// a case leaves it zero).
func TestSoftScore(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	cases := []struct {
		name      string
		threshold float64         // Options.SoftThreshold; 0 = the default
		gaps      []time.Duration // before each soft bounce
		delivered int             // NoteDelivered before this bounce index (-1 = never)
		want      bool
	}{
		{"three at once", 3, []time.Duration{0, 0, 0}, -1, true},
		{"two at once", 3, []time.Duration{0, 0}, -1, false},
		{"weekly for six weeks", 3, []time.Duration{0, 7 * day, 7 * day, 7 * day, 7 * day, 7 * day}, -1, true},
		{"weekly for five weeks", 3, []time.Duration{0, 7 * day, 7 * day, 7 * day, 7 * day}, -1, false},
		{"quiet window restarts", 3, []time.Duration{0, 0, 31 * day}, -1, false},
		{"delivery resets", 3, []time.Duration{0, 0, 0}, 2, false},
		{"default: five at once", 0, []time.Duration{0, 0, 0, 0, 0}, -1, true},
		{"default: four at once", 0, []time.Duration{0, 0, 0, 0}, -1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := testclock.New(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC))
			rec := newRecorder()
			s := newService(t, nil, rec, Options{Now: clk.Now, SoftThreshold: tc.threshold})
			ctx := context.Background()
			for i, gap := range tc.gaps {
				clk.Add(gap)
				if i == tc.delivered {
					if err := s.NoteDelivered(ctx, "USER1@dest.test"); err != nil {
						t.Fatal(err)
					}
				}
				d := delivery(1)
				d.ID = int64(i + 1)
				if err := s.RecordSendFailure(ctx, d, 452, "4.2.2", "mailbox full"); err != nil {
					t.Fatal(err)
				}
			}
			_, got := rec.suppressed["user1@dest.test"]
			if got != tc.want {
				list, _ := s.List(ctx, Filter{})
				t.Errorf("suppressed = %v, want %v; last rule: %s", got, tc.want, list[0].Rule)
			}
		})
	}
}

func TestPolicyRefusalAlerts(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	rec := newRecorder()
	s := newService(t, nil, rec, Options{Registerer: reg})
	ctx := context.Background()
	if err := s.RecordSendFailure(ctx, delivery(3), 550, "5.7.1", "rejected by DMARC policy"); err != nil {
		t.Fatal(err)
	}
	if rec.nSuppressed() != 0 {
		t.Errorf("a 5.7.1 refusal suppressed %v", rec.suppressed)
	}
	alerts, err := s.Alerts(ctx)
	if err != nil || len(alerts) != 1 {
		t.Fatalf("alerts %v, %v", alerts, err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got float64
	for _, mf := range mfs {
		if mf.GetName() == "kawaraban_bounce_alerts_total" {
			got = mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	if got != 1 {
		t.Errorf("kawaraban_bounce_alerts_total = %v, want 1", got)
	}
	if len(rec.bounced) != 1 || rec.bounced[0] != 3 {
		t.Errorf("marked bounced %v, want [3]", rec.bounced)
	}
}

func TestMarkNotABounce(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	s := newService(t, nil, rec, Options{})
	ctx := context.Background()
	if err := s.RecordSendFailure(ctx, delivery(4), 550, "5.1.1", "user unknown"); err != nil {
		t.Fatal(err)
	}
	list, _ := s.List(ctx, Filter{})
	id := list[0].ID
	if err := s.MarkNotABounce(ctx, id, "editor1"); err != nil {
		t.Fatal(err)
	}
	if rec.nSuppressed() != 0 || len(rec.unsuppressed) != 1 {
		t.Errorf("suppressed %v unsuppressed %v", rec.suppressed, rec.unsuppressed)
	}
	b, err := s.ByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !b.NotABounce || b.NotABounceBy != "editor1" || !strings.Contains(b.Explanation(), "marked not a bounce by editor1") {
		t.Errorf("bounce %+v; explanation %q", b, b.Explanation())
	}
	counts, err := s.CountsByIssue(ctx, 7)
	if err != nil || counts[classify.Hard] != 0 {
		t.Errorf("counts %v, %v; want no hard bounce counted", counts, err)
	}
	if err := s.MarkNotABounce(ctx, 999, "editor1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v, want ErrNotFound", err)
	}
	if _, err := s.ByID(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("ByID unknown: %v, want ErrNotFound", err)
	}
}

func TestByIDKeepsRawAndExplains(t *testing.T) {
	t.Parallel()
	ms := startIMAP(t, TLSNone)
	rec := newRecorder()
	s := newService(t, ms, rec, Options{MaxRawBytes: 100})
	raw := dsnMail("b1@mx", 8, "5.1.1", "failed", "550 5.1.1 user unknown")
	ms.put(t, "INBOX", raw)
	ctx := context.Background()
	if _, err := s.PollOnce(ctx); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx, Filter{SubscriberID: 108, Class: classify.Hard})
	if err != nil || len(list) != 1 {
		t.Fatalf("List = %v, %v", list, err)
	}
	b, err := s.ByID(ctx, list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if string(b.Raw) != raw[:100] || !b.RawTruncated {
		t.Errorf("raw %q truncated %v", b.Raw, b.RawTruncated)
	}
	if b.AttributedBy != "verp" || b.DeliveryID != 8 || b.Mailbox != "INBOX" || b.UID != 1 {
		t.Errorf("bounce %+v", b)
	}
	want := "hard (attributed by the VERP token in the return path); hard bounce (status 5.1.1)"
	if !strings.HasPrefix(b.Explanation(), want) {
		t.Errorf("explanation %q, want prefix %q", b.Explanation(), want)
	}
}

// TestAttributionOrder: without a VERP token the returned Message-ID
// decides; without that, X-Kawaraban-Delivery. Both count only when the
// report names the recipient the delivery went to (issue 15): otherwise,
// and with neither, the report is unverified and changes nothing.
func TestAttributionOrder(t *testing.T) {
	t.Parallel()
	mk := func(to, rcpt, returned string) string {
		return "From: MAILER-DAEMON@mx.test\r\nTo: " + to + "\r\nMessage-ID: <bounce@mx.test>\r\n" +
			"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=B\r\n\r\n" +
			"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.test\r\n\r\n" +
			"Final-Recipient: rfc822; " + rcpt + "\r\nAction: failed\r\nStatus: 5.1.1\r\n" +
			"--B\r\nContent-Type: text/rfc822-headers\r\n\r\n" + returned + "--B--\r\n"
	}
	// A feedback loop report that redacts the recipient (no
	// Original-Rcpt-To), sent to a plain address.
	arf := func(returned string) string {
		return "From: fbl@isp.test\r\nTo: bounces@" + testDomain + "\r\nMessage-ID: <arf@isp.test>\r\n" +
			"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=feedback-report; boundary=A\r\n\r\n" +
			"--A\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nVersion: 1\r\n" +
			"--A\r\nContent-Type: text/rfc822-headers\r\n\r\n" + returned + "--A--\r\n"
	}
	const other = "someone@else.test"
	cases := []struct {
		name, mail, by string
		delivery       int64
		email, outcome string
	}{
		{"verp", mk("bounces+11@"+testDomain, other, "Message-ID: <d12@example.test>\r\n"), "verp", 11, "user11@dest.test", OutcomeSuppressed},
		{"message-id", mk("bounces@"+testDomain, "user12@dest.test", "Message-ID: <d12@example.test>\r\n"), "message-id", 12, "user12@dest.test", OutcomeSuppressed},
		{"header", mk("bounces@"+testDomain, "User13@dest.test", "Message-ID: <x@y>\r\nX-Kawaraban-Delivery: 13\r\n"), "delivery-header", 13, "user13@dest.test", OutcomeSuppressed},
		{"message-id of another recipient", mk("bounces@"+testDomain, other, "Message-ID: <d12@example.test>\r\n"), "recipient", 0, other, OutcomeUnverified},
		{"header of another recipient", mk("bounces@"+testDomain, other, "Message-ID: <x@y>\r\nX-Kawaraban-Delivery: 13\r\n"), "recipient", 0, other, OutcomeUnverified},
		{"redacted complaint, message-id", arf("Message-ID: <d12@example.test>\r\n"), "message-id", 12, "user12@dest.test", OutcomeUnsubscribed},
		{"redacted complaint, header", arf("Message-ID: <x@y>\r\nX-Kawaraban-Delivery: 13\r\n"), "claimed", 0, "user13@dest.test", OutcomeUnverified},
		{"recipient only", mk("bounces@"+testDomain, other, "Message-ID: <x@y>\r\n"), "recipient", 0, other, OutcomeUnverified},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder()
			s := newService(t, nil, rec, Options{})
			var st Stats
			if _, err := s.ingest(context.Background(), source{mailbox: "INBOX", uidvalidity: 1, uid: 1}, []byte(tc.mail), &st); err != nil {
				t.Fatal(err)
			}
			list, err := s.List(context.Background(), Filter{})
			if err != nil || len(list) != 1 {
				t.Fatalf("List = %v, %v", list, err)
			}
			b := list[0]
			if b.AttributedBy != tc.by || b.DeliveryID != tc.delivery || b.Email != tc.email || b.Outcome != tc.outcome {
				t.Errorf("attributed %q delivery %d email %q outcome %q; want %q %d %q %q",
					b.AttributedBy, b.DeliveryID, b.Email, b.Outcome, tc.by, tc.delivery, tc.email, tc.outcome)
			}
			if tc.outcome == OutcomeUnverified && (rec.nSuppressed() != 0 || len(rec.bounced) != 0 || !b.Unverified()) {
				t.Errorf("unverified report acted: suppressed %v, bounced %v", rec.suppressed, rec.bounced)
			}
		})
	}
}

// A delivery refused at RCPT whose relay also sends a DSN (local mode's
// *.invalid, or two hops) is one bounce toward the threshold, not two.
func TestSendFailureAndDSNCountOnce(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	s := newService(t, nil, rec, Options{HardThreshold: 2})
	ctx := context.Background()
	d := delivery(1)
	if err := s.RecordSendFailure(ctx, d, 550, "5.1.1", "user unknown"); err != nil {
		t.Fatal(err)
	}
	raw := dsnMail("dsn-1@mx.example.test", d.ID, "5.1.1", "failed", "550 5.1.1 user unknown")
	if _, err := s.ingest(ctx, source{mailbox: "INBOX", uidvalidity: 1, uid: 1}, []byte(raw), &Stats{}); err != nil {
		t.Fatal(err)
	}
	if _, got := rec.suppressed[d.Email]; got {
		t.Fatal("suppressed after one failed delivery reported twice (threshold 2)")
	}
	// Issue 18: one bounce, one row, with both pieces of evidence.
	list, err := s.List(ctx, Filter{Email: d.Email})
	if err != nil || len(list) != 1 {
		t.Fatalf("List = %d, %v; want one row for one failed delivery", len(list), err)
	}
	b := list[0]
	if b.Mailbox != "" || len(b.Also) != 1 || b.Also[0].Mailbox != "INBOX" || !strings.Contains(b.Also[0].Rule, "counted once") {
		t.Fatalf("row %+v; want the send-time refusal with the DSN in Also", b)
	}
	for _, want := range []string{"refused by the receiving server while sending", "also reported by bounce", "DSN rfc3464"} {
		if !strings.Contains(b.Explanation(), want) {
			t.Errorf("explanation %q lacks %q", b.Explanation(), want)
		}
	}
	if ev := b.Evidence(); strings.Count(ev, "user unknown") != 2 {
		t.Errorf("evidence %q; want both diagnostics", ev)
	}
	if l, _ := s.List(ctx, Filter{SubscriberID: d.SubscriberID}); len(l) != 1 {
		t.Errorf("subscriber history lists %d rows, want 1", len(l))
	}
	if c, err := s.CountsByIssue(ctx, d.IssueID); err != nil || c[classify.Hard] != 1 {
		t.Errorf("counts %v, %v; want one hard bounce", c, err)
	}
	// Staff marking the row not a bounce marks both reports.
	if err := s.MarkNotABounce(ctx, b.ID, "editor1"); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.CountsByIssue(ctx, d.IssueID); c[classify.Hard] != 0 {
		t.Errorf("counts after marking %v; want none", c)
	}
}

// TestRefusalThenSoftDSNCountOnce: the refusal at RCPT and the relay's DSN
// may disagree on the class; they are still one failed delivery.
func TestRefusalThenSoftDSNCountOnce(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	s := newService(t, nil, rec, Options{})
	ctx := context.Background()
	d := delivery(2)
	if err := s.RecordSendFailure(ctx, d, 550, "5.1.1", "user unknown"); err != nil {
		t.Fatal(err)
	}
	raw := dsnMail("dsn-2@mx.example.test", d.ID, "5.2.2", "failed", "552 5.2.2 mailbox full")
	if _, err := s.ingest(ctx, source{mailbox: "INBOX", uidvalidity: 1, uid: 1}, []byte(raw), &Stats{}); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx, Filter{})
	if err != nil || len(list) != 1 || len(list[0].Also) != 1 || list[0].Also[0].Class != classify.Soft {
		t.Fatalf("List = %+v, %v; want one hard row with the soft DSN in Also", list, err)
	}
	if l, _ := s.List(ctx, Filter{Class: classify.Soft}); len(l) != 0 {
		t.Errorf("soft filter lists %d rows; the group is hard", len(l))
	}
}

// TestIssue18RepeatedRefusalSuppresses: a soft refusal that repeats for
// every issue ends in suppression after SoftPersist (30 days), even when
// issues are too far apart for the decaying score to reach its threshold;
// a policy block of our mail (5.7.x about the sender) never does.
func TestIssue18RepeatedRefusalSuppresses(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	filter := func(s *Service, ctx context.Context, d Delivery) error {
		// A carrier's 指定受信 filter answering 5.7.1 at send time.
		return s.RecordSendFailure(ctx, d, 550, "5.7.1", "指定受信の設定により受信を拒否しました")
	}
	full := func(s *Service, ctx context.Context, d Delivery) error {
		// A permanent code for a temporary condition: still soft.
		return s.RecordSendFailure(ctx, d, 552, "5.2.2", "Mailbox full")
	}
	block := func(s *Service, ctx context.Context, d Delivery) error {
		return s.RecordSendFailure(ctx, d, 554, "5.7.1", "Service unavailable; client host blocked using zen.spamhaus.org")
	}
	cases := []struct {
		name      string
		refuse    func(*Service, context.Context, Delivery) error
		gap       time.Duration
		n         int
		delivered int // NoteDelivered before this refusal (-1 never)
		want      bool
		wantRule  string
	}{
		{"filter every 15 days, 30 days", filter, 15 * day, 3, -1, true, "refused 3 times in a row since 2026-04-01 (30d"},
		{"filter every 15 days, 15 days", filter, 15 * day, 2, -1, false, "below threshold"},
		{"filter monthly, two issues", filter, 30 * day, 2, -1, true, "refused 2 times in a row"},
		{"full mailbox every 15 days, 30 days", full, 15 * day, 3, -1, true, "reason mailboxfull"},
		{"a delivery between restarts the run", filter, 15 * day, 3, 2, false, "below threshold"},
		{"monthly with a quiet gap restarts", filter, 31 * day, 3, -1, false, "below threshold"},
		{"policy block of our mail, 60 days", block, 15 * day, 5, -1, false, "operator alerted"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := testclock.New(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC))
			rec := newRecorder()
			s := newService(t, nil, rec, Options{Now: clk.Now})
			ctx := context.Background()
			for i := 0; i < tc.n; i++ {
				if i > 0 {
					clk.Add(tc.gap)
				}
				if i == tc.delivered {
					if err := s.NoteDelivered(ctx, "user1@dest.test"); err != nil {
						t.Fatal(err)
					}
				}
				d := delivery(1)
				d.ID = int64(i + 1)
				if err := tc.refuse(s, ctx, d); err != nil {
					t.Fatal(err)
				}
			}
			list, err := s.List(ctx, Filter{})
			if err != nil || len(list) != tc.n {
				t.Fatalf("List = %d, %v; want %d", len(list), err, tc.n)
			}
			_, got := rec.suppressed["user1@dest.test"]
			if got != tc.want || !strings.Contains(list[0].Rule, tc.wantRule) {
				t.Errorf("suppressed = %v, want %v; last rule: %s (want %q)", got, tc.want, list[0].Rule, tc.wantRule)
			}
		})
	}
}

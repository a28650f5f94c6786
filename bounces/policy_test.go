package bounces

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kawaraban/bounces/classify"
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

// TestSoftScore walks one address through soft bounces at chosen times
// (threshold 3, half-life 15 days, window 30 days).
func TestSoftScore(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	cases := []struct {
		name      string
		gaps      []time.Duration // before each soft bounce
		delivered int             // NoteDelivered before this bounce index (-1 = never)
		want      bool
	}{
		{"three at once", []time.Duration{0, 0, 0}, -1, true},
		{"two at once", []time.Duration{0, 0}, -1, false},
		{"weekly for six weeks", []time.Duration{0, 7 * day, 7 * day, 7 * day, 7 * day, 7 * day}, -1, true},
		{"weekly for five weeks", []time.Duration{0, 7 * day, 7 * day, 7 * day, 7 * day}, -1, false},
		{"quiet window restarts", []time.Duration{0, 0, 31 * day}, -1, false},
		{"delivery resets", []time.Duration{0, 0, 0}, 2, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := &clock{t: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}
			rec := newRecorder()
			s := newService(t, nil, rec, Options{Now: clk.now})
			ctx := context.Background()
			for i, gap := range tc.gaps {
				clk.add(gap)
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
// decides; without that, X-Kawaraban-Delivery; then the named recipient.
func TestAttributionOrder(t *testing.T) {
	t.Parallel()
	mk := func(to, returned string) string {
		return "From: MAILER-DAEMON@mx.test\r\nTo: " + to + "\r\nMessage-ID: <bounce@mx.test>\r\n" +
			"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=B\r\n\r\n" +
			"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.test\r\n\r\n" +
			"Final-Recipient: rfc822; someone@else.test\r\nAction: failed\r\nStatus: 5.1.1\r\n" +
			"--B\r\nContent-Type: text/rfc822-headers\r\n\r\n" + returned + "--B--\r\n"
	}
	cases := []struct {
		name, mail, by string
		delivery       int64
		email          string
	}{
		{"verp", mk("bounces+11@"+testDomain, "Message-ID: <d12@example.test>\r\n"), "verp", 11, "user11@dest.test"},
		{"message-id", mk("bounces@"+testDomain, "Message-ID: <d12@example.test>\r\n"), "message-id", 12, "user12@dest.test"},
		{"header", mk("bounces@"+testDomain, "Message-ID: <x@y>\r\nX-Kawaraban-Delivery: 13\r\n"), "delivery-header", 13, "user13@dest.test"},
		{"recipient", mk("bounces@"+testDomain, "Message-ID: <x@y>\r\n"), "recipient", 0, "someone@else.test"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newService(t, nil, newRecorder(), Options{})
			var st Stats
			if _, err := s.ingest(context.Background(), source{mailbox: "INBOX", uidvalidity: 1, uid: 1}, []byte(tc.mail), &st); err != nil {
				t.Fatal(err)
			}
			list, err := s.List(context.Background(), Filter{})
			if err != nil || len(list) != 1 {
				t.Fatalf("List = %v, %v", list, err)
			}
			if b := list[0]; b.AttributedBy != tc.by || b.DeliveryID != tc.delivery || b.Email != tc.email {
				t.Errorf("attributed %q delivery %d email %q; want %q %d %q", b.AttributedBy, b.DeliveryID, b.Email, tc.by, tc.delivery, tc.email)
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
	list, err := s.List(ctx, Filter{Email: d.Email})
	if err != nil || len(list) != 2 {
		t.Fatalf("List = %d, %v; want both reports kept", len(list), err)
	}
	if !strings.Contains(list[0].Rule, "counted once") {
		t.Errorf("second report's rule %q", list[0].Rule)
	}
}

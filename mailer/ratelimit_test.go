package mailer

import (
	"context"
	"math"
	"testing"
	"time"
)

// TestDomainLimitsHold drives the limiter with an injected clock for ten
// simulated minutes and checks each domain's rate within 10% (issue 5).
func TestDomainLimitsHold(t *testing.T) {
	t.Parallel()
	limits := mergeLimits(map[string]DomainLimit{"example.jp": {PerMinute: 120}})
	cases := []struct {
		domain string
		want   float64 // per minute
	}{
		{"docomo.ne.jp", 600},
		{"ymobile.ne.jp", 300},
		{"example.jp", 120},
	}
	for _, tc := range cases {
		t.Run(tc.domain, func(t *testing.T) {
			t.Parallel()
			l := newLimiter(0, limits)
			now := time.Unix(1_800_000_000, 0)
			end := now.Add(10 * time.Minute)
			sent := 0
			for now.Before(end) {
				wait, ok := l.acquire(tc.domain, now)
				if ok {
					sent++
					l.release(tc.domain)
					continue
				}
				now = now.Add(wait)
			}
			perMin := float64(sent) / 10
			if math.Abs(perMin-tc.want)/tc.want > 0.10 {
				t.Errorf("%s: %.1f/min, want %v ±10%%", tc.domain, perMin, tc.want)
			}
		})
	}
}

func TestGlobalRateAndConcurrency(t *testing.T) {
	t.Parallel()
	l := newLimiter(50, map[string]DomainLimit{"c.jp": {Concurrency: 2}})
	now := time.Unix(1_800_000_000, 0)
	if _, ok := l.acquire("c.jp", now); !ok {
		t.Fatal("first acquire refused")
	}
	if _, ok := l.acquire("c.jp", now); !ok {
		t.Fatal("second acquire refused")
	}
	if _, ok := l.acquire("c.jp", now.Add(time.Second)); ok {
		t.Fatal("third concurrent send allowed with Concurrency 2")
	}
	l.release("c.jp")
	if _, ok := l.acquire("c.jp", now.Add(time.Second)); !ok {
		t.Fatal("acquire after release refused")
	}
	// Global: 50/s over 10 simulated seconds.
	l = newLimiter(50, nil)
	sent := 0
	end := now.Add(10 * time.Second)
	for now.Before(end) {
		wait, ok := l.acquire("x.jp", now)
		if ok {
			sent++
			l.release("x.jp")
			continue
		}
		now = now.Add(wait)
	}
	if sent < 450 || sent > 555 {
		t.Errorf("global 50/s for 10 s sent %d", sent)
	}
}

func TestThrottleBacksOff(t *testing.T) {
	t.Parallel()
	l := newLimiter(0, nil)
	now := time.Unix(1_800_000_000, 0)
	u1 := l.throttle("au.com", now)
	u2 := l.throttle("au.com", now)
	if u1.Sub(now) != 30*time.Second || u2.Sub(now) != time.Minute {
		t.Errorf("holds %v then %v, want 30s then 1m", u1.Sub(now), u2.Sub(now))
	}
	if wait, ok := l.acquire("au.com", now.Add(10*time.Second)); ok || wait != 50*time.Second {
		t.Errorf("acquire during hold = %v, %v", wait, ok)
	}
	if _, ok := l.acquire("other.jp", now); !ok {
		t.Error("another domain held too")
	}
	if _, ok := l.acquire("au.com", u2); !ok {
		t.Error("still held after the hold")
	}
}

func TestWindowNext(t *testing.T) {
	t.Parallel()
	jst := time.FixedZone("JST", 9*3600)
	w := &Window{
		Weekdays:          []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
		From:              8 * time.Hour,
		To:                20 * time.Hour,
		Location:          jst,
		AvoidFirstMinutes: map[string]int{"docomo.ne.jp": 5},
	}
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, jst) } // 23 Nov 2026 is a Monday
	cases := []struct {
		name   string
		t      time.Time
		domain string
		want   time.Time
	}{
		{"open", at(24, 10, 30), "example.jp", at(24, 10, 30)},
		{"before opening", at(24, 6, 0), "example.jp", at(24, 8, 0)},
		{"after closing", at(24, 21, 0), "example.jp", at(25, 8, 0)},
		{"friday night to monday", at(27, 20, 0), "example.jp", at(30, 8, 0)},
		{"saturday", at(28, 12, 0), "example.jp", at(30, 8, 0)},
		{"docomo top of hour", at(24, 10, 2), "docomo.ne.jp", at(24, 10, 5)},
		{"docomo opening", at(24, 7, 0), "docomo.ne.jp", at(24, 8, 5)},
		{"others at top of hour", at(24, 10, 2), "example.jp", at(24, 10, 2)},
	}
	for _, tc := range cases {
		if got := w.Next(tc.t, tc.domain); !got.Equal(tc.want) {
			t.Errorf("%s: Next(%v) = %v, want %v", tc.name, tc.t, got, tc.want)
		}
	}
	var none *Window
	if got := none.Next(at(28, 3, 0), "x"); !got.Equal(at(28, 3, 0)) {
		t.Errorf("nil window holds mail")
	}
}

// The engine holds docomo mail in the first minutes of the hour (injected
// clock) while other mail goes out.
func TestWindowHoldsDocomo(t *testing.T) {
	t.Parallel()
	jst := time.FixedZone("JST", 9*3600)
	now := time.Date(2026, 11, 24, 10, 2, 0, 0, jst)
	e := newEngine(t, nil, func(o *Options) {
		o.Now = func() time.Time { return now }
		o.Window = &Window{Location: jst, AvoidFirstMinutes: map[string]int{"docomo.ne.jp": 5}}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := e.Snapshot(ctx, 1, 1, listSource{"a@docomo.ne.jp", "b@example.jp"}); err != nil {
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() { ran <- e.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for e.sink.count("b@example.jp") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("other mail held too")
		}
		time.Sleep(5 * time.Millisecond) // polling
	}
	var next int64
	var st string
	for time.Now().Before(deadline) {
		e.db.QueryRow(`SELECT status, next_attempt_ms FROM deliveries WHERE email = 'a@docomo.ne.jp'`).Scan(&st, &next)
		if st == StatusQueued && next > 0 {
			break
		}
		time.Sleep(5 * time.Millisecond) // polling
	}
	cancel()
	<-ran
	if want := time.Date(2026, 11, 24, 10, 5, 0, 0, jst); st != StatusQueued || !time.UnixMilli(next).Equal(want) {
		t.Errorf("docomo delivery %s until %v, want queued until %v", st, time.UnixMilli(next).In(jst), want)
	}
	if e.sink.count("a@docomo.ne.jp") != 0 {
		t.Error("docomo mail sent in the first minutes of the hour")
	}
}

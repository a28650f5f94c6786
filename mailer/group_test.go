package mailer

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"kawaraban/localmail"
)

// TestWireSendGroup writes several transactions at once to a go-smtp
// relay (issue 19): a refused recipient, content refused at BDAT and a
// 421 each fail their own transaction only, the others are taken exactly
// once, and the connection is given up after the 421.
func TestWireSendGroup(t *testing.T) {
	t.Parallel()
	relay, dial := faultRelay(t)
	msg := func(to string) *tx {
		return &tx{from: "bounces+x@b.example.jp", to: to, data: []byte("Subject: " + to + "\r\n\r\nhello\r\n")}
	}

	w := dial()
	txs := []*tx{msg("a@example.jp"), msg("refused@example.jp"), msg("b@example.jp"), msg("content@example.jp"), msg("c@example.jp")}
	if broken := w.sendGroup(txs); broken {
		t.Error("connection given up after ordinary refusals")
	}
	want := []struct {
		code  int
		stage string
	}{{0, ""}, {550, StageRcpt}, {0, ""}, {554, StageData}, {0, ""}}
	for i, tc := range want {
		e := txs[i].e
		switch {
		case tc.code == 0 && e != nil:
			t.Errorf("%s: %v", txs[i].to, e)
		case tc.code != 0 && (e == nil || e.Code != tc.code || e.Stage != tc.stage || e.Temporary):
			t.Errorf("%s: %+v, want %d at %s", txs[i].to, e, tc.code, tc.stage)
		}
	}
	// The connection still works for a single transaction.
	if _, e, broken := w.send("bounces+x@b.example.jp", "d@example.jp", []byte("x\r\n"), chunkOneWrite); e != nil || broken {
		t.Errorf("send after the group: %v, broken %v", e, broken)
	}
	w.quit()

	w = dial()
	txs = []*tx{msg("e@example.jp"), msg("slow@example.jp"), msg("f@example.jp")}
	if broken := w.sendGroup(txs); !broken {
		t.Error("connection kept after a 421")
	}
	if txs[0].e != nil || txs[1].e == nil || txs[1].e.Code != 421 || !txs[1].e.Temporary {
		t.Errorf("before and at the 421: %v, %v", txs[0].e, txs[1].e)
	}
	w.nc.Close()

	copies := map[string]int{}
	for _, m := range relay.Messages() {
		for _, r := range m.To {
			copies[r]++
		}
	}
	for _, r := range []string{"a@example.jp", "b@example.jp", "c@example.jp", "d@example.jp", "e@example.jp"} {
		if copies[r] != 1 {
			t.Errorf("%s: %d copies, want 1", r, copies[r])
		}
	}
	for _, r := range []string{"refused@example.jp", "content@example.jp", "slow@example.jp"} {
		if copies[r] != 0 {
			t.Errorf("%s: %d copies, want 0", r, copies[r])
		}
	}
	// go-smtp goes on after a 421 it was told to answer: whatever it did
	// with the transaction after it, the client says so truthfully.
	if copies["f@example.jp"] == 1 && txs[2].e != nil {
		t.Errorf("f@example.jp was taken but reported %v", txs[2].e)
	}
	if copies["f@example.jp"] == 0 && txs[2].e == nil {
		t.Error("f@example.jp reported taken but was not")
	}
}

// faultRelay starts a relay that refuses the recipient refused@ (550),
// the content of content@ (554 at BDAT) and answers slow@'s content with
// 421, and returns it with a dialer of wires to it that checks CHUNKING.
func faultRelay(t *testing.T) (*localmail.SMTP, func() *wire) {
	t.Helper()
	fault := func(ev localmail.Event) localmail.Action {
		switch {
		case ev.Stage == localmail.StageRcpt && strings.HasPrefix(ev.To, "refused@"):
			return localmail.Reply(550, "5.1.1", "no such user")
		case ev.Stage == localmail.StageData && len(ev.Rcpts) == 1 && strings.HasPrefix(ev.Rcpts[0], "content@"):
			return localmail.Reply(554, "5.6.0", "content rejected")
		case ev.Stage == localmail.StageData && len(ev.Rcpts) == 1 && strings.HasPrefix(ev.Rcpts[0], "slow@"):
			return localmail.Reply(421, "4.7.0", "slow down")
		}
		return localmail.Action{}
	}
	relay, err := localmail.NewSMTP(localmail.SMTPOptions{Keep: true, Fault: fault})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := relay.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go relay.Run(ctx)
	return relay, func() *wire {
		nc, err := net.Dial("tcp", addr.String())
		if err != nil {
			t.Fatal(err)
		}
		w := newWire(nc, 5*time.Second)
		if err := w.start(TLSNone, "client.test", nil, Relay{}); err != nil {
			t.Fatal(err)
		}
		if !w.chunking() {
			t.Fatal("relay offers no CHUNKING with PIPELINING")
		}
		return w
	}
}

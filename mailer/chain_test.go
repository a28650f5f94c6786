package mailer

import (
	"strings"
	"testing"
)

// TestOneRead: the next MAIL and RCPT go behind a BDAT LAST only when no
// relayReadSize piece of the write ends between the end of the message
// and the end of the RCPT command (issue 22).
func TestOneRead(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		end, total int
		want       bool
	}{
		{100, 200, true},
		{4000, 4096, true},
		{4000, 4097, false},
		{4096, 4200, false}, // the message ends a piece: its reply goes alone
		{4097, 4200, true},
		{7300, 7400, true},
		{8150, 8192, true},
		{8150, 8193, false},
		{8193, 8300, true},
	} {
		if got := oneRead(tc.end, tc.total); got != tc.want {
			t.Errorf("oneRead(%d, %d) = %v, want %v", tc.end, tc.total, got, tc.want)
		}
	}
}

// TestWireSendChain carries transactions in the split shape with each
// next MAIL and RCPT behind the previous BDAT LAST (issue 22): a refused
// recipient and content refused at BDAT fail their own transaction only
// (the transaction after a refused BDAT is reset and sent again), the
// others are taken exactly once, and a 421 ends the connection.
func TestWireSendChain(t *testing.T) {
	t.Parallel()
	relay, dial := faultRelay(t)
	msg := func(to string, size int) *tx {
		data := "Subject: " + to + "\r\n\r\n" + strings.Repeat("hello\r\n", size/7+1)
		return &tx{from: "bounces+x@b.example.jp", to: to, data: []byte(data)}
	}

	w := dial()
	txs := []*tx{msg("a@example.jp", 100), msg("refused@example.jp", 100), msg("b@example.jp", 100),
		msg("content@example.jp", 100), msg("c@example.jp", 100), msg("g@example.jp", 4050), msg("h@example.jp", 7200),
		msg("i@example.jp", 40_000), msg("j@example.jp", 100)}
	if broken := w.sendChain(txs); broken {
		t.Error("connection given up after ordinary refusals")
	}
	for _, tt := range txs {
		var code int
		var stage string
		switch tt.to {
		case "refused@example.jp":
			code, stage = 550, StageRcpt
		case "content@example.jp":
			code, stage = 554, StageData
		}
		e := tt.e
		switch {
		case code == 0 && e != nil:
			t.Errorf("%s: %v", tt.to, e)
		case code != 0 && (e == nil || e.Code != code || e.Stage != stage || e.Temporary):
			t.Errorf("%s: %+v, want %d at %s", tt.to, e, code, stage)
		}
	}
	if _, e, broken := w.send("bounces+x@b.example.jp", "d@example.jp", []byte("x\r\n"), chunkSplit); e != nil || broken {
		t.Errorf("send after the chain: %v, broken %v", e, broken)
	}
	w.quit()

	w = dial()
	txs = []*tx{msg("e@example.jp", 100), msg("slow@example.jp", 100), msg("f@example.jp", 100)}
	if broken := w.sendChain(txs); !broken {
		t.Error("connection kept after a 421")
	}
	if txs[0].e != nil || txs[1].e == nil || txs[1].e.Code != 421 || !txs[1].e.Temporary || txs[2].e == nil || !txs[2].e.Temporary {
		t.Errorf("around the 421: %v, %v, %v", txs[0].e, txs[1].e, txs[2].e)
	}
	w.nc.Close()

	copies := map[string]int{}
	for _, m := range relay.Messages() {
		for _, r := range m.To {
			copies[r]++
		}
	}
	for _, r := range []string{"a", "b", "c", "d", "e", "g", "h", "i", "j"} {
		if copies[r+"@example.jp"] != 1 {
			t.Errorf("%s: %d copies, want 1", r, copies[r+"@example.jp"])
		}
	}
	for _, r := range []string{"refused", "content", "slow", "f"} {
		if copies[r+"@example.jp"] != 0 {
			t.Errorf("%s: %d copies, want 0", r, copies[r+"@example.jp"])
		}
	}
}

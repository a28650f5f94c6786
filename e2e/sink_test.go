//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"

	"kawaraban/localmail"
)

// sink is an in-test SMTP relay that only counts copies per recipient.
type sink struct {
	*localmail.SMTP
	addr   string
	cancel context.CancelFunc
	done   chan struct{}
}

// startSink listens on addr ("127.0.0.1:0" for any port) and serves.
func startSink(t *testing.T, addr string) *sink {
	t.Helper()
	s, err := localmail.NewSMTP(localmail.SMTPOptions{CountOnly: true, Hostname: "sink.example.test"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Listen(addr)
	if err != nil {
		t.Fatalf("sink: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	k := &sink{SMTP: s, addr: a.String(), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(k.done)
		_ = s.Run(ctx)
	}()
	t.Cleanup(k.stop)
	return k
}

// stop closes the sink at once (connections cut, listener closed).
func (k *sink) stop() {
	k.cancel()
	_ = k.SMTP.Close()
	<-k.done
}

// port is the sink's TCP port.
func (k *sink) port() int { return k.Addr().(*net.TCPAddr).Port }

// recipients returns n addresses at sink.test with the scenario's nonce.
func recipients(n int, tag string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("r%05d-%s@sink.test", i+1, tag)
	}
	return out
}

// tally counts, over all sinks, recipients with no copy and the extra
// copies beyond one.
func tally(addrs []string, sinks ...*sink) (missing []string, dups int) {
	for _, a := range addrs {
		c := 0
		for _, s := range sinks {
			c += s.Count(a)
		}
		if c == 0 {
			missing = append(missing, a)
		}
		if c > 1 {
			dups += c - 1
		}
	}
	return missing, dups
}

// firstFew shortens a list for a failure message.
func firstFew(s []string) string {
	if len(s) > 5 {
		return strings.Join(s[:5], ", ") + fmt.Sprintf(" … (%d in all)", len(s))
	}
	return strings.Join(s, ", ")
}

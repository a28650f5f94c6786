package bounces

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"kawaraban/store"
)

const testDomain = "example.test"

// mailServer is an in-memory IMAP server on loopback whose connections a
// test can cut after a number of bytes sent to the client.
type mailServer struct {
	addr string
	user *imapmemserver.User
	cut  atomic.Int64 // >0: close the next connection after this many bytes written
	// roots trusts the server's certificate (TLS modes only).
	roots *x509.CertPool
	mode  string
}

func startIMAP(t testing.TB, tlsMode string) *mailServer {
	t.Helper()
	ms := &mailServer{mode: tlsMode}
	mem := imapmemserver.New()
	ms.user = imapmemserver.NewUser("bounces@example.test", "secret")
	for _, box := range []string{"INBOX", "Processed", "Staff", "Commands"} {
		if err := ms.user.Create(box, nil); err != nil {
			t.Fatal(err)
		}
	}
	mem.AddUser(ms.user)
	opts := &imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: tlsMode == TLSNone,
		Logger:       log.New(io.Discard, "", 0), // cut connections are expected
	}
	var ln net.Listener
	var err error
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if tlsMode != TLSNone {
		opts.TLSConfig, ms.roots = serverTLS(t)
		if tlsMode == TLSImplicit {
			ln = tls.NewListener(ln, opts.TLSConfig)
		}
	}
	srv := imapserver.New(opts)
	go srv.Serve(&cutListener{Listener: ln, ms: ms})
	t.Cleanup(func() { srv.Close() })
	ms.addr = ln.Addr().String()
	return ms
}

type cutListener struct {
	net.Listener
	ms *mailServer
}

func (l *cutListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if n := l.ms.cut.Swap(0); n > 0 {
		return &cutConn{Conn: c, left: n}, nil
	}
	return c, nil
}

// cutConn closes itself once it has written left bytes: the client sees
// the server vanish in the middle of a response.
type cutConn struct {
	net.Conn
	mu   sync.Mutex
	left int64
}

func (c *cutConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if int64(len(p)) >= c.left {
		n, _ := c.Conn.Write(p[:c.left])
		c.Conn.Close()
		return n, net.ErrClosed
	}
	c.left -= int64(len(p))
	return c.Conn.Write(p)
}

// put appends raw to box directly on the server.
func (ms *mailServer) put(t testing.TB, box string, raw string) {
	t.Helper()
	if _, err := ms.user.Append(box, bytes.NewReader([]byte(raw)), &imap.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
}

// flags returns the flags of every message in box, by UID, read with a
// separate client.
func (ms *mailServer) flags(t testing.TB, box string) map[imap.UID][]imap.Flag {
	t.Helper()
	var c *imapclient.Client
	var err error
	copts := &imapclient.Options{TLSConfig: &tls.Config{RootCAs: ms.roots}}
	switch ms.mode {
	case TLSImplicit:
		c, err = imapclient.DialTLS(ms.addr, copts)
	case TLSStart:
		c, err = imapclient.DialStartTLS(ms.addr, copts)
	default:
		c, err = imapclient.DialInsecure(ms.addr, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("bounces@example.test", "secret").Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := c.Select(box, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	out := map[imap.UID][]imap.Flag{}
	if sel.NumMessages == 0 {
		return out
	}
	var set imap.SeqSet
	set.AddRange(1, sel.NumMessages)
	msgs, err := c.Fetch(set, &imap.FetchOptions{UID: true, Flags: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		out[m.UID] = m.Flags
	}
	return out
}

func hasFlag(fs []imap.Flag, f imap.Flag) bool { return hasKeyword(fs, string(f)) }

// fakes implementing the consumer-side interfaces

type fakeVERP struct{}

// ParseVERP accepts bounces+<id>@example.test (tests only; the mailer's
// tokens are signed).
func (fakeVERP) ParseVERP(addr string) (int64, bool) {
	local, dom, ok := splitAddr(addr)
	if !ok || dom != testDomain || !strings.HasPrefix(local, "bounces+") {
		return 0, false
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(local, "bounces+"), 10, 64)
	return id, err == nil
}

type fakeDeliveries struct{}

// Delivery n goes to user<n>@dest.test, issue 7, subscriber 100+n, and was
// sent with Message-ID <d<n>@example.test>.
func (fakeDeliveries) ByID(_ context.Context, id int64) (Delivery, bool, error) {
	if id <= 0 || id > 1_000_000 {
		return Delivery{}, false, nil
	}
	return Delivery{ID: id, IssueID: 7, SubscriberID: 100 + id, Email: fmt.Sprintf("user%d@dest.test", id)}, true, nil
}

func (f fakeDeliveries) ByMessageID(ctx context.Context, msgID string) (Delivery, bool, error) {
	var id int64
	if _, err := fmt.Sscanf(msgID, "d%d@example.test", &id); err != nil {
		return Delivery{}, false, nil
	}
	return f.ByID(ctx, id)
}

// recorder records calls to every interface a Service calls.
type recorder struct {
	mu           sync.Mutex
	suppressed   map[string]string // email -> reason
	unsuppressed []string
	unsubscribed []string
	bounced      []int64
	joins        []string // email|slug|msgid
	unsubs       []string // tok|source|msgid
	failSuppress int      // fail this many Suppress calls
	notify       chan string
}

func newRecorder() *recorder {
	return &recorder{suppressed: map[string]string{}, notify: make(chan string, 100)}
}

func (r *recorder) deps() Deps {
	return Deps{VERP: fakeVERP{}, Deliveries: fakeDeliveries{}, Marker: r, Suppressor: r, Joiner: r, Unsubscriber: r}
}

func (r *recorder) Suppress(_ context.Context, email, reason, _ string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failSuppress > 0 {
		r.failSuppress--
		return fmt.Errorf("subscribers down")
	}
	r.suppressed[email] = reason
	select {
	case r.notify <- email:
	default:
	}
	return nil
}

func (r *recorder) Unsuppress(_ context.Context, email, _ string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.suppressed, email)
	r.unsuppressed = append(r.unsuppressed, email)
	return nil
}

func (r *recorder) UnsubscribeAll(_ context.Context, email, _ string, _ Evidence) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.unsubscribed = append(r.unsubscribed, email)
	return nil
}

func (r *recorder) MarkBounced(_ context.Context, id int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bounced = append(r.bounced, id)
	return nil
}

func (r *recorder) SubscribeByMail(_ context.Context, email, slug, msgID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.joins = append(r.joins, email+"|"+slug+"|"+msgID)
	return nil
}

func (r *recorder) UnsubscribeByToken(_ context.Context, tok, source, msgID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.unsubs = append(r.unsubs, tok+"|"+source+"|"+msgID)
	return nil
}

func (r *recorder) nSuppressed() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.suppressed)
}

// newService opens a fresh database and a Service reading ms.
func newService(t testing.TB, ms *mailServer, rec *recorder, opt Options) *Service {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if ms != nil {
		opt.IMAP.Addr = ms.addr
		if opt.IMAP.TLS == "" {
			opt.IMAP.TLS = TLSNone
		}
		if ms.roots != nil {
			opt.IMAP.TLSConfig = &tls.Config{RootCAs: ms.roots}
		}
		opt.IMAP.Username, opt.IMAP.Password = "bounces@example.test", "secret"
	}
	if opt.Domain == "" {
		opt.Domain = testDomain
	}
	s, err := New(db, rec.deps(), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// dsnMail builds an RFC 3464 DSN for delivery id, returned to its VERP
// address, with the returned message's headers.
func dsnMail(msgID string, delivery int64, status, action, diag string) string {
	rcpt := fmt.Sprintf("user%d@dest.test", delivery)
	return "From: Mail Delivery System <MAILER-DAEMON@mx.example.test>\r\n" +
		fmt.Sprintf("To: bounces+%d@%s\r\n", delivery, testDomain) +
		"Subject: Undelivered Mail Returned to Sender\r\n" +
		"Message-ID: <" + msgID + ">\r\n" +
		"Auto-Submitted: auto-replied\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n" +
		"\r\n" +
		"--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n" +
		"--B\r\nContent-Type: message/delivery-status\r\n\r\n" +
		"Reporting-MTA: dns; mx.example.test\r\n\r\n" +
		"Final-Recipient: rfc822; " + rcpt + "\r\n" +
		"Action: " + action + "\r\nStatus: " + status + "\r\n" +
		"Diagnostic-Code: smtp; " + diag + "\r\n" +
		"--B\r\nContent-Type: text/rfc822-headers\r\n\r\n" +
		fmt.Sprintf("Message-ID: <d%d@example.test>\r\nTo: %s\r\nSubject: news\r\n", delivery, rcpt) +
		"--B--\r\n"
}

func plainMail(msgID, from, to, subject, headers string) string {
	return "From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject + "\r\nMessage-ID: <" + msgID + ">\r\n" +
		headers + "\r\nhello\r\n"
}

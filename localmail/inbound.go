package localmail

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// Inbound is a mail as a citizen (or a remote MTA) sends it to one of the
// service's inbound addresses: an empty mail to <slug>-join@…, a mail to the
// List-Unsubscribe mailto address, or a hand-written bounce.
type Inbound struct {
	From, To string // envelope sender and recipient
	Subject  string // used when Body has no header of its own
	// Body is the text, or a whole message with its own header (a DSN
	// pasted from elsewhere), which is kept as it is.
	Body []byte
	Date time.Time // zero: now
}

// ErrBadInbound reports an inbound mail that cannot be built: an address
// that does not parse, a header field with a line break.
var ErrBadInbound = errors.New("bad inbound mail")

// headerLine is the first line of a message that brings its own header.
var headerLine = regexp.MustCompile(`^[!-9;-~]+:[ \t]`)

// Message builds the raw message as the mailbox would receive it: with
// Return-Path and Delivered-To, as a delivering MTA adds them (RFC 5322
// §3.6.7, RFC 9228), then the header and body. A body without a header gets
// From, To, Subject (RFC 2047 encoded), Date, Message-ID and a UTF-8
// text/plain type.
func (in Inbound) Message() ([]byte, error) {
	from, err := mail.ParseAddress(in.From)
	if err != nil {
		return nil, fmt.Errorf("from %q: %v: %w", in.From, err, ErrBadInbound)
	}
	to, err := mail.ParseAddress(in.To)
	if err != nil {
		return nil, fmt.Errorf("to %q: %v: %w", in.To, err, ErrBadInbound)
	}
	if strings.ContainsAny(in.Subject, "\r\n") {
		return nil, fmt.Errorf("subject contains a line break: %w", ErrBadInbound)
	}
	date := in.Date
	if date.IsZero() {
		date = time.Now()
	}
	body := bytes.ReplaceAll(in.Body, []byte("\r\n"), []byte("\n"))
	var b bytes.Buffer
	fmt.Fprintf(&b, "Return-Path: <%s>\nDelivered-To: %s\n", from.Address, to.Address)
	if first, _, _ := bytes.Cut(body, []byte("\n")); headerLine.Match(first) {
		b.Write(body)
	} else {
		var id [8]byte
		_, _ = rand.Read(id[:])
		fmt.Fprintf(&b, "From: %s\nTo: %s\nSubject: %s\nDate: %s\nMessage-ID: <%s@kawaraban.localhost>\n"+
			"MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n",
			from.Address, to.Address, mime.BEncoding.Encode("UTF-8", in.Subject), date.Format(time.RFC1123Z), hex.EncodeToString(id[:]))
		b.Write(body)
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("\n")) {
		b.WriteByte('\n')
	}
	return bytes.ReplaceAll(b.Bytes(), []byte("\n"), []byte("\r\n")), nil
}

// IMAPAddrFile is the file in the data directory where a running local-mode
// daemon records its IMAP mailbox's address, so that commands such as
// `kawaraban local mail` can reach it.
const IMAPAddrFile = "local-imap"

// writeIMAPAddr records addr in dir (see IMAPAddrFile).
func writeIMAPAddr(dir string, addr net.Addr) error {
	return os.WriteFile(filepath.Join(dir, IMAPAddrFile), []byte(addr.String()+"\n"), 0o600)
}

// removeIMAPAddr forgets the mailbox address writeIMAPAddr recorded in
// dir, when the daemon stops; none recorded is no error.
func removeIMAPAddr(dir string) error {
	if err := os.Remove(filepath.Join(dir, IMAPAddrFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// ErrNoDaemon reports that no local-mode daemon runs for a data directory.
var ErrNoDaemon = errors.New("no local-mode daemon is running for this data directory")

// AppendInbound delivers raw into the INBOX of the local-mode daemon whose
// data directory is dir, over IMAP APPEND (RFC 9051 §6.3.12) with the
// given login: the mailbox lives in the daemon's memory.
func AppendInbound(ctx context.Context, dir, username, password string, raw []byte) error {
	b, err := os.ReadFile(filepath.Join(dir, IMAPAddrFile))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s: %w (start kawaraban serve --data %s)", dir, ErrNoDaemon, dir)
	} else if err != nil {
		return fmt.Errorf("reading the mailbox address: %w", err)
	}
	addr := strings.TrimSpace(string(b))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("%s (%s): %w (start kawaraban serve --data %s)", dir, addr, ErrNoDaemon, dir)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c := imapclient.New(conn, nil)
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := c.Login(username, password).Wait(); err != nil {
		return fmt.Errorf("logging in to the local mailbox: %w", err)
	}
	cmd := c.Append("INBOX", int64(len(raw)), nil)
	if _, err := cmd.Write(raw); err != nil {
		return fmt.Errorf("appending to INBOX: %w", err)
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("appending to INBOX: %w", err)
	}
	if _, err := cmd.Wait(); err != nil {
		return fmt.Errorf("appending to INBOX: %w", err)
	}
	_ = c.Logout().Wait()
	return nil
}

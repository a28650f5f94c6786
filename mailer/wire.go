package mailer

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// wire is the lean SMTP client of the hot path (RFC 5321). go-mail composes
// the messages; sending them through go-mail's or go-smtp's client cost
// three round trips and a byte-at-a-time dot-stuffing writer per message,
// which measured at about a third of the throughput (docs/BENCHMARKS.md).
// wire pipelines MAIL, RCPT and DATA (RFC 2920) when the relay offers
// PIPELINING, dot-stuffs the whole message in a few writes, and keeps the
// connection for the next message.
//
// With CHUNKING it writes a transaction in one of two shapes (chunkShape),
// chosen per relay by measuring both (chunkProbe): the whole transaction
// in one write, or MAIL and RCPT first and BDAT with the message after
// their replies. The first saves a round trip; the second avoids a stall
// against servers that flush their replies whenever their input buffer
// runs dry (Postfix reads 4 KB at a time): such a server sends the MAIL and
// RCPT replies, reads the rest of the chunk and then holds its last reply
// under Nagle's algorithm until we acknowledge the first segment, which a
// client with nothing to send does only when its delayed-ACK timer fires
// (about 40 ms on Linux) — measured at 0.08 of smtp-source's rate through
// Postfix (docs/BENCHMARKS.md). In the split shape the next transaction's
// MAIL and RCPT ride behind BDAT LAST where that cannot stall (sendChain). Writes carry whole groups (Go's TCP
// connections have Nagle's algorithm off), so no write waits for an ACK.
type wire struct {
	nc      net.Conn
	r       *textproto.Reader
	w       *bufio.Writer
	ext     map[string]string
	timeout time.Duration
	// oneWrite is the longest write that reaches the relay's reads in
	// one piece: our buffer over TCP, one TLS record over TLS (dialWire
	// turns off Go's small first records).
	oneWrite int
}

// dialWire connects, reads the greeting, says EHLO, upgrades with STARTTLS
// when asked and authenticates with AUTH PLAIN (RFC 4616).
func dialWire(ctx context.Context, r Relay, addr, helo string, timeout time.Duration) (*wire, error) {
	d := net.Dialer{Timeout: timeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, &Error{Temporary: true, Text: err.Error(), Stage: StageConnect}
	}
	mode := strings.ToLower(r.TLS)
	// Full-size TLS records from the first byte, so that a write of up to
	// maxTLSRecord bytes reaches the relay as one record (sendChain).
	tlsConf := &tls.Config{ServerName: r.Host, InsecureSkipVerify: r.InsecureSkipVerify,
		DynamicRecordSizingDisabled: true}
	if mode == TLSImplicit {
		nc = tls.Client(nc, tlsConf)
	}
	w := newWire(nc, timeout)
	if err := w.start(mode, helo, tlsConf, r); err != nil {
		nc.Close()
		return nil, err
	}
	return w, nil
}

func newWire(nc net.Conn, timeout time.Duration) *wire {
	w := &wire{nc: nc, r: textproto.NewReader(bufio.NewReaderSize(nc, 4096)),
		w: bufio.NewWriterSize(nc, 32*1024), timeout: timeout, oneWrite: 32 * 1024}
	if _, isTLS := nc.(*tls.Conn); isTLS {
		w.oneWrite = maxTLSRecord
	}
	return w
}

func (w *wire) start(mode, helo string, tlsConf *tls.Config, r Relay) error {
	w.nc.SetDeadline(time.Now().Add(w.timeout))
	defer w.nc.SetDeadline(time.Time{})
	if code, msg, err := w.read(); err != nil || code != 220 {
		return w.err(StageConnect, code, msg, err)
	}
	if err := w.ehlo(helo); err != nil {
		return err
	}
	if mode == "" || mode == TLSStartTLS {
		if _, ok := w.ext["STARTTLS"]; !ok {
			return &Error{Temporary: true, Text: "relay does not offer STARTTLS", Stage: StageConnect}
		}
		if code, msg, err := w.cmd("STARTTLS"); err != nil || code != 220 {
			return w.err(StageConnect, code, msg, err)
		}
		tc := tls.Client(w.nc, tlsConf)
		*w = *newWire(tc, w.timeout)
		w.nc.SetDeadline(time.Now().Add(w.timeout))
		if err := w.ehlo(helo); err != nil {
			return err
		}
	}
	if r.Username != "" {
		resp := base64.StdEncoding.EncodeToString([]byte("\x00" + r.Username + "\x00" + r.Password))
		if code, msg, err := w.cmd("AUTH PLAIN " + resp); err != nil || code != 235 {
			e := w.err(StageConnect, code, msg, err)
			// A refused login does not make the message bad: keep it
			// temporary so the mail waits for the operator's fix.
			e.Temporary = true
			return e
		}
	}
	return nil
}

func (w *wire) ehlo(helo string) error {
	code, msg, err := w.cmd("EHLO " + helo)
	if err != nil || code != 250 {
		return w.err(StageConnect, code, msg, err)
	}
	w.ext = map[string]string{}
	for _, line := range strings.Split(msg, "\n")[1:] {
		k, v, _ := strings.Cut(line, " ")
		w.ext[strings.ToUpper(k)] = v
	}
	return nil
}

func (w *wire) cmd(line string) (int, string, error) {
	w.w.WriteString(line)
	w.w.WriteString("\r\n")
	if err := w.w.Flush(); err != nil {
		return 0, "", err
	}
	return w.read()
}

// read reads one (possibly multi-line) reply.
func (w *wire) read() (int, string, error) {
	code, msg, err := w.r.ReadResponse(0)
	if _, ok := err.(*textproto.Error); ok {
		err = nil
	}
	return code, msg, err
}

// err makes an *Error from a reply or a network failure.
func (w *wire) err(stage string, code int, msg string, err error) *Error {
	if err != nil {
		return &Error{Temporary: true, Text: err.Error(), Stage: stage}
	}
	e := &Error{Code: code, Text: msg, Stage: stage, Temporary: code < 500}
	if enh, rest, ok := strings.Cut(msg, " "); ok && isEnhanced(enh) {
		e.Enhanced, e.Text = enh, rest
	}
	return e
}

func isEnhanced(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if _, err := strconv.Atoi(p); err != nil || len(p) == 0 || len(p) > 3 {
			return false
		}
	}
	return s[0] >= '2' && s[0] <= '5'
}

// chunkShape is how a BDAT transaction is written.
type chunkShape int

const (
	// chunkOneWrite writes MAIL, RCPT and BDAT LAST with the message in one
	// write and then reads the three replies: one round trip.
	chunkOneWrite chunkShape = iota
	// chunkSplit writes MAIL and RCPT, reads their replies, then writes BDAT
	// LAST with the message: two round trips, and the relay never has to
	// send a reply while an earlier one waits for our acknowledgement.
	chunkSplit
)

func (s chunkShape) String() string {
	if s == chunkSplit {
		return "split"
	}
	return "one write"
}

// chunking reports whether send uses BDAT (and so a chunkShape).
func (w *wire) chunking() bool {
	_, pipe := w.ext["PIPELINING"]
	_, chunk := w.ext["CHUNKING"]
	return pipe && chunk
}

// send carries one message: MAIL FROM with RET=HDRS, RCPT TO with
// NOTIFY=FAILURE,DELAY when the relay offers DSN (RFC 3461; never
// SUCCESS), DATA or BDAT in the given shape. broken reports that the
// connection must not be reused.
func (w *wire) send(from, to string, data []byte, shape chunkShape) (queueID string, e *Error, broken bool) {
	w.nc.SetDeadline(time.Now().Add(w.timeout))
	defer w.nc.SetDeadline(time.Time{})
	_, pipe := w.ext["PIPELINING"]
	mail, rcpt, e := w.envelope(from, to, len(data))
	if e != nil {
		return "", e, false
	}
	if !pipe {
		return w.sendStepwise(mail, rcpt, data)
	}
	if _, ok := w.ext["CHUNKING"]; ok {
		return w.sendChunked(mail, rcpt, data, shape == chunkSplit)
	}
	w.w.WriteString(mail + "\r\n" + rcpt + "\r\nDATA\r\n")
	if err := w.w.Flush(); err != nil {
		return "", w.err(StageMail, 0, "", err), true
	}
	mc, mm, err := w.read()
	if err != nil {
		return "", w.err(StageMail, 0, "", err), true
	}
	rc, rm, err := w.read()
	if err != nil {
		return "", w.err(StageRcpt, 0, "", err), true
	}
	dc, dm, err := w.read()
	if err != nil {
		return "", w.err(StageData, 0, "", err), true
	}
	var bad *Error
	switch {
	case mc/100 != 2:
		bad, broken = w.abort(StageMail, mc, mm, dc)
	case rc/100 != 2:
		bad, broken = w.abort(StageRcpt, rc, rm, dc)
	case dc != 354:
		bad, broken = w.abort(StageData, dc, dm, dc)
	default:
		return w.body(data)
	}
	return "", bad, broken
}

// envelope returns the MAIL and RCPT commands of a transaction of size
// bytes, or why this relay cannot take it.
func (w *wire) envelope(from, to string, size int) (mail, rcpt string, e *Error) {
	_, dsn := w.ext["DSN"]
	mail = "MAIL FROM:<" + from + ">"
	if _, ok := w.ext["SIZE"]; ok {
		mail += " SIZE=" + strconv.Itoa(size)
	}
	if dsn {
		mail += " RET=HDRS"
	}
	if !isASCII(from) || !isASCII(to) {
		if _, ok := w.ext["SMTPUTF8"]; !ok {
			return "", "", &Error{Text: "relay does not offer SMTPUTF8 for a non-ASCII address", Stage: StageMail}
		}
		mail += " SMTPUTF8"
	}
	rcpt = "RCPT TO:<" + to + ">"
	if dsn {
		rcpt += " NOTIFY=FAILURE,DELAY"
	}
	return mail, rcpt, nil
}

// tx is one transaction of a group (sendGroup) and what became of it.
type tx struct {
	from, to string
	data     []byte
	queueID  string
	e        *Error
}

// sendGroup carries several transactions in one write, each MAIL, RCPT
// and BDAT LAST with its message, every one after the first behind an
// RSET (RFC 2920 lets RSET and MAIL follow BDAT LAST in a group; the RSET
// ends whatever a refused transaction left open, as a server may keep
// the sender of a transaction whose recipient it refused), then reads
// the replies of each in order: one write and a few reads for the group
// instead of per message. Only for relays whose one-write shape was
// measured not to stall (chunkProbe). A transaction refused at MAIL, RCPT
// or BDAT gets its error and the others go on; a connection lost midway
// fails the rest temporarily. broken reports that the connection must
// not be reused.
func (w *wire) sendGroup(txs []*tx) (broken bool) {
	w.nc.SetDeadline(time.Now().Add(w.timeout))
	defer w.nc.SetDeadline(time.Time{})
	sent := make([]*tx, 0, len(txs))
	for _, t := range txs {
		mail, rcpt, e := w.envelope(t.from, t.to, len(t.data))
		if e != nil {
			t.e = e
			continue
		}
		if len(sent) > 0 {
			w.w.WriteString("RSET\r\n")
		}
		w.w.WriteString(mail + "\r\n" + rcpt + "\r\nBDAT " + strconv.Itoa(len(t.data)) + " LAST\r\n")
		w.w.Write(t.data)
		sent = append(sent, t)
	}
	if err := w.w.Flush(); err != nil {
		for _, t := range sent {
			t.e = w.err(StageMail, 0, "", err)
		}
		return true
	}
	// Every reply is read, in order, whatever came before it: a relay that
	// answered 421 or refused the RSET may still have taken the
	// transactions after it, and a message must not be sent twice.
	refused, closed := false, false
	for i, t := range sent {
		stages := [...]string{"RSET", StageMail, StageRcpt, StageData}
		var code [4]int
		var msg [4]string
		for k, stage := range stages {
			if k == 0 && i == 0 {
				code[0] = 250
				continue
			}
			var err error
			if code[k], msg[k], err = w.read(); err != nil {
				if stage == "RSET" {
					stage = StageMail
				}
				for _, u := range sent[i:] {
					u.e = w.err(stage, 0, "", err)
				}
				return true
			}
			closed = closed || code[k] == 421
		}
		refused = refused || code[0] != 250
		for k, stage := range stages[1:] {
			if code[k+1]/100 != 2 {
				t.e = w.err(stage, code[k+1], msg[k+1], nil)
				refused = true
				break
			}
		}
		if t.e == nil {
			t.queueID = queueID(msg[3])
		}
	}
	return closed || refused && w.reset() != nil
}

// sendChunked sends the transaction with BDAT LAST (RFC 3030 CHUNKING,
// pipelined per RFC 2920): no wait for a 354, no dot-stuffing. With split
// false MAIL, RCPT, BDAT and the message go in one write, one round trip
// per message; with split true MAIL and RCPT go as one group (the client
// waits after the group's last command), and only when both were taken
// BDAT LAST follows with the message.
func (w *wire) sendChunked(mail, rcpt string, data []byte, split bool) (string, *Error, bool) {
	bdat := func() {
		w.w.WriteString("BDAT " + strconv.Itoa(len(data)) + " LAST\r\n")
		w.w.Write(data)
	}
	w.w.WriteString(mail + "\r\n" + rcpt + "\r\n")
	if !split {
		bdat()
	}
	if err := w.w.Flush(); err != nil {
		return "", w.err(StageMail, 0, "", err), true
	}
	mc, mm, err := w.read()
	if err != nil {
		return "", w.err(StageMail, 0, "", err), true
	}
	rc, rm, err := w.read()
	if err != nil {
		return "", w.err(StageRcpt, 0, "", err), true
	}
	taken := mc/100 == 2 && rc/100 == 2
	if split && taken {
		bdat()
		if err := w.w.Flush(); err != nil {
			return "", w.err(StageData, 0, "", err), true
		}
	}
	var dc int
	var dm string
	if !split || taken {
		if dc, dm, err = w.read(); err != nil {
			return "", w.err(StageData, 0, "", err), true
		}
	}
	closed := mc == 421 || rc == 421 || dc == 421
	switch {
	case mc/100 != 2:
		return "", w.err(StageMail, mc, mm, nil), closed || w.reset() != nil
	case rc/100 != 2:
		return "", w.err(StageRcpt, rc, rm, nil), closed || w.reset() != nil
	case dc/100 != 2:
		return "", w.err(StageData, dc, dm, nil), closed || w.reset() != nil
	}
	return queueID(dm), nil, false
}

// relayReadSize is the size of the reads of a relay that flushes its
// replies whenever its input buffer runs dry: Postfix's VSTREAM_BUFSIZE.
const relayReadSize = 4096

// maxTLSRecord is the most plaintext one TLS record carries (RFC 8446).
const maxTLSRecord = 16384

// sendChain carries txs in the split shape, one transaction at a time,
// and saves most of its second round trip: behind each BDAT LAST and its
// message it writes the next transaction's MAIL and RCPT (RFC 2920 lets
// MAIL follow BDAT LAST in a group), then reads the three replies. Only
// when that cannot stall a relay that reads relayReadSize bytes at a time
// and flushes its pending replies whenever its buffer runs dry (Postfix):
// a write that starts with the relay's buffer empty is read in
// relayReadSize pieces from its first byte, so the relay writes all three
// replies at once unless a piece ends between the end of the message and
// the end of the RCPT command; then it would write the BDAT reply alone
// and hold the next ones under Nagle's algorithm for our delayed ACK
// (40 ms). Such a transaction, and one after a write that did not fit the
// buffer whole, sends MAIL and RCPT on their own (the split shape).
// Over TLS the relay's reads also end at record boundaries: the write must
// be one record (w.oneWrite). A transaction refused at MAIL or RCPT is
// ended with RSET; after a refused BDAT the next transaction's pipelined
// MAIL and RCPT are read, reset and sent again, so each recipient's result
// stays its own. broken reports that the connection must not be reused.
func (w *wire) sendChain(txs []*tx) (broken bool) {
	w.nc.SetDeadline(time.Now().Add(w.timeout))
	defer w.nc.SetDeadline(time.Time{})
	fail := func(rest []*tx, stage string, err error) bool {
		for _, t := range rest {
			if t.e == nil {
				t.e = &Error{Temporary: true, Text: "connection lost before this message", Stage: StageConnect}
				if err != nil {
					t.e = w.err(stage, 0, "", err)
				}
			}
		}
		return true
	}
	pending := false // txs[i]'s MAIL and RCPT were written behind the last BDAT
	for i := 0; i < len(txs); i++ {
		t := txs[i]
		mail, rcpt, e := w.envelope(t.from, t.to, len(t.data))
		if e != nil {
			t.e = e
			continue
		}
		if !pending {
			w.w.WriteString(mail + "\r\n" + rcpt + "\r\n")
			if err := w.w.Flush(); err != nil {
				return fail(txs[i:], StageMail, err)
			}
		}
		pending = false
		mc, mm, err := w.read()
		if err != nil {
			return fail(txs[i:], StageMail, err)
		}
		rc, rm, err := w.read()
		if err != nil {
			return fail(txs[i:], StageRcpt, err)
		}
		if mc/100 != 2 || rc/100 != 2 {
			if t.e = w.err(StageMail, mc, mm, nil); mc/100 == 2 {
				t.e = w.err(StageRcpt, rc, rm, nil)
			}
			if mc == 421 || rc == 421 || w.reset() != nil {
				return fail(txs[i+1:], "", nil)
			}
			continue
		}
		bdat := "BDAT " + strconv.Itoa(len(t.data)) + " LAST\r\n"
		end := len(bdat) + len(t.data) // the whole write, when it fits the buffer
		w.w.WriteString(bdat)
		w.w.Write(t.data)
		chained := false
		if i+1 < len(txs) && end < w.oneWrite {
			n := txs[i+1]
			if nmail, nrcpt, e := w.envelope(n.from, n.to, len(n.data)); e == nil {
				total := end + len(nmail) + len(nrcpt) + 4
				if total <= w.oneWrite && oneRead(end, total) {
					w.w.WriteString(nmail + "\r\n" + nrcpt + "\r\n")
					chained = true
				}
			}
		}
		if err := w.w.Flush(); err != nil {
			return fail(txs[i:], StageData, err)
		}
		dc, dm, err := w.read()
		if err != nil {
			return fail(txs[i:], StageData, err)
		}
		if dc/100 == 2 {
			t.queueID = queueID(dm)
		} else {
			t.e = w.err(StageData, dc, dm, nil)
		}
		if dc == 421 {
			return fail(txs[i+1:], "", nil)
		}
		switch {
		case chained && dc/100 == 2:
			pending = true
		case chained:
			// The next MAIL and RCPT went into a failed transaction's
			// end: read what became of them, reset, send them again.
			for range 2 {
				code, _, err := w.read()
				if err != nil {
					return fail(txs[i+1:], StageMail, err)
				}
				if code == 421 {
					return fail(txs[i+1:], "", nil)
				}
			}
			if w.reset() != nil {
				return fail(txs[i+1:], "", nil)
			}
		case dc/100 != 2:
			if w.reset() != nil {
				return fail(txs[i+1:], "", nil)
			}
		}
	}
	return false
}

// oneRead reports whether a relay reading a write in relayReadSize pieces
// from its first byte reads bytes end to total (the next MAIL and RCPT)
// with the end of the message before them, in the same read: no piece
// ends in [end, total).
func oneRead(end, total int) bool {
	return (end+relayReadSize-1)/relayReadSize*relayReadSize >= total
}

func (w *wire) sendStepwise(mail, rcpt string, data []byte) (string, *Error, bool) {
	if code, msg, err := w.cmd(mail); err != nil || code/100 != 2 {
		return "", w.err(StageMail, code, msg, err), err != nil || code == 421 || w.reset() != nil
	}
	if code, msg, err := w.cmd(rcpt); err != nil || code/100 != 2 {
		return "", w.err(StageRcpt, code, msg, err), err != nil || code == 421 || w.reset() != nil
	}
	if code, msg, err := w.cmd("DATA"); err != nil || code != 354 {
		return "", w.err(StageData, code, msg, err), err != nil || code == 421 || w.reset() != nil
	}
	return w.body(data)
}

// abort ends a pipelined transaction that failed before the body. If the
// relay answered DATA with 354 anyway, an empty body is sent and dropped.
func (w *wire) abort(stage string, code int, msg string, dataCode int) (*Error, bool) {
	e := w.err(stage, code, msg, nil)
	if code == 421 {
		return e, true
	}
	if dataCode == 354 {
		if _, _, err := w.cmd("."); err != nil {
			return e, true
		}
	}
	return e, w.reset() != nil
}

func (w *wire) reset() error {
	code, _, err := w.cmd("RSET")
	if err == nil && code != 250 {
		err = fmt.Errorf("RSET answered %d", code)
	}
	return err
}

var dotLine = []byte("\n.")

// body writes data dot-stuffed (RFC 5321 §4.5.2) and the final ".".
func (w *wire) body(data []byte) (string, *Error, bool) {
	if len(data) > 0 && data[0] == '.' {
		w.w.WriteByte('.')
	}
	for {
		i := bytes.Index(data, dotLine)
		if i < 0 {
			break
		}
		w.w.Write(data[:i+2])
		w.w.WriteByte('.')
		data = data[i+2:]
	}
	w.w.Write(data)
	if !bytes.HasSuffix(data, []byte("\r\n")) {
		w.w.WriteString("\r\n")
	}
	w.w.WriteString(".\r\n")
	if err := w.w.Flush(); err != nil {
		return "", w.err(StageData, 0, "", err), true
	}
	code, msg, err := w.read()
	if err != nil || code/100 != 2 {
		return "", w.err(StageData, code, msg, err), err != nil || code == 421
	}
	return queueID(msg), nil, false
}

func (w *wire) quit() {
	w.nc.SetDeadline(time.Now().Add(time.Second))
	w.cmd("QUIT")
	w.nc.Close()
}

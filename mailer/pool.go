package mailer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// pool keeps reusable SMTP connections to the relays, lowest Priority
// first; a relay that fails to connect is skipped for a while (failover).
type pool struct {
	relays  []*relayPool
	helo    string
	timeout time.Duration
}

type relayPool struct {
	r    Relay
	name string
	sem  chan struct{} // one token per open connection

	mu        sync.Mutex
	idle      []*conn
	downUntil time.Time
}

type conn struct {
	rp        *relayPool
	c         *smtp.Client
	nc        net.Conn
	msgs      int
	perDomain map[string]int
	broken    bool
}

func newPool(relays []Relay, helo string, timeout time.Duration) *pool {
	p := &pool{helo: helo, timeout: timeout}
	for _, r := range relays {
		if r.MaxConns <= 0 {
			r.MaxConns = 4
		}
		p.relays = append(p.relays, &relayPool{
			r:    r,
			name: net.JoinHostPort(r.Host, strconv.Itoa(r.Port)),
			sem:  make(chan struct{}, r.MaxConns),
		})
	}
	slices.SortStableFunc(p.relays, func(a, b *relayPool) int { return a.r.Priority - b.r.Priority })
	return p
}

// get returns a connection that may carry one more message to domain
// under lim. Put it back with put.
func (p *pool) get(ctx context.Context, domain string, lim DomainLimit) (*conn, error) {
	if len(p.relays) == 0 {
		return nil, ErrNoRelay
	}
	var last error
	for i, rp := range p.relays {
		if rp.isDown() && i < len(p.relays)-1 {
			continue
		}
		c, err := p.getFrom(ctx, rp, domain, lim)
		if err == nil {
			return c, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		last = err
	}
	return nil, last
}

func (rp *relayPool) isDown() bool {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return time.Now().Before(rp.downUntil)
}

func (p *pool) getFrom(ctx context.Context, rp *relayPool, domain string, lim DomainLimit) (*conn, error) {
	select {
	case rp.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	rp.mu.Lock()
	for len(rp.idle) > 0 {
		c := rp.idle[len(rp.idle)-1]
		rp.idle = rp.idle[:len(rp.idle)-1]
		if c.full(domain, lim) {
			c.quit()
			continue
		}
		rp.mu.Unlock()
		return c, nil
	}
	rp.mu.Unlock()
	c, err := p.dial(ctx, rp)
	if err != nil {
		<-rp.sem
		rp.mu.Lock()
		rp.downUntil = time.Now().Add(30 * time.Second)
		rp.mu.Unlock()
		return nil, err
	}
	return c, nil
}

func (c *conn) full(domain string, lim DomainLimit) bool {
	if m := c.rp.r.MaxMessagesPerConn; m > 0 && c.msgs >= m {
		return true
	}
	return lim.MaxRcptPerConn > 0 && c.perDomain[domain] >= lim.MaxRcptPerConn
}

// put returns c to its pool, or closes it when it is broken.
func (p *pool) put(c *conn) {
	rp := c.rp
	if c.broken {
		c.nc.Close()
	} else {
		rp.mu.Lock()
		rp.idle = append(rp.idle, c)
		rp.mu.Unlock()
	}
	<-rp.sem
}

func (p *pool) closeAll() {
	for _, rp := range p.relays {
		rp.mu.Lock()
		idle := rp.idle
		rp.idle = nil
		rp.mu.Unlock()
		for _, c := range idle {
			c.quit()
		}
	}
}

func (c *conn) quit() {
	c.nc.SetDeadline(time.Now().Add(time.Second))
	c.c.Quit()
	c.nc.Close()
}

func (p *pool) dial(ctx context.Context, rp *relayPool) (*conn, error) {
	d := net.Dialer{Timeout: p.timeout}
	nc, err := d.DialContext(ctx, "tcp", rp.name)
	if err != nil {
		return nil, &Error{Temporary: true, Text: err.Error(), Stage: StageConnect}
	}
	tlsConf := &tls.Config{ServerName: rp.r.Host, InsecureSkipVerify: rp.r.InsecureSkipVerify}
	mode := strings.ToLower(rp.r.TLS)
	if mode == TLSImplicit {
		tc := tls.Client(nc, tlsConf)
		tc.SetDeadline(time.Now().Add(p.timeout))
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, &Error{Temporary: true, Text: err.Error(), Stage: StageConnect}
		}
		nc = tc
	}
	nc.SetDeadline(time.Now().Add(p.timeout))
	c, err := p.hello(nc, rp, mode, tlsConf)
	if err != nil {
		nc.Close()
		return nil, err
	}
	nc.SetDeadline(time.Time{})
	return &conn{rp: rp, c: c, nc: nc, perDomain: map[string]int{}}, nil
}

func (p *pool) hello(nc net.Conn, rp *relayPool, mode string, tlsConf *tls.Config) (*smtp.Client, error) {
	var c *smtp.Client
	if mode == "" || mode == TLSStartTLS {
		// go-smtp greets as "localhost" before STARTTLS; the EHLO that
		// counts comes after it, with our name.
		var err error
		if c, err = smtp.NewClientStartTLS(nc, tlsConf); err != nil {
			return nil, toError(StageConnect, err)
		}
	} else {
		c = smtp.NewClient(nc)
	}
	c.CommandTimeout = p.timeout
	c.SubmissionTimeout = p.timeout
	if err := c.Hello(p.helo); err != nil {
		return nil, toError(StageConnect, err)
	}
	if rp.r.Username != "" {
		if err := c.Auth(sasl.NewPlainClient("", rp.r.Username, rp.r.Password)); err != nil {
			// A refused login does not make the message bad: keep it
			// temporary so the mail waits for the operator's fix.
			e := toError(StageConnect, err)
			e.Temporary = true
			return nil, e
		}
	}
	return c, nil
}

var queuedAs = regexp.MustCompile(`(?i)queued as ([A-Za-z0-9._-]+)`)

// send carries one message over c: MAIL FROM with RET=HDRS, RCPT TO with
// NOTIFY=FAILURE,DELAY (RFC 3461; never SUCCESS), DATA. A failure leaves the
// connection reset for the next message, or marks it broken.
func (c *conn) send(from, to string, data []byte, timeout time.Duration) (queueID string, e *Error) {
	utf8 := !isASCII(from) || !isASCII(to)
	err := c.c.Mail(from, &smtp.MailOptions{Return: smtp.DSNReturnHeaders, UTF8: utf8, Size: int64(len(data))})
	if err != nil {
		return "", c.fail(StageMail, err)
	}
	err = c.c.Rcpt(to, &smtp.RcptOptions{Notify: []smtp.DSNNotify{smtp.DSNNotifyFailure, smtp.DSNNotifyDelayed}})
	if err != nil {
		return "", c.fail(StageRcpt, err)
	}
	w, err := c.c.Data()
	if err != nil {
		return "", c.fail(StageData, err)
	}
	c.nc.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := w.Write(data); err != nil {
		c.broken = true
		return "", toError(StageData, err)
	}
	resp, err := w.CloseWithResponse()
	c.nc.SetWriteDeadline(time.Time{})
	if err != nil {
		return "", c.fail(StageData, err)
	}
	c.msgs++
	c.perDomain[Domain(to)]++
	if m := queuedAs.FindStringSubmatch(resp.StatusText); m != nil {
		queueID = m[1]
	}
	return queueID, nil
}

// fail turns err into an *Error and leaves c usable (RSET) or broken.
func (c *conn) fail(stage string, err error) *Error {
	e := toError(stage, err)
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code == 421 {
		c.broken = true
		return e
	}
	if stage != StageMail || se.Code >= 400 {
		c.nc.SetDeadline(time.Now().Add(5 * time.Second))
		if err := c.c.Reset(); err != nil {
			c.broken = true
		}
		c.nc.SetDeadline(time.Time{})
	}
	return e
}

func (rp *relayPool) String() string { return fmt.Sprintf("relay %s", rp.name) }

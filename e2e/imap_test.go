//go:build e2e

package e2e

import (
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// bounceBox opens the bounce mailbox (bounces@example.test INBOX) on Dovecot.
func bounceBox(t *testing.T) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(imapAddr, nil)
	if err != nil {
		t.Fatalf("dialing dovecot at %s: %v", imapAddr, err)
	}
	if err := c.Login(imapUser, imapPassword).Wait(); err != nil {
		c.Close()
		t.Fatalf("imap login as %s: %v", imapUser, err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		c.Close()
		t.Fatalf("imap select INBOX: %v", err)
	}
	return c
}

// clearBounceBox empties the bounce mailbox, so that a scenario's daemon
// sees only the mail of its own scenario.
func clearBounceBox(t *testing.T) {
	t.Helper()
	c := bounceBox(t)
	defer c.Close()
	sd, err := c.UIDSearch(&imap.SearchCriteria{}, nil).Wait()
	if err != nil {
		t.Fatalf("imap search: %v", err)
	}
	uids := sd.AllUIDs()
	if len(uids) == 0 {
		return
	}
	set := imap.UIDSetNum(uids...)
	if err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatalf("imap store \\Deleted: %v", err)
	}
	if err := c.Expunge().Close(); err != nil {
		t.Fatalf("imap expunge: %v", err)
	}
}

// appendBounceBox places raw into the bounce mailbox, as a citizen's reply
// delivered there would be.
func appendBounceBox(t *testing.T, raw string) {
	t.Helper()
	c := bounceBox(t)
	defer c.Close()
	cmd := c.Append("INBOX", int64(len(raw)), nil)
	if _, err := cmd.Write([]byte(raw)); err != nil {
		t.Fatalf("imap append: %v", err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatalf("imap append: %v", err)
	}
	if _, err := cmd.Wait(); err != nil {
		t.Fatalf("imap append: %v", err)
	}
}

// flagsByMessageID returns the flags of the INBOX messages whose
// Message-ID header contains id (one entry per message).
func flagsByMessageID(t *testing.T, id string) [][]imap.Flag {
	t.Helper()
	c := bounceBox(t)
	defer c.Close()
	sd, err := c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: id}}}, nil).Wait()
	if err != nil {
		t.Fatalf("imap search: %v", err)
	}
	uids := sd.AllUIDs()
	if len(uids) == 0 {
		return nil
	}
	msgs, err := c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{Flags: true}).Collect()
	if err != nil {
		t.Fatalf("imap fetch flags: %v", err)
	}
	var out [][]imap.Flag
	for _, m := range msgs {
		out = append(out, m.Flags)
	}
	return out
}

// restartDovecot stops Dovecot and starts it again, waiting for its port
// each way.
func restartDovecot(t *testing.T) {
	t.Helper()
	if out, err := exec.Command("doveadm", "-c", dovecotConf, "stop").CombinedOutput(); err != nil {
		t.Fatalf("doveadm stop: %v: %s", err, out)
	}
	down := waitFor(10*time.Second, 50*time.Millisecond, func() bool {
		c, err := net.DialTimeout("tcp", imapAddr, 200*time.Millisecond)
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
	if !down {
		t.Fatalf("dovecot still answers on %s after doveadm stop", imapAddr)
	}
	// Dovecot forks into the background: its output is not captured, or
	// the pipe it inherits would never close.
	if err := exec.Command("dovecot", "-c", dovecotConf).Run(); err != nil {
		t.Fatalf("starting dovecot -c %s: %v (see /var/log/mailstack-dovecot.log)", dovecotConf, err)
	}
	if !waitFor(10*time.Second, 50*time.Millisecond, func() bool {
		c, err := net.DialTimeout("tcp", imapAddr, 200*time.Millisecond)
		if err != nil {
			return false
		}
		c.Close()
		return true
	}) {
		t.Fatalf("dovecot does not answer on %s after restart", imapAddr)
	}
}

// hasFlag reports whether flags holds f (case-insensitive, as IMAP keywords compare).
func hasFlag(flags []imap.Flag, f string) bool {
	for _, x := range flags {
		if strings.EqualFold(string(x), f) {
			return true
		}
	}
	return false
}

// postfixQueueEmpty reports whether Postfix holds no more mail.
func postfixQueueEmpty() bool {
	out, err := exec.Command("postqueue", "-j").Output()
	return err == nil && len(strings.TrimSpace(string(out))) == 0
}

// countWithFlag returns how many INBOX messages carry flag.
func countWithFlag(t *testing.T, flag string) int {
	t.Helper()
	c := bounceBox(t)
	defer c.Close()
	sd, err := c.UIDSearch(&imap.SearchCriteria{Flag: []imap.Flag{imap.Flag(flag)}}, nil).Wait()
	if err != nil {
		t.Fatalf("imap search %s: %v", flag, err)
	}
	return len(sd.AllUIDs())
}

package bounces

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"testing"
)

// erasedDeliveries are fakeDeliveries whose recipients were erased
// (mailer.ForgetRecipient): no address, the subscriber id negated.
type erasedDeliveries struct{}

func (erasedDeliveries) ByID(_ context.Context, id int64) (Delivery, bool, error) {
	return Delivery{ID: id, IssueID: 7, SubscriberID: -(100 + id)}, true, nil
}

func (e erasedDeliveries) ByMessageID(ctx context.Context, msgID string) (Delivery, bool, error) {
	return Delivery{}, false, nil
}

// Issue 17: ForgetAddress empties a bounce of the address; a late report
// about a delivery whose recipient was erased keeps no copy or diagnostic.
func TestIssue17ForgetAddress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newService(t, nil, newRecorder(), Options{})
	raw := func(n int64, id string) []byte {
		return []byte(dsnMail(id, n, "5.1.1", "failed", "550 5.1.1 <user"+strconv.FormatInt(n, 10)+"@dest.test>: unknown user"))
	}
	if _, err := s.ingest(ctx, source{mailbox: "INBOX", uidvalidity: 1, uid: 1}, raw(6, "a@mx.example.test"), &Stats{}); err != nil {
		t.Fatal(err)
	}
	if err := s.ForgetAddress(ctx, 106, "USER6@dest.test"); err != nil {
		t.Fatal(err)
	}
	s.deps.Deliveries = erasedDeliveries{}
	if _, err := s.ingest(ctx, source{mailbox: "INBOX", uidvalidity: 1, uid: 2}, raw(5, "b@mx.example.test"), &Stats{}); err != nil {
		t.Fatal(err)
	}
	rows, err := s.db.Query(`SELECT email, coalesce(subscriber_id, 0), raw, diagnostic, class FROM bounces ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var email, diag, class string
		var sub int64
		var b sql.RawBytes
		if err := rows.Scan(&email, &sub, &b, &diag, &class); err != nil {
			t.Fatal(err)
		}
		n++
		if email != "" || sub > 0 || b != nil || diag != "" || class != "hard" {
			t.Errorf("bounce %d: email %q, subscriber %d, %d raw bytes, diagnostic %q, class %s", n, email, sub, len(b), diag, class)
		}
	}
	if n != 2 {
		t.Errorf("%d bounces, want 2", n)
	}
}

// A report read before the erasure whose Message-ID was built from the
// address (an auto-reply: some mailers do) keeps it neither in message_id
// nor in dedupe_key once ForgetAddress has run, as a report read after
// the erasure does not (forgetErased).
func TestForgetAddressTakesItOutOfTheMessageID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newService(t, nil, newRecorder(), Options{})
	raw := plainMail("1733.Gone@dest.test", "Gone <gone@dest.test>", "bounces@"+testDomain, "Out of office",
		"Auto-Submitted: auto-replied\r\n")
	if _, err := s.ingest(ctx, source{mailbox: "INBOX", uidvalidity: 1, uid: 1}, []byte(raw), &Stats{}); err != nil {
		t.Fatal(err)
	}
	if err := s.ForgetAddress(ctx, 0, "gone@dest.test"); err != nil {
		t.Fatal(err)
	}
	var email, msgID, dedupe, rule string
	if err := s.db.QueryRow(`SELECT email, message_id, dedupe_key, rule FROM bounces`).Scan(&email, &msgID, &dedupe, &rule); err != nil {
		t.Fatal(err)
	}
	if got := strings.ToLower(email + " " + msgID + " " + dedupe + " " + rule); strings.Contains(got, "gone@") {
		t.Errorf("the erased address is still in the bounce: %q", got)
	}
	// Read again once subscribers has recorded the erasure, the same
	// message is still a duplicate, not a new bounce.
	s.deps.Erasures = &erasedSet{addrs: map[string]bool{"gone@dest.test": true}}
	st := &Stats{}
	if _, err := s.ingest(ctx, source{mailbox: "INBOX", uidvalidity: 1, uid: 2}, []byte(raw), st); err != nil {
		t.Fatal(err)
	}
	var n int
	s.db.QueryRow(`SELECT count(*) FROM bounces`).Scan(&n)
	if n != 1 || st.Duplicates != 1 {
		t.Errorf("%d bounces, %d duplicates after reading the report again; want 1 and 1", n, st.Duplicates)
	}
}

// An empty mail to join whose Message-ID carries its sender keeps its
// inbound command row after the sender is erased, without the address,
// and the same mail read again is still a duplicate.
func TestForgetAddressTakesItOutOfInboundCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newService(t, nil, newRecorder(), Options{})
	raw := plainMail("join.Gone@dest.test", "Gone <gone@dest.test>", "kyoiku-join@"+testDomain, "", "")
	if _, err := s.ingest(ctx, source{mailbox: "INBOX", uidvalidity: 1, uid: 1}, []byte(raw), &Stats{}); err != nil {
		t.Fatal(err)
	}
	if err := s.ForgetAddress(ctx, 0, "GONE@dest.test"); err != nil {
		t.Fatal(err)
	}
	var msgID, dedupe, result string
	if err := s.db.QueryRow(`SELECT message_id, dedupe_key, result FROM inbound_commands`).Scan(&msgID, &dedupe, &result); err != nil {
		t.Fatal(err)
	}
	if got := strings.ToLower(msgID + " " + dedupe + " " + result); strings.Contains(got, "gone@") || result == "" {
		t.Errorf("inbound command after the erasure: %q", got)
	}
	s.deps.Erasures = &erasedSet{addrs: map[string]bool{"gone@dest.test": true}}
	st := &Stats{}
	if _, err := s.ingest(ctx, source{mailbox: "INBOX", uidvalidity: 1, uid: 2}, []byte(raw), st); err != nil {
		t.Fatal(err)
	}
	var n int
	s.db.QueryRow(`SELECT count(*) FROM inbound_commands`).Scan(&n)
	if n != 1 || st.Duplicates != 1 {
		t.Errorf("%d inbound commands, %d duplicates after reading the mail again; want 1 and 1", n, st.Duplicates)
	}
}

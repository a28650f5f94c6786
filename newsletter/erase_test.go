package newsletter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"kawaraban/bounces"
	"kawaraban/mailer"
	"kawaraban/subscribers"
)

// Issue 17: after an erasure the address, name and attributes are in no
// byte of the database file or its WAL, while the consent log's proof
// stays under the keyed hash, the suppression holds when the address
// comes back, and only a fresh opt-in brings it back.
func TestIssue17ErasedAddressLeavesNoTrace(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	ctx := context.Background()
	const (
		addr  = "Taro.Erase-Me.7Q3@Example.JP" // as typed; stored with the domain in lower case
		name  = "山田消去太郎"
		attr  = "消去区テスト町"
		other = "kankyo-hozen-reader0@example.jp"
	)
	stored := "Taro.Erase-Me.7Q3@example.jp"
	s.readers(t, "kankyo-hozen", 1)
	csv := "email,name,ward\n" + addr + "," + name + "," + attr + "\n"
	if _, err := s.subs.Import(ctx, strings.NewReader(csv), subscribers.ImportOptions{ListSlug: "kankyo-hozen",
		ConsentSource: "窓口申込書 " + stored}); err != nil {
		t.Fatal(err)
	}
	// A confirmation for a second list, into the system-mail queue.
	qctx, stopQueue := context.WithCancel(ctx)
	qdone := make(chan error, 1)
	go func() { qdone <- s.system.RunConfirmations(qctx) }()
	if err := s.subs.Subscribe(ctx, subscribersRequest(addr, "shimin-katsudo")); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if n, _ := s.mail.QueueLength(ctx); n == 1 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("confirmation not queued (queue length %d)", n)
		}
	}
	stopQueue()
	<-qdone
	// A request answered on the form but not yet done by the intake
	// (subscribe_intake holds the address and name until then).
	req := subscribersRequest(addr, "shimin-katsudo")
	req.Name = name
	if err := s.subs.NewIntake(nil).Submit(ctx, req); err != nil {
		t.Fatal(err)
	}
	// An issue in the outbox, and two refusals quoting the address: a
	// bounce, a score and a suppression.
	s.sendNow(t, s.draft(t, "kankyo-hozen", "12月号", "{{ .Name }}様").ID)
	id := subscriberID(t, s, stored)
	for _, text := range []string{"first", "second"} {
		d := mailer.Delivery{SubscriberID: id, Email: stored}
		if err := s.attr.RecordSendFailure(ctx, d, &mailer.Error{Code: 550, Enhanced: "5.1.1",
			Text: "<" + stored + ">: Recipient address rejected (" + text + ")"}); err != nil {
			t.Fatal(err)
		}
	}
	if sup, _ := s.subs.IsSuppressed(ctx, addr); !sup {
		t.Fatal("two hard bounces did not suppress the address")
	}
	dbPath, walPath := dbFiles(t, s)
	checkpoint(t, s)
	if !containsFold(readAll(t, dbPath, walPath), stored) {
		t.Fatal("the address is not in the database before erasing: the test proves nothing")
	}

	er := NewErasure(s.subs, s.mail, s.b)
	if _, err := er.Erase(ctx, id, "admin", ""); !errors.Is(err, subscribers.ErrReasonRequired) {
		t.Fatalf("erase without a reason: %v, want ErrReasonRequired", err)
	}
	got, err := er.Erase(ctx, id, "admin", "本人からの削除依頼(電話 12/4)")
	if err != nil {
		t.Fatal(err)
	}
	checkpoint(t, s)
	raw := readAll(t, dbPath, walPath)
	for _, secret := range []string{stored, "Taro.Erase-Me", name, attr} {
		if containsFold(raw, secret) {
			t.Errorf("%q is still in the database files after erasing", secret)
		}
	}
	if !containsFold(raw, other) {
		t.Error("another reader's address is gone too: the test reads the wrong files")
	}
	var waiting int
	if err := s.db.QueryRow(`SELECT count(*) FROM subscribe_intake`).Scan(&waiting); err != nil || waiting != 0 {
		t.Errorf("%d subscription requests of the erased address still waiting (%v)", waiting, err)
	}

	// The proof of consent stays under the hash.
	var events int
	if err := s.db.QueryRow(`SELECT count(*) FROM consent_events WHERE email = ? AND subscriber_id = 0`, got.Key).Scan(&events); err != nil || events < 2 {
		t.Errorf("consent events under the hash: %d (%v), want the opt-in and the request", events, err)
	}
	if recs, err := s.subs.Erasures(ctx, strings.ToUpper(addr)); err != nil || len(recs) != 1 || recs[0].Actor != "admin" {
		t.Errorf("erasure records of the address: %+v %v", recs, err)
	}
	// Deliveries and bounces still count.
	var deliveries, bounced int
	s.db.QueryRow(`SELECT count(*) FROM deliveries WHERE subscriber_id = ? AND status = 'cancelled' AND email = ''`, -id).Scan(&deliveries)
	s.db.QueryRow(`SELECT count(*) FROM bounces WHERE class = 'hard' AND email = ''`).Scan(&bounced)
	if deliveries != 1 || bounced != 2 {
		t.Errorf("after erasing: %d cancelled delivery, %d bounces; want 1 and 2", deliveries, bounced)
	}

	// Reports naming the address that arrive after the erasure and are
	// not tied to an erased delivery through its VERP address (read from
	// the bounce mailbox as in production) are recorded under the hash,
	// without their copy or diagnostic, and change nothing.
	var cancelled int64
	if err := s.db.QueryRow(`SELECT id FROM deliveries WHERE subscriber_id = ?`, -id).Scan(&cancelled); err != nil {
		t.Fatal(err)
	}
	late := lateReports(t, addr, cancelled)
	if st := readBounces(t, s, late...); st.Bounces != len(late) || st.Suppressed != 0 {
		t.Errorf("late reports read: %+v, want %d bounces and nothing suppressed", st, len(late))
	}
	lb := lateBounces(t, s)
	if len(lb) != len(late) {
		t.Fatalf("late reports recorded: %+v, want %d", lb, len(late))
	}
	for i, b := range lb {
		if b.email != got.Key || b.raw || b.diagnostic != "" || b.outcome != bounces.OutcomeNone || !strings.Contains(b.rule, "erased") {
			t.Errorf("late report %d: %+v, want it under the hash with no copy, no diagnostic and outcome none", i, b)
		}
	}
	if want := []string{"recipient", "recipient", "recipient", "recipient", "system"}; fmt.Sprint(byOf(lb)) != fmt.Sprint(want) {
		t.Errorf("late reports attributed by %v, want %v", byOf(lb), want)
	}
	checkpoint(t, s)
	raw = readAll(t, dbPath, walPath)
	for _, secret := range []string{stored, "Taro.Erase-Me"} {
		if containsFold(raw, secret) {
			t.Errorf("%q is in the database files after late reports named it", secret)
		}
	}

	// An import of the address is refused; a subscribe needs a fresh
	// opt-in, and the suppression holds again meanwhile.
	rep, err := s.subs.Import(ctx, strings.NewReader(csv), subscribers.ImportOptions{ListSlug: "kankyo-hozen", ConsentSource: "窓口"})
	if err != nil || len(rep.Rejected) != 1 || !strings.Contains(rep.Rejected[0].Reason, "erased") {
		t.Fatalf("import of an erased address: %+v %v", rep, err)
	}
	if err := s.subs.AddMember(ctx, "chonai", addr, "", subscribers.SourceAdmin, subscribers.Evidence{Actor: "admin"}); !errors.Is(err, subscribers.ErrPreviouslyErased) {
		t.Errorf("staff adding an erased address: %v, want ErrPreviouslyErased", err)
	}
	if err := s.subs.Subscribe(ctx, subscribersRequest(addr, "kankyo-hozen")); err != nil {
		t.Fatal(err)
	}
	id2 := subscriberID(t, s, stored)
	p, err := s.subs.Profile(ctx, id2)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Subscriptions) != 1 || p.Subscriptions[0].Status != subscribers.StatusUnconfirmed {
		t.Errorf("subscribing again: %+v, want unconfirmed until confirmed", p.Subscriptions)
	}
	if len(p.Suppressions) != 1 || p.Suppressions[0].Reason != subscribers.ReasonHardBounce {
		t.Errorf("suppressions after coming back: %+v, want the hard bounce again", p.Suppressions)
	}
	if p.Name != "" || len(p.Attributes) != 0 {
		t.Errorf("the new subscriber has the erased one's name or attributes: %+v", p)
	}
	// Back as a subscriber, the address is an ordinary one again: a
	// report naming it is recorded with it.
	// (A new mailbox: the earlier reports come again as its first
	// messages, so that the new one has a UID not read before.)
	readBounces(t, s, append(late, []byte(strings.ReplaceAll(string(late[0]), "late-dsn@", "late-dsn-2@")))...)
	if lb := lateBounces(t, s); len(lb) != len(late)+1 || lb[len(late)].email != addr || !lb[len(late)].raw {
		t.Errorf("a report after coming back: %+v, want it with the address and its copy", lb[len(lb)-1])
	}
}

func byOf(bs []lateBounce) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.by)
	}
	return out
}

func subscriberID(t *testing.T, s *stack, email string) int64 {
	t.Helper()
	var id int64
	if err := s.db.QueryRow(`SELECT id FROM subscribers WHERE email = ?`, email).Scan(&id); err != nil {
		t.Fatalf("subscriber %s: %v", email, err)
	}
	return id
}

// dbFiles returns the paths of the database file and its WAL.
func dbFiles(t *testing.T, s *stack) (string, string) {
	t.Helper()
	var seq int
	var name, file string
	if err := s.db.QueryRow(`PRAGMA database_list`).Scan(&seq, &name, &file); err != nil {
		t.Fatal(err)
	}
	return file, file + "-wal"
}

// checkpoint copies the WAL into the database file and truncates it.
func checkpoint(t *testing.T, s *stack) {
	t.Helper()
	var busy, logFrames, done int
	if err := s.db.QueryRow(`PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done); err != nil || busy != 0 {
		t.Fatalf("checkpoint: busy %d, %v", busy, err)
	}
}

func readAll(t *testing.T, paths ...string) []byte {
	t.Helper()
	var all []byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// containsFold reports whether raw holds s in any ASCII case.
func containsFold(raw []byte, s string) bool {
	return bytes.Contains(asciiLower(raw), asciiLower([]byte(s)))
}

// asciiLower lowers ASCII letters only, byte for byte (bytes.ToLower
// would rewrite the invalid UTF-8 of a database file).
func asciiLower(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

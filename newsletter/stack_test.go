package newsletter

import (
	"context"
	"database/sql"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"kawaraban/bounces"
	"kawaraban/internal/testclock"
	"kawaraban/issues"
	"kawaraban/localmail"
	"kawaraban/mailer"
	"kawaraban/scheduler"
	"kawaraban/store"
	"kawaraban/subscribers"
	"kawaraban/templates"
	"kawaraban/token"
)

// stack is the application layer over real parts: SQLite in a temp dir,
// an in-process SMTP server (localmail, which keeps what it accepts) and
// the real stores.
type stack struct {
	db     *sql.DB
	clock  *testclock.Clock
	tokyo  *time.Location
	relay  *localmail.SMTP
	subs   *subscribers.Store
	issues *issues.Store
	mail   *mailer.Mailer
	b      *bounces.Service
	sched  *scheduler.Scheduler
	render *Renderer
	send   *Sending
	attr   *Attribution
	system *SystemMail
	lists  map[string]subscribers.List
}

var testLists = []subscribers.List{
	{Slug: "kankyo-hozen", NameJA: "環境保全センターだより", NameEN: "Environment Center News", Kind: "public", DoubleOptIn: true},
	{Slug: "shimin-katsudo", NameJA: "市民活動センターだより", NameEN: "Civic Activity Center News", Kind: "public", DoubleOptIn: true},
	{Slug: "chonai", NameJA: "庁内情報誌", NameEN: "Internal Newsletter", Kind: "internal"},
}

func newStack(t *testing.T) *stack {
	t.Helper()
	ctx := context.Background()
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{clock: testclock.New(time.Date(2026, 12, 4, 16, 57, 0, 0, time.UTC)), tokyo: tokyo, lists: map[string]subscribers.List{}}
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "k.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s.db = db
	signer, _ := token.NewSigner([]byte(strings.Repeat("k", 32)))
	s.system = nil
	s.subs = subscribers.New(db, subscribers.Options{Now: s.clock.Now, Signer: signer, BaseURL: "https://mail.city.example.jp",
		Confirmer: confirmerFunc(func(ctx context.Context, cf subscribers.Confirmation) error {
			return s.system.SendConfirmation(ctx, cf)
		})})
	var defs []subscribers.List
	for _, l := range testLists {
		l.FromName, l.FromAddress = l.NameJA, l.Slug+"@city.example.jp"
		l.PostalAddress, l.Contact = "〒604-8571 京都市中京区寺町通御池上る上本能寺前町488", "075-000-0000"
		defs = append(defs, l)
	}
	if err := s.subs.SyncLists(ctx, defs); err != nil {
		t.Fatal(err)
	}
	for _, l := range testLists {
		if s.lists[l.Slug], err = s.subs.ListBySlug(ctx, l.Slug); err != nil {
			t.Fatal(err)
		}
	}
	s.issues = issues.New(db, issues.Options{Now: s.clock.Now})
	tpl, err := templates.New(templates.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.render = NewRenderer(s.issues, s.subs, tpl, RendererOptions{BaseURL: "https://mail.city.example.jp",
		InboundDomain: "in.city.example.jp", Location: tokyo, Now: s.clock.Now})
	s.relay, err = localmail.NewSMTP(localmail.SMTPOptions{Keep: true, ShutdownGrace: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := s.relay.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	go s.relay.Run(rctx)
	t.Cleanup(stop)
	host, port, _ := net.SplitHostPort(addr.String())
	p, _ := strconv.Atoi(port)
	rec := &Attribution{}
	s.mail, err = mailer.New(db, mailer.Options{Relays: []mailer.Relay{{Host: host, Port: p, TLS: "none"}},
		Renderer: s.render, Checker: s.render, Bounces: recorderFunc(func(ctx context.Context, d mailer.Delivery, e *mailer.Error) error {
			return rec.RecordSendFailure(ctx, d, e)
		}), OnIssueDone: IssueDone(s.issues, nil), OnDelivered: func(ctx context.Context, emails []string) { rec.NoteDelivered(ctx, emails) }, Location: tokyo, Now: s.clock.Now, ReturnPathDomain: "bounce.city.example.jp",
		Signer: signer, RetryBase: time.Millisecond, RetryMax: time.Millisecond, CFBLAddress: "fbl@city.example.jp"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.mail.Close() })
	s.attr = NewAttribution(s.mail, s.issues, s.subs, nil)
	*rec = *s.attr
	s.b, err = bounces.New(db, bounces.Deps{VERP: s.mail, Deliveries: s.attr, Marker: s.mail, Suppressor: s.attr, Erasures: s.attr}, bounces.Options{Now: s.clock.Now, HardThreshold: 2})
	if err != nil {
		t.Fatal(err)
	}
	s.attr.Bounces, rec.Bounces = s.b, s.b
	s.system = NewSystemMail(s.mail, tpl, SystemOptions{ReturnPathDomain: "bounce.city.example.jp", Location: tokyo, Now: s.clock.Now, QueueSize: 8})
	s.send = NewSending(s.issues, s.subs, s.mail, s.render, s.system, SendingOptions{Now: s.clock.Now})
	if s.sched, err = scheduler.New(db, scheduler.Options{Location: tokyo, Now: s.clock.Now}); err != nil {
		t.Fatal(err)
	}
	s.send.Register(s.sched)
	return s
}

type confirmerFunc func(ctx context.Context, cf subscribers.Confirmation) error

func (f confirmerFunc) SendConfirmation(ctx context.Context, cf subscribers.Confirmation) error {
	return f(ctx, cf)
}

type recorderFunc func(ctx context.Context, d mailer.Delivery, e *mailer.Error) error

func (f recorderFunc) RecordSendFailure(ctx context.Context, d mailer.Delivery, e *mailer.Error) error {
	return f(ctx, d, e)
}

// readers puts n confirmed readers on the list, each with a name.
func (s *stack) readers(t *testing.T, slug string, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("email,name\n")
	for i := range n {
		b.WriteString(slug + "-reader" + strconv.Itoa(i) + "@example.jp,読者 " + strconv.Itoa(i) + "\n")
	}
	s.importCSV(t, slug, b.String())
}

// importTo puts the addresses on the list, confirmed.
func (s *stack) importTo(t *testing.T, slug string, emails ...string) {
	t.Helper()
	s.importCSV(t, slug, "email\n"+strings.Join(emails, "\n")+"\n")
}

func (s *stack) importCSV(t *testing.T, slug, csv string) {
	t.Helper()
	if _, err := s.subs.Import(context.Background(), strings.NewReader(csv),
		subscribers.ImportOptions{ListSlug: slug, ConsentSource: "窓口申込書"}); err != nil {
		t.Fatal(err)
	}
}

// draft creates a draft on the list.
func (s *stack) draft(t *testing.T, slug, subject, body string) issues.Issue {
	t.Helper()
	is, err := s.issues.Create(context.Background(), issues.Draft{ListID: s.lists[slug].ID, Subject: subject, BodyMarkdown: body, Author: "editor"})
	if err != nil {
		t.Fatal(err)
	}
	return is
}

// sendNow sends the issue now and starts it (the due loop's work).
func (s *stack) sendNow(t *testing.T, id int64) issues.Issue {
	t.Helper()
	ctx := context.Background()
	if err := s.send.SendNow(ctx, id, issues.Actor{Login: "editor", Source: "test"}); err != nil {
		t.Fatal(err)
	}
	if err := s.send.StartDue(ctx); err != nil {
		t.Fatal(err)
	}
	is, err := s.issues.ByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return is
}

// deliver runs the outbox until the issue is sent (the clock stands still,
// so every delivery is done at its time).
func (s *stack) deliver(t *testing.T, id int64) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.mail.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := s.issues.ByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == issues.StatusSent {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("issue %d still %s after 30s", id, got.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func subscribersRequest(email, slug string) subscribers.SubscribeRequest {
	return subscribers.SubscribeRequest{Email: email, Lists: []string{slug}, Source: "web", Lang: "ja"}
}

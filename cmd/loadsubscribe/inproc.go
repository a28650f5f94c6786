package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"kawaraban/mailer"
	"kawaraban/store"
	"kawaraban/subscribers"
	"kawaraban/templates"
	"kawaraban/token"
	"kawaraban/web"
)

// inprocOptions configures the in-process server.
type inprocOptions struct {
	keep bool   // keep the temporary directory
	list string // the public list to create
	// dbConns, when positive, replaces store's pool size (default 8): an
	// experiment knob for the write-lock contention described in
	// docs/BENCHMARKS.md.
	dbConns int
	// stmtCache, when positive, reopens the migrated database with
	// go-sqlite3's per-connection prepared-statement cache of this size
	// (store leaves it off): an experiment knob for the proposal in
	// docs/BENCHMARKS.md, not a production path.
	stmtCache int
	// logTo receives the server's JSON log at info level, as the daemon
	// writes it (nil: formatted and discarded).
	logTo io.Writer
}

// benchList is the public list every mode subscribes to.
func benchList(slug string) subscribers.List {
	return subscribers.List{
		Slug: slug, NameJA: "ベンチマーク用メールマガジン", NameEN: "Benchmark newsletter", Kind: subscribers.KindPublic,
		FromAddress: "bench@city.example.jp", FromName: "京都市ベンチマーク",
		PostalAddress: "〒604-8571 京都市中京区寺町通御池上る上本能寺前町488", Contact: "075-000-0000 / bench@city.example.jp",
		DoubleOptIn: true, Encoding: "utf-8", NameFallback: "読者",
	}
}

// inproc is the subscribe path of the daemon, wired as cmd/kawaraban wires
// it (store → subscribers with a background confirmation queue → templates
// → mailer → count-only SMTP sink; web with the same options), minus the
// runners that do not serve /subscribe (outbox, bounce reader, scheduler).
type inproc struct {
	db     *sql.DB
	subs   *subscribers.Store
	tmpl   *templates.Set
	mail   *mailer.Mailer
	sinks  *sinks
	queue  chan subscribers.Confirmation
	log    *slog.Logger
	srv    *http.Server
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startInProcess builds and serves the in-process server on a loopback
// port.
func startInProcess(ctx context.Context, o inprocOptions) (*target, error) {
	dir, err := os.MkdirTemp("", "loadsubscribe-inproc-")
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	p, h, err := newInProcess(ctx, dir, o)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		p.close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("listening: %w", err)
	}
	p.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	p.wg.Go(func() { p.srv.Serve(ln) })
	stop := func() error {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := p.srv.Shutdown(sctx)
		p.close()
		if !o.keep {
			os.RemoveAll(dir)
		}
		return err
	}
	return &target{baseURL: "http://" + ln.Addr().String(), self: true, sent: p.sinks.smtp.Total, stop: stop}, nil
}

// newInProcess builds the components and returns the web handler.
func newInProcess(ctx context.Context, dir string, o inprocOptions) (*inproc, http.Handler, error) {
	w := o.logTo
	if w == nil {
		w = io.Discard
	}
	p := &inproc{log: slog.New(slog.NewJSONHandler(w, nil)), queue: make(chan subscribers.Confirmation, 1024)}
	var err error
	if p.sinks, err = startSinks(randomHex(16)); err != nil {
		return nil, nil, err
	}
	db, err := store.Open(ctx, filepath.Join(dir, "kawaraban.db"), store.Options{MaxOpenConns: o.dbConns})
	if err != nil {
		p.sinks.close()
		return nil, nil, err
	}
	if o.stmtCache > 0 {
		db.Close()
		if db, err = openWithStmtCache(ctx, filepath.Join(dir, "kawaraban.db"), o.dbConns, o.stmtCache); err != nil {
			p.sinks.close()
			return nil, nil, err
		}
	}
	p.db = db
	fail := func(err error) (*inproc, http.Handler, error) { p.close(); return nil, nil, err }
	signer, err := token.NewSigner([]byte(randomHex(32)))
	if err != nil {
		return fail(err)
	}
	const base = "http://127.0.0.1"
	loc, _ := time.LoadLocation("Asia/Tokyo")
	p.subs = subscribers.New(db, subscribers.Options{Logger: p.log, Signer: signer, BaseURL: base,
		Confirmer: p, MaxConfirmationsPerAddressPerDay: 3, Location: loc})
	if err := p.subs.SyncLists(ctx, []subscribers.List{benchList(o.list)}); err != nil {
		return fail(fmt.Errorf("creating the list: %w", err))
	}
	if p.tmpl, err = templates.New(templates.Options{Logger: p.log}); err != nil {
		return fail(err)
	}
	p.mail, err = mailer.New(db, mailer.Options{
		Relays:   []mailer.Relay{{Host: "127.0.0.1", Port: p.sinks.smtpAt, TLS: "none", MaxConns: 4, MaxMessagesPerConn: 100}},
		HeloName: "bench.localhost", ReturnPathDomain: "bounces.bench.localhost", Signer: signer, Logger: p.log,
	})
	if err != nil {
		return fail(err)
	}
	opt := web.Options{DB: db, Logger: p.log, BaseURL: base, Signer: signer, SubscribePerMinute: benchRatePerIPPerMinute}
	// Only the subscribers store: the public pages, subscribing in the
	// request (no intake).
	web.Domain{Subscribers: p.subs}.Fill(&opt)
	h, err := web.New(opt)
	if err != nil {
		return fail(err)
	}
	qctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	p.wg.Go(func() { p.runQueue(qctx) })
	return p, h, nil
}

// SendConfirmation queues the mail, or sends it inline when the queue is
// full, as cmd/kawaraban's confirmer does (subscribers.Confirmer).
func (p *inproc) SendConfirmation(ctx context.Context, cf subscribers.Confirmation) error {
	select {
	case p.queue <- cf:
		return nil
	default:
	}
	return p.send(ctx, cf)
}

func (p *inproc) runQueue(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case cf := <-p.queue:
			if err := p.send(ctx, cf); err != nil && ctx.Err() == nil {
				p.log.Error("confirmation mail not sent", "subscriber_id", cf.SubscriberID, "err", err)
			}
		}
	}
}

// send renders and sends one confirmation as cmd/kawaraban does.
func (p *inproc) send(ctx context.Context, cf subscribers.Confirmation) error {
	if len(cf.Lists) == 0 {
		return nil
	}
	l := cf.Lists[0]
	parts, err := p.tmpl.System("confirmation", cf.Lang, templates.SystemData{
		List: templates.ListInfo{Slug: l.Slug, NameJA: l.NameJA, NameEN: l.NameEN, FromName: l.FromName,
			FromAddress: l.FromAddress, PostalAddress: l.PostalAddress, Contact: l.Contact,
			NameFallback: l.NameFallback, Encoding: l.Encoding},
		Name: cf.Name, Email: cf.To, ConfirmURL: cf.ConfirmURL, ExpiresAt: time.Now().Add(subscribers.ConfirmTTL),
	})
	if err != nil {
		return fmt.Errorf("rendering confirmation: %w", err)
	}
	_, err = p.mail.Send(ctx, &mailer.Message{FromName: l.FromName, FromAddress: l.FromAddress, To: cf.To,
		ToName: cf.Name, Subject: parts.Subject, Text: parts.Text, HTML: parts.HTML, AutoSubmitted: true})
	return err
}

func (p *inproc) close() {
	if p.cancel != nil {
		p.cancel()
	}
	p.wg.Wait()
	if p.mail != nil {
		p.mail.Close()
	}
	if p.db != nil {
		p.db.Close()
	}
	p.sinks.close()
}

// openWithStmtCache opens an already migrated database with store's DSN
// options plus _stmt_cache_size (go-sqlite3 v1.14.53+).
func openWithStmtCache(ctx context.Context, path string, conns, cache int) (*sql.DB, error) {
	if conns == 0 {
		conns = 8
	}
	q := url.Values{}
	q.Set("_busy_timeout", "10000")
	q.Set("_foreign_keys", "on")
	q.Set("_synchronous", "NORMAL")
	q.Set("_txlock", "immediate")
	q.Set("_journal_mode", "WAL")
	q.Set("_stmt_cache_size", strconv.Itoa(cache))
	db, err := sql.Open("sqlite3", "file:"+filepath.ToSlash(path)+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("opening database with a statement cache: %w", err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening database with a statement cache: %w", err)
	}
	return db, nil
}

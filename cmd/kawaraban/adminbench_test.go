package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"kawaraban/config"
	"kawaraban/store"
	"kawaraban/web"
)

// The admin benchmark times every admin page and API listing through the
// production wiring (buildDaemon's web server over the real stores) on a
// database of 1,000,000 subscribers and 1,000,000 deliveries. Building
// that database takes a minute or two, so it is built once and kept in
// $KAWARABAN_ADMINBENCH_DIR (default $TMPDIR/kawaraban-adminbench-vN,
// N the schema version it was built at; a newer schema builds anew).
//
//	go test ./cmd/kawaraban -run '^$' -bench AdminPages -benchtime 20x
//
// Each page reports p50-ms and p95-ms over its b.N requests
// (docs/BENCHMARKS.md).

const (
	benchSubscribers = 1_000_000
	benchSecondEvery = 4 // every 4th subscriber is on a second list as well
)

func adminBenchDir(b *testing.B) string {
	if d := os.Getenv("KAWARABAN_ADMINBENCH_DIR"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("kawaraban-adminbench-v%d", store.LatestVersion()))
}

// BenchmarkAdminPages needs the 1M database; the first run builds it.
func BenchmarkAdminPages(b *testing.B) {
	ctx := context.Background()
	dir := adminBenchDir(b)
	done := filepath.Join(dir, "built")
	if _, err := os.Stat(done); err != nil {
		os.RemoveAll(dir)
		start := time.Now()
		if err := buildAdminBenchDB(ctx, dir); err != nil {
			b.Fatal(err)
		}
		os.WriteFile(done, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o600)
		b.Logf("built the 1M database in %s: %s", dir, time.Since(start).Round(time.Second))
	}
	e, err := openEnv(ctx, config.Source{DataDir: dir}, "127.0.0.1:1", io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	d, err := buildDaemon(ctx, e, false)
	if err != nil {
		b.Fatal(err)
	}
	defer d.m.Close()
	ts := httptest.NewServer(d.handler)
	defer ts.Close()
	client, apiToken := adminBenchLogin(b, ctx, d.users, ts.URL)

	big := "kankyo-hozen" // every subscriber is on it
	var lastID int64
	e.db.QueryRowContext(ctx, `SELECT max(id) FROM issues WHERE status = 'sent'`).Scan(&lastID)
	pages := []struct{ name, path string }{
		{"dashboard", "/admin/"},
		{"subscribers", "/admin/subscribers?list=" + big},
		{"subscribers-page-2000", "/admin/subscribers?list=" + big + "&page=2000"}, // offset 99,950: the deepest by offset (subscribers.MaxOffset)
		{"subscribers-after-100000", "/admin/subscribers?list=" + big + "&after=100000&page=18000"},
		{"subscribers-other-list", "/admin/subscribers?list=kokusai-koryu"},
		{"search-prefix", "/admin/subscribers?list=" + big + "&q=user0123"},
		{"search-rare", "/admin/subscribers?list=" + big + "&q=user0999999"},
		{"status-unsubscribed", "/admin/subscribers?list=" + big + "&status=unsubscribed"},
		// Issue 17: the list's filters, counts and the all-lists view.
		{"status-confirmed", "/admin/subscribers?list=" + big + "&status=confirmed"},
		{"status-confirmed-after", "/admin/subscribers?list=" + big + "&status=confirmed&after=100000&page=2"},
		{"status-unconfirmed", "/admin/subscribers?list=" + big + "&status=unconfirmed"},
		{"status-suppressed", "/admin/subscribers?list=" + big + "&status=suppressed"},
		{"status-suppressed-after", "/admin/subscribers?list=" + big + "&status=suppressed&after=100000&page=2"},
		{"search-status", "/admin/subscribers?list=" + big + "&q=user0123&status=confirmed"},
		{"search-broad", "/admin/subscribers?list=" + big + "&q=user"}, // every subscriber matches
		{"search-broad-status", "/admin/subscribers?list=" + big + "&q=user&status=unsubscribed"},
		{"all-lists", "/admin/subscribers?list=*"},
		{"all-lists-after", "/admin/subscribers?list=*&after=100000&page=2"},
		{"all-lists-status", "/admin/subscribers?list=*&status=unsubscribed"},
		{"all-lists-search", "/admin/subscribers?list=*&q=user0123"},
		{"issues", "/admin/issues?list=" + big},
		{"issues-all-lists", "/admin/issues?list=*"},
		{"issue", "/admin/issues/" + strconv.FormatInt(lastID, 10)},
		{"subscriber", "/admin/subscribers/500000"},
		{"lists", "/admin/lists"},
		{"issue-progress", "/admin/issues/" + strconv.FormatInt(lastID, 10) + "/progress.json"},
		{"bounces", "/admin/bounces"},
		{"bounces-list-class", "/admin/bounces?list=" + big + "&class=hard"},
		{"api-subscribers", "/api/v1/lists/" + big + "/subscribers"},
		{"api-subscribers-offset-100000", "/api/v1/lists/" + big + "/subscribers?offset=100000"}, // the deepest by offset
		{"api-subscribers-after-100000", "/api/v1/lists/" + big + "/subscribers?after=100000"},
		{"api-subscribers-status", "/api/v1/lists/" + big + "/subscribers?status=unsubscribed"},
		{"api-subscribers-status-after", "/api/v1/lists/" + big + "/subscribers?status=confirmed&after=100000"},
		{"api-subscribers-suppressed", "/api/v1/lists/" + big + "/subscribers?status=suppressed"},
		{"api-issues", "/api/v1/issues?list=" + big},
		{"api-issue", "/api/v1/issues/" + strconv.FormatInt(lastID, 10)},
		{"api-bounces", "/api/v1/bounces"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			timeRequests(b, client, func() *http.Request {
				req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+p.path, nil)
				if len(p.path) > 4 && p.path[:5] == "/api/" {
					req.Header.Set("Authorization", "Bearer "+apiToken)
				}
				return req
			})
		})
	}
	// Issue 17: the confirmation step of a bulk action counts what it
	// would change (and changes nothing).
	csrf := adminBenchCSRF(b, client, ts.URL+"/admin/subscribers?list="+big)
	for _, p := range []struct {
		name string
		form url.Values
	}{
		{"bulk-confirm-status", url.Values{"status": {"confirmed"}}},
		{"bulk-confirm-search", url.Values{"q": {"user0123"}}},
		{"bulk-confirm-search-status", url.Values{"q": {"user0123"}, "status": {"unsubscribed"}}},
		{"bulk-confirm-search-broad", url.Values{"q": {"user"}, "status": {"unsubscribed"}}}, // counts 50,000 of 1M matches
		{"bulk-confirm-ticked", url.Values{"scope": {"selected"}, "id": {"999999", "999998", "900000", "5"}}},
	} {
		p.form.Set("csrf", csrf)
		p.form.Set("list", big)
		p.form.Set("action", "unsubscribe")
		if !p.form.Has("scope") {
			p.form.Set("scope", "filter")
		}
		b.Run(p.name, func(b *testing.B) {
			timeRequests(b, client, func() *http.Request {
				req, _ := http.NewRequestWithContext(ctx, "POST", ts.URL+"/admin/subscribers/bulk", strings.NewReader(p.form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				return req
			})
		})
	}
}

// timeRequests sends b.N requests made by req, one at a time, and
// reports p50-ms, p95-ms (nearest rank) and max-ms.
func timeRequests(b *testing.B, client *http.Client, req func() *http.Request) {
	var took []time.Duration
	for b.Loop() {
		r := req()
		t0 := time.Now()
		resp, err := client.Do(r)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		took = append(took, time.Since(t0))
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s %s: %d", r.Method, r.URL, resp.StatusCode)
		}
	}
	slices.Sort(took)
	// Nearest rank: the smallest sample at or above q of them.
	ms := func(q float64) float64 {
		return float64(took[max(0, int(math.Ceil(q*float64(len(took))))-1)]) / 1e6
	}
	b.ReportMetric(ms(0.5), "p50-ms")
	b.ReportMetric(ms(0.95), "p95-ms")
	b.ReportMetric(ms(1), "max-ms")
}

// adminBenchCSRF reads the session's CSRF token from an admin page.
func adminBenchCSRF(b *testing.B, client *http.Client, page string) string {
	resp, err := client.Get(page)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRe.FindSubmatch(body)
	if m == nil {
		b.Fatalf("%s has no csrf field", page)
	}
	return string(m[1])
}

// adminBenchLogin logs in as a benchmark admin through the login form and
// creates an API token for the same user.
func adminBenchLogin(b testing.TB, ctx context.Context, users *web.Users, base string) (*http.Client, string) {
	const login, password = "bench", "bench-password-1"
	if _, err := users.ByLogin(ctx, login); err != nil {
		if err := users.Add(ctx, login, password, "admin", nil); err != nil {
			b.Fatal(err)
		}
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(base + "/admin/login")
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRe.FindSubmatch(body)
	if m == nil {
		b.Fatal("the login form has no csrf field")
	}
	resp, err = client.PostForm(base+"/admin/login", url.Values{"csrf": {string(m[1])}, "login": {login}, "password": {password}})
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		b.Fatalf("login: %d", resp.StatusCode)
	}
	tok, err := users.CreateToken(ctx, login)
	if err != nil {
		b.Fatal(err)
	}
	return client, tok
}

// buildAdminBenchDB fills a local-mode data directory: 1M subscribers,
// every one on the first list and a quarter on a second one, an opt-in
// consent event per subscription over the last two years, 1% suppressed;
// one sent issue per list with a delivery per confirmed subscriber
// (about 1M deliveries), 2% of them bounced with a bounce row.
func buildAdminBenchDB(ctx context.Context, dir string) error {
	e, err := openEnv(ctx, config.Source{DataDir: dir}, "127.0.0.1:1", io.Discard)
	if err != nil {
		return err
	}
	defer e.Close()
	// Opening the subscribers store and syncing the lists migrates and
	// fills the lists table.
	if err := e.syncLists(ctx, e.subscribers(nil)); err != nil {
		return err
	}
	db := e.db
	var lists []int64
	rows, err := db.QueryContext(ctx, `SELECT id FROM lists ORDER BY id`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		lists = append(lists, id)
	}
	rows.Close()
	first, err := listIDBySlug(ctx, db, "kankyo-hozen")
	if err != nil {
		return err
	}
	now := time.Now()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ins := func(q string) *sql.Stmt {
		st, err2 := tx.PrepareContext(ctx, q)
		if err2 != nil && err == nil {
			err = err2
		}
		return st
	}
	sub := ins(`INSERT INTO subscribers (id, email, name, created) VALUES (?, ?, ?, ?)`)
	subn := ins(`INSERT INTO subscriptions (list_id, subscriber_id, status, source, requested_at, confirmed_at, unsubscribed_at) VALUES (?, ?, ?, 'import', ?, ?, ?)`)
	ev := ins(`INSERT INTO consent_events (at_ms, list_id, subscriber_id, email, event, source) VALUES (?, ?, ?, ?, ?, 'import')`)
	sup := ins(`INSERT INTO suppressions (email, list_id, reason, since) VALUES (?, 0, 'hard-bounce', ?)`)
	if err != nil {
		return err
	}
	span := int64(2 * 365 * 24 * time.Hour / time.Second)
	for i := int64(1); i <= benchSubscribers; i++ {
		email := fmt.Sprintf("user%07d@%s", i, []string{"example.jp", "docomo.ne.jp", "ezweb.ne.jp", "gmail.example"}[i%4])
		created := now.Unix() - span + i*span/benchSubscribers
		if _, err := sub.ExecContext(ctx, i, email, fmt.Sprintf("利用者 %d", i), created); err != nil {
			return err
		}
		on := []int64{first}
		if i%benchSecondEvery == 0 {
			on = append(on, lists[int(i/benchSecondEvery)%len(lists)])
		}
		for _, l := range slices.Compact(on) {
			status, conf, unsub := "confirmed", any(created), any(nil)
			switch i % 20 {
			case 3:
				status, conf = "unconfirmed", nil
			case 7:
				status, unsub = "unsubscribed", created+3600
			}
			if _, err := subn.ExecContext(ctx, l, i, status, created, conf, unsub); err != nil {
				return err
			}
			if _, err := ev.ExecContext(ctx, created*1000, l, i, email, "opt-in"); err != nil {
				return err
			}
			if status == "unsubscribed" {
				if _, err := ev.ExecContext(ctx, (created+3600)*1000, l, i, email, "opt-out"); err != nil {
					return err
				}
			}
		}
		if i%100 == 11 {
			if _, err := sup.ExecContext(ctx, email, created); err != nil {
				return err
			}
		}
	}
	if err := buildBenchIssues(ctx, tx, lists, now); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `ANALYZE`)
	return err
}

// buildBenchIssues adds one sent issue per list (and a draft), with its
// deliveries and bounces.
func buildBenchIssues(ctx context.Context, tx *sql.Tx, lists []int64, now time.Time) error {
	for n, l := range lists {
		at := now.Add(-time.Duration(len(lists)-n) * 24 * time.Hour).UnixMilli()
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO issues (list_id, subject, body_markdown, status, author, recipients, created_at, updated_at, send_at, sent_at)
VALUES (?, ?, '本文', 'sent', 'bench', 0, ?, ?, ?, ?) RETURNING id`, l, fmt.Sprintf("第%d号", n+1), at, at, at, at).Scan(&id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO issues (list_id, subject, body_markdown, status, author, created_at, updated_at)
VALUES (?, '下書き', '本文', 'draft', 'bench', ?, ?)`, l, at, at); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO mailer_runs (issue_id, list_id, state, total, created_ms, updated_ms) VALUES (?, ?, 'running', 0, ?, ?)`, id, l, at, at); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO deliveries (issue_id, subscriber_id, email, name, domain, status, attempts, first_attempt_ms, done_ms, message_id)
SELECT ?, s.id, s.email, s.name, substr(s.email, instr(s.email, '@') + 1),
  CASE WHEN s.id % 50 = 1 THEN 'bounced' WHEN s.id % 100 = 2 THEN 'failed' ELSE 'sent' END, 1, ?, ?, 'mid-' || s.id
FROM subscriptions p JOIN subscribers s ON s.id = p.subscriber_id
WHERE p.list_id = ? AND p.status = 'confirmed'`, id, at, at, l)
		if err != nil {
			return err
		}
		total, _ := res.RowsAffected()
		if _, err := tx.ExecContext(ctx, `UPDATE issues SET recipients = ? WHERE id = ?`, total, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE mailer_runs SET total = ?, state = 'done' WHERE issue_id = ?`, total, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO bounces (received, dedupe_key, delivery_id, issue_id, list_id, subscriber_id, email, attributed_by, class, status, diagnostic)
SELECT ? / 1000 + 600, 'send:' || d.id, d.id, d.issue_id, ?, d.subscriber_id, d.email, 'verp',
  CASE WHEN d.subscriber_id % 3 = 0 THEN 'soft' ELSE 'hard' END, '5.1.1', '550 5.1.1 user unknown'
FROM deliveries d WHERE d.issue_id = ? AND d.status = 'bounced'`, at, l, id); err != nil {
			return err
		}
	}
	return nil
}

func listIDBySlug(ctx context.Context, db *sql.DB, slug string) (int64, error) {
	var id int64
	err := db.QueryRowContext(ctx, `SELECT id FROM lists WHERE slug = ?`, slug).Scan(&id)
	return id, err
}

package web

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"kawaraban/bounces"
	"kawaraban/issues"
	"kawaraban/localmail"
	"kawaraban/mailer"
	"kawaraban/newsletter"
	"kawaraban/subscribers"
	"kawaraban/templates"
	"kawaraban/token"
)

// These tests run web over the real domain packages (through Domain.Fill)
// on a real SQLite database.

type captured struct {
	mu  sync.Mutex
	all []subscribers.Confirmation
}

func (c *captured) SendConfirmation(ctx context.Context, conf subscribers.Confirmation) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.all = append(c.all, conf)
	return nil
}

func (c *captured) last(t *testing.T) subscribers.Confirmation {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.all) == 0 {
		t.Fatal("no confirmation mail")
	}
	return c.all[len(c.all)-1]
}

type noOutbox struct{}

func (noOutbox) Snapshot(ctx context.Context, issueID, listID int64) (int, error) { return 0, nil }

// realDomain builds the application layer over real stores, a mailer that
// sends to an in-process SMTP server, and the bounce service.
func realDomain(t testing.TB, o *Options, subs *subscribers.Store, iss *issues.Store) (Domain, *localmail.SMTP) {
	t.Helper()
	tpl, err := templates.New(templates.Options{})
	if err != nil {
		t.Fatal(err)
	}
	relay, err := localmail.NewSMTP(localmail.SMTPOptions{Keep: true})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := relay.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go relay.Run(ctx)
	t.Cleanup(cancel)
	host, port, _ := net.SplitHostPort(addr.String())
	p, _ := strconv.Atoi(port)
	d := Domain{Subscribers: subs, Issues: iss, Location: time.UTC}
	clicks, _ := token.NewSigner([]byte(strings.Repeat("c", 32)))
	d.Renderer = newsletter.NewRenderer(iss, subs, tpl, newsletter.RendererOptions{BaseURL: o.BaseURL, Now: o.Now, Signer: clicks})
	d.Mailer, err = mailer.New(o.DB, mailer.Options{Relays: []mailer.Relay{{Host: host, Port: p, TLS: "none"}},
		Renderer: d.Renderer, Checker: d.Renderer, Now: o.Now, OnIssueDone: newsletter.IssueDone(iss, nil)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Mailer.Close() })
	d.Attribution = newsletter.NewAttribution(d.Mailer, iss, subs, nil)
	d.Statistics = newsletter.NewStatistics(o.DB, iss, subs, d.Mailer, tpl, newsletter.StatisticsOptions{
		BaseURL: o.BaseURL, Signer: clicks, Now: o.Now})
	d.Bounces, err = bounces.New(o.DB, bounces.Deps{VERP: d.Mailer, Deliveries: d.Attribution, Marker: d.Mailer,
		Suppressor: d.Attribution, Erasures: d.Attribution}, bounces.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d.Attribution.Bounces = d.Bounces
	system := newsletter.NewSystemMail(d.Mailer, tpl, newsletter.SystemOptions{Now: o.Now})
	d.Sending = newsletter.NewSending(iss, subs, d.Mailer, d.Renderer, system, newsletter.SendingOptions{Now: o.Now})
	return d, relay
}

type realEnv struct {
	*env
	dom   Domain
	relay *localmail.SMTP // where the mailer sends
	subs  *subscribers.Store
	iss   *issues.Store
	mail  *captured
}

func newRealEnv(t testing.TB) *realEnv {
	t.Helper()
	var re realEnv
	re.mail = &captured{}
	re.env = newEnv(t, func(o *Options) {
		signer, _ := token.NewSigner([]byte(strings.Repeat("s", 32)))
		re.subs = subscribers.New(o.DB, subscribers.Options{Now: o.Now, Signer: signer, BaseURL: o.BaseURL, Confirmer: re.mail})
		legal := subscribers.List{FromName: "京都市", FromAddress: "news@city.example.jp", PostalAddress: "京都市中京区寺町通御池上る上本能寺前町488", Contact: "075-000-0000"}
		var defs []subscribers.List
		for _, l := range testLists {
			d := legal
			d.Slug, d.NameJA, d.NameEN, d.Kind, d.DoubleOptIn = l.Slug, l.NameJA, l.NameEN, l.Kind, l.Kind == "public"
			defs = append(defs, d)
		}
		if err := re.subs.SyncLists(context.Background(), defs); err != nil {
			t.Fatal(err)
		}
		re.iss = issues.New(o.DB, issues.Options{Now: o.Now})
		o.Subscribers, o.SubscriberAdmin, o.Renderer, o.Bounces, o.Deliveries, o.Stats = nil, nil, nil, nil, nil, nil
		o.Issues, o.Drafts, o.Sending, o.Checks, o.Approvals = nil, nil, nil, nil, nil
		re.dom, re.relay = realDomain(t, o, re.subs, re.iss)
		re.dom.Fill(o)
	})
	return &re
}

func TestRealSubscribeConfirmUnsubscribe(t *testing.T) {
	t.Parallel()
	e := newRealEnv(t)
	c := e.client()
	ctx := t.Context()
	resp, body := subscribeForm(t, e.env, c, "a@b@c.jp", "kankyo-hozen")
	if resp.StatusCode != 422 || !strings.Contains(body, "@") || len(e.mail.all) != 0 {
		t.Fatalf("bad address: %d", resp.StatusCode)
	}
	resp, _ = subscribeForm(t, e.env, c, "user..name.@docomo.ne.jp", "kankyo-hozen")
	if resp.StatusCode != 200 {
		t.Fatalf("carrier address: %d", resp.StatusCode)
	}
	conf := e.mail.last(t)
	u, _ := url.Parse(conf.ConfirmURL)
	l, _ := e.subs.ListBySlug(ctx, "kankyo-hozen")
	if resp, body := e.get(c, u.Path); resp.StatusCode != 200 || !strings.Contains(body, `id="confirm"`) {
		t.Fatalf("confirm page: %d", resp.StatusCode)
	}
	if st, _ := e.subs.Stats(ctx, l.ID); st.Confirmed != 0 {
		t.Fatalf("GET of the confirm link confirmed: %+v", st)
	}
	if resp, body := e.post(c, u.Path, url.Values{}); resp.StatusCode != 200 || !strings.Contains(body, "環境保全センター") {
		t.Fatalf("confirm: %d", resp.StatusCode)
	}
	if st, _ := e.subs.Stats(ctx, l.ID); st.Confirmed != 1 {
		t.Fatalf("stats %+v", st)
	}
	tok := e.subs.UnsubscribeToken(conf.SubscriberID, l.ID)
	if resp, body := e.get(c, "/unsubscribe/"+tok); resp.StatusCode != 200 || strings.Contains(body, "user..name.@docomo") {
		t.Fatalf("unsubscribe page: %d (must show a masked address)", resp.StatusCode)
	}
	if st, _ := e.subs.Stats(ctx, l.ID); st.Confirmed != 1 {
		t.Fatal("GET unsubscribed")
	}
	resp, _ = e.post(http.DefaultClient, "/unsubscribe/"+tok, url.Values{"List-Unsubscribe": {"One-Click"}})
	if st, _ := e.subs.Stats(ctx, l.ID); resp.StatusCode != 200 || st.Confirmed != 0 || st.Unsubscribed != 1 {
		t.Fatalf("one-click: %d %+v", resp.StatusCode, st)
	}
	for _, p := range []string{"/confirm/forged", "/unsubscribe/forged", "/preferences/forged", "/confirm/" + tok, "/preferences/" + tok} {
		if resp, _ := e.get(c, p); resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
	resp, body = e.get(c, "/preferences/"+e.subs.PreferencesToken(conf.SubscriberID))
	if resp.StatusCode != 200 || !strings.Contains(body, "pl-shimin-katsudo") {
		t.Fatalf("preferences: %d", resp.StatusCode)
	}
}

func TestRealAPIAndArchive(t *testing.T) {
	t.Parallel()
	e := newRealEnv(t)
	ctx := t.Context()
	tok := e.bearer("editor")
	resp, body := e.api("POST", "/api/v1/issues", tok, `{"list":"shimin-katsudo","subject":"12月号","body_markdown":"# お知らせ\n\n{{ .Name }}様、こんにちは。<script>alert(1)</script>"}`)
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	if resp, _ := e.api("POST", "/api/v1/issues", tok, `{"list":"kankyo-hozen","subject":"s","body_markdown":"b"}`); resp.StatusCode != 403 {
		t.Fatalf("foreign list: %d", resp.StatusCode)
	}
	if resp, _ := e.api("POST", "/api/v1/issues", tok, `{"list":"shimin-katsudo","subject":"a\nb","body_markdown":"b"}`); resp.StatusCode != 422 {
		t.Fatalf("subject with LF: %d", resp.StatusCode)
	}
	var created issueJSON
	json.Unmarshal([]byte(body), &created)
	// Issue 14: a send to a list nobody would receive is refused, with the
	// reason and the count.
	resp, body = e.api("POST", "/api/v1/issues/"+itoa(created.ID)+"/send", tok, "")
	if resp.StatusCode != 422 || !strings.Contains(body, "0 recipients") {
		t.Fatalf("send to an empty list: %d %s", resp.StatusCode, body)
	}
	if _, err := e.subs.Import(ctx, strings.NewReader("email,name\nreader@example.jp,読者 一\n"),
		subscribers.ImportOptions{ListSlug: "shimin-katsudo", ConsentSource: "窓口申込書"}); err != nil {
		t.Fatal(err)
	}
	resp, body = e.api("POST", "/api/v1/issues/"+itoa(created.ID)+"/send", tok, "")
	if resp.StatusCode != 202 || !strings.Contains(body, `"status":"scheduled"`) {
		t.Fatalf("send: %d %s", resp.StatusCode, body)
	}
	// The scheduler's job moves it on; then the mailer would mark it sent.
	if err := e.iss.StartDue(ctx, e.clock.Now().Add(time.Second), noOutbox{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.iss.MarkSent(ctx, created.ID, issues.SchedulerActor()); err != nil {
		t.Fatal(err)
	}
	resp, body = e.api("GET", "/api/v1/issues/"+itoa(created.ID), tok, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"status":"sent"`) || !strings.Contains(body, `"queued":0`) ||
		!strings.Contains(body, `"number":1`) {
		t.Fatalf("get: %d %s", resp.StatusCode, body)
	}
	c := e.client()
	resp, body = e.get(c, "/archive/shimin-katsudo/"+itoa(created.ID))
	if resp.StatusCode != 200 || !strings.Contains(body, "お知らせ</h1>") || strings.Contains(body, "<script>alert") || strings.Contains(body, ".Name") {
		t.Fatalf("archive page: %d %s", resp.StatusCode, body)
	}
	// Issue 14: the greeting kept a lone 様; it reads as the list's fallback.
	if !strings.Contains(body, "読者様、こんにちは") {
		t.Errorf("archive greeting is not 読者様: %s", body)
	}
	resp, body = e.get(c, "/archive/shimin-katsudo/feed.atom")
	if resp.StatusCode != 200 || !strings.Contains(body, "<title>12月号</title>") {
		t.Fatalf("feed: %d", resp.StatusCode)
	}
	// Members and invitations through the API.
	admin := e.bearer("admin")
	for _, tc := range []struct {
		list, body string
		code       int
	}{
		{"chonai", `{"email":"staff@city.example.jp","name":"職員"}`, 201},
		{"chonai", `{"email":"a@b@c.jp"}`, 422},
		{"shimin-katsudo", `{"email":"citizen@example.jp"}`, 202},
		{"shimin-katsudo", `{"email":"citizen@example.jp"}`, 202},
		{"nope", `{"email":"x@example.jp"}`, 404},
	} {
		if resp, body := e.api("POST", "/api/v1/lists/"+tc.list+"/subscribers", admin, tc.body); resp.StatusCode != tc.code {
			t.Errorf("add %s to %s: %d %s", tc.body, tc.list, resp.StatusCode, body)
		}
	}
	if n := len(e.mail.all); n != 2 { // one per request, up to subscribers' daily cap
		t.Errorf("%d confirmation mails for two invitations", n)
	}
	// Live preview through the real templates carries the legal footer.
	ui, csrf := e.login("editor")
	resp, body = e.post(ui, "/admin/preview", url.Values{"csrf": {csrf}, "list": {"shimin-katsudo"}, "subject": {"件名"}, "body": {"{{ .Name }}様"}})
	if resp.StatusCode != 200 || !strings.Contains(body, "寺町通") || !strings.Contains(body, "京都 花子") {
		t.Fatalf("preview: %d %s", resp.StatusCode, body)
	}
	resp, body = e.post(ui, "/admin/preview", url.Values{"csrf": {csrf}, "list": {"shimin-katsudo"}, "subject": {"件名"}, "body": {"{{ .Nope }"}})
	if resp.StatusCode != 422 || !strings.Contains(body, "error") {
		t.Fatalf("preview of a broken template: %d %s", resp.StatusCode, body)
	}
	// Admin pages render over the real stores.
	for _, p := range []string{"/admin/", "/admin/issues?list=shimin-katsudo", "/admin/issues/" + itoa(created.ID), "/admin/subscribers?list=shimin-katsudo"} {
		if resp, _ := e.get(ui, p); resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
}

// Issue 14: a send_at in the past was accepted and sent at once.
func TestRealAPISendAtInThePast(t *testing.T) {
	t.Parallel()
	e := newRealEnv(t)
	tok := e.bearer("admin")
	resp, body := e.api("POST", "/api/v1/issues", tok, `{"list":"kankyo-hozen","subject":"s","body_markdown":"b","send_at":"2020-01-01T09:00:00+09:00"}`)
	if resp.StatusCode != 422 || !strings.Contains(body, "in the past") {
		t.Fatalf("past send_at: %d %s, want 422 with the reason", resp.StatusCode, body)
	}
	if _, err := e.subs.Import(t.Context(), strings.NewReader("email\nr@example.jp\n"),
		subscribers.ImportOptions{ListSlug: "kankyo-hozen", ConsentSource: "窓口申込書"}); err != nil {
		t.Fatal(err)
	}
	// A future send_at schedules on /send.
	resp, body = e.api("POST", "/api/v1/issues", tok, `{"list":"kankyo-hozen","subject":"s","body_markdown":"b","send_at":"2030-01-01T09:00:00+09:00"}`)
	var created issueJSON
	json.Unmarshal([]byte(body), &created)
	resp, body = e.api("POST", "/api/v1/issues/"+itoa(created.ID)+"/send", tok, "")
	if resp.StatusCode != 202 || !strings.Contains(body, `"status":"scheduled"`) {
		t.Fatalf("send future: %d %s", resp.StatusCode, body)
	}
}

// Issue 14: MarkNotABounce and Alerts had no caller. A hard bounce
// suppresses; "not a bounce" through the API undoes it; a policy refusal
// shows on the admin's dashboard.
func TestRealNotABounceAndAlerts(t *testing.T) {
	t.Parallel()
	e := newRealEnv(t)
	ctx := t.Context()
	if _, err := e.subs.Import(ctx, strings.NewReader("email\nr1@example.jp\nr2@blocked.example\n"),
		subscribers.ImportOptions{ListSlug: "shimin-katsudo", ConsentSource: "窓口申込書"}); err != nil {
		t.Fatal(err)
	}
	is, err := e.iss.Create(ctx, issues.Draft{ListID: e.listID(t, "shimin-katsudo"), Subject: "s", BodyMarkdown: "b", Author: "editor"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.dom.Sending.SendNow(ctx, is.ID, issues.Actor{Login: "editor"}); err != nil {
		t.Fatal(err)
	}
	if err := e.dom.Sending.StartDue(ctx); err != nil {
		t.Fatal(err)
	}
	for id, st := range map[int64][2]any{1: {550, "5.1.1"}, 2: {554, "5.7.1"}} {
		d, ok, err := e.dom.Mailer.DeliveryByID(ctx, id)
		if err != nil || !ok {
			t.Fatalf("delivery %d: %v", id, err)
		}
		if err := e.dom.Attribution.RecordSendFailure(ctx, d, &mailer.Error{Code: st[0].(int), Enhanced: st[1].(string), Text: "refused"}); err != nil {
			t.Fatal(err)
		}
	}
	if sup, _ := e.subs.IsSuppressed(ctx, "r1@example.jp"); !sup {
		t.Fatal("a hard bounce did not suppress")
	}
	tok := e.bearer("editor")
	resp, body := e.api("GET", "/api/v1/bounces?list=shimin-katsudo", tok, "")
	var page struct{ Items []bounceJSON }
	json.Unmarshal([]byte(body), &page)
	if resp.StatusCode != 200 || len(page.Items) != 2 {
		t.Fatalf("bounces of the list: %d %s", resp.StatusCode, body)
	}
	var hard int64
	for _, b := range page.Items {
		if b.Status == "5.1.1" {
			hard = b.ID
		}
	}
	resp, body = e.api("POST", "/api/v1/bounces/"+itoa(hard)+"/not-a-bounce", tok, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"not_a_bounce":true`) {
		t.Fatalf("not-a-bounce: %d %s", resp.StatusCode, body)
	}
	if sup, _ := e.subs.IsSuppressed(ctx, "r1@example.jp"); sup {
		t.Error("not-a-bounce left the address suppressed")
	}
	if resp, _ := e.api("POST", "/api/v1/bounces/"+itoa(hard)+"/not-a-bounce", e.bearer("coord"), ""); resp.StatusCode != 403 {
		t.Errorf("coordinator on another list's bounce: %d, want 403", resp.StatusCode)
	}
	ui, _ := e.login("admin")
	if resp, body := e.get(ui, "/admin/"); resp.StatusCode != 200 || !strings.Contains(body, `id="alerts"`) || !strings.Contains(body, "5.7.1") {
		t.Errorf("dashboard shows no alert: %d", resp.StatusCode)
	}
}

// Issue 14: in the admin UI a past send time is a form error with the
// reason, 今すぐ配信 and 中止 ask first with the count, and a send to a
// list nobody is on is refused with the count.
func TestRealUIRefusesAndConfirms(t *testing.T) {
	t.Parallel()
	e := newRealEnv(t)
	ctx := t.Context()
	is, err := e.iss.Create(ctx, issues.Draft{ListID: e.listID(t, "shimin-katsudo"), Subject: "件名", BodyMarkdown: "本文", Author: "editor"})
	if err != nil {
		t.Fatal(err)
	}
	ui, csrf := e.login("editor")
	path := "/admin/issues/" + itoa(is.ID)
	resp, body := e.post(ui, path+"/schedule", url.Values{"csrf": {csrf}, "subject": {"件名"}, "body": {"本文"}, "send_at": {"2020-01-01T09:00"}})
	if resp.StatusCode != 422 || !strings.Contains(body, "配信日時が過去です") {
		t.Errorf("past send time: %d, want 422 with the reason", resp.StatusCode)
	}
	resp, body = e.post(ui, path+"/send", url.Values{"csrf": {csrf}})
	if resp.StatusCode != 200 || !strings.Contains(body, `id="confirm-send"`) || !strings.Contains(body, "配信先: 0件") {
		t.Errorf("send asks first: %d", resp.StatusCode)
	}
	resp, body = e.post(ui, path+"/send", url.Values{"csrf": {csrf}, "confirm": {"yes"}})
	if resp.StatusCode != 422 || !strings.Contains(body, "配信先が0件") {
		t.Errorf("confirmed send to nobody: %d, want 422 with the count", resp.StatusCode)
	}
	resp, body = e.post(ui, path+"/cancel", url.Values{"csrf": {csrf}})
	if resp.StatusCode != 200 || !strings.Contains(body, `id="confirm-cancel"`) {
		t.Errorf("cancel asks first: %d", resp.StatusCode)
	}
	if got, _ := e.iss.ByID(ctx, is.ID); got.Status != issues.StatusDraft {
		t.Errorf("unconfirmed actions changed the issue: %s", got.Status)
	}
}

func (e *realEnv) listID(t *testing.T, slug string) int64 {
	t.Helper()
	l, err := e.subs.ListBySlug(t.Context(), slug)
	if err != nil {
		t.Fatal(err)
	}
	return l.ID
}

// Issue 14: ?list= was applied after paging (short or empty pages) and the
// offset was rounded down to a multiple of the limit.
func TestRealAPIBouncePagesByList(t *testing.T) {
	t.Parallel()
	e := newRealEnv(t)
	ctx := t.Context()
	var csv strings.Builder
	csv.WriteString("email\n")
	for i := range 9 {
		csv.WriteString("r" + itoa(int64(i)) + "@example.jp\n")
	}
	for _, slug := range []string{"shimin-katsudo", "kankyo-hozen"} {
		if _, err := e.subs.Import(ctx, strings.NewReader(csv.String()), subscribers.ImportOptions{ListSlug: slug, ConsentSource: "窓口申込書"}); err != nil {
			t.Fatal(err)
		}
		is, err := e.iss.Create(ctx, issues.Draft{ListID: e.listID(t, slug), Subject: "s", BodyMarkdown: "b", Author: "admin"})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.dom.Sending.SendNow(ctx, is.ID, issues.Actor{Login: "admin"}); err != nil {
			t.Fatal(err)
		}
		if err := e.dom.Sending.StartDue(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Deliveries 1–9 are shimin-katsudo's, 10–18 kankyo-hozen's; bounce
	// three of shimin-katsudo's among all of kankyo-hozen's.
	for _, id := range []int64{10, 11, 1, 12, 13, 14, 2, 15, 16, 17, 3, 18} {
		d, _, err := e.dom.Mailer.DeliveryByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.dom.Attribution.RecordSendFailure(ctx, d, &mailer.Error{Code: 550, Enhanced: "5.1.1", Text: "no such user"}); err != nil {
			t.Fatal(err)
		}
	}
	tok := e.bearer("editor") // edits shimin-katsudo only
	seen := 0
	for off := 0; off < 10; off++ {
		resp, body := e.api("GET", "/api/v1/bounces?list=shimin-katsudo&limit=2&offset="+itoa(int64(off)), tok, "")
		var page struct {
			Items  []bounceJSON
			Offset int
		}
		json.Unmarshal([]byte(body), &page)
		if resp.StatusCode != 200 || page.Offset != off {
			t.Fatalf("offset %d: %d %s", off, resp.StatusCode, body)
		}
		want := min(2, max(0, 3-off))
		if len(page.Items) != want {
			t.Errorf("offset %d: %d rows, want %d", off, len(page.Items), want)
		}
		for _, b := range page.Items {
			if b.List != "shimin-katsudo" {
				t.Errorf("offset %d: a bounce of %s", off, b.List)
			}
		}
		if off%2 == 0 {
			seen += len(page.Items)
		}
	}
	if seen != 3 {
		t.Errorf("pages of two hold %d of shimin-katsudo's 3 bounces", seen)
	}
}

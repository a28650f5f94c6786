package web

import (
	"context"
	"fmt"
	"html"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"kawaraban/bounces"
	"kawaraban/issues"
	"kawaraban/mailer"
	"kawaraban/progress"
	"kawaraban/scheduler"
	"kawaraban/subscribers"
	"kawaraban/templates"
	"kawaraban/token"
)

// This file holds small in-memory implementations of web's own consumer
// interfaces (deps.go), for tests. They are not SQL mocks: web owns these
// interfaces, and the real domain packages satisfy them in cmd.

var testLists = []List{
	{ID: 1, Slug: "shimin-katsudo", NameJA: "市民活動総合センター", NameEN: "Citizen Activity Center", Kind: "public",
		FromAddress: "shimin-katsudo@city.example.jp", DescriptionJA: "市民活動の講座・イベント・助成金の情報をお届けします。", DescriptionEN: "Courses, events and grants for citizens' activities."},
	{ID: 2, Slug: "kankyo-hozen", NameJA: "環境保全センター", NameEN: "Environment Center", Kind: "public", Encoding: "iso-2022-jp",
		FromAddress: "kankyo@city.example.jp", DescriptionJA: "環境保全の活動と講座のお知らせです。", DescriptionEN: "Environmental activities and courses."},
	{ID: 3, Slug: "chonai", NameJA: "庁内情報誌", NameEN: "Internal newsletter", Kind: "internal"},
}

type fakeSub struct {
	Email  string
	Name   string
	Lists  map[string]string // slug → unconfirmed|confirmed|unsubscribed
	Events []string
}

// fakeSubscribers keeps subscribers in memory; tokens are signed with the
// real token package ("confirm:<id>", "unsub:<id>:<list>", "prefs:<id>").
type fakeSubscribers struct {
	mu     sync.Mutex
	signer *token.Signer
	now    func() time.Time
	subs   []*fakeSub
	mails  []string // confirmation tokens "sent"
}

func newFakeSubscribers(now func() time.Time) *fakeSubscribers {
	s, _ := token.NewSigner([]byte(strings.Repeat("k", 32)))
	return &fakeSubscribers{signer: s, now: now}
}

func (f *fakeSubscribers) Lists(ctx context.Context) ([]List, error) {
	return slices.Clone(testLists), nil
}

func (f *fakeSubscribers) Subscribe(ctx context.Context, req SubscribeRequest) error {
	if !strings.Contains(req.Email, "@") || strings.Count(req.Email, "@") > 1 || strings.ContainsAny(req.Email, "\r\n") {
		return &subscribers.AddressError{Code: "multiple-at", Message: "the address needs one @ and a domain", MessageJA: "メールアドレスの形式が正しくありません(@ とドメインが必要です)"}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var sub *fakeSub
	id := -1
	for i, s := range f.subs {
		if s.Email == req.Email {
			sub, id = s, i
		}
	}
	if sub == nil {
		sub = &fakeSub{Email: req.Email, Name: req.Name, Lists: map[string]string{}}
		f.subs = append(f.subs, sub)
		id = len(f.subs) - 1
	}
	for _, l := range req.Lists {
		if sub.Lists[l] != "confirmed" {
			sub.Lists[l] = "unconfirmed"
		}
	}
	f.mails = append(f.mails, f.signer.Sign("confirm", token.IDs(int64(id)), f.now().Add(7*24*time.Hour)))
	return nil
}

func (f *fakeSubscribers) byToken(purpose, tok string, n int) (*fakeSub, []int64, error) {
	p, err := f.signer.Verify(purpose, tok, f.now())
	if err != nil {
		return nil, nil, fmt.Errorf("checking %s token: %w", purpose, err)
	}
	ids, err := token.ParseIDs(p, n)
	if err != nil || ids[0] < 0 || int(ids[0]) >= len(f.subs) {
		return nil, nil, subscribers.ErrBadToken
	}
	return f.subs[ids[0]], ids, nil
}

func (f *fakeSubscribers) Confirm(ctx context.Context, tok string, ev Evidence) (ConfirmResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sub, ids, err := f.byToken("confirm", tok, 1)
	if err != nil {
		return ConfirmResult{}, err
	}
	var res ConfirmResult
	res.SubscriberID = ids[0]
	res.PreferencesToken = f.signer.Sign("prefs", token.IDs(ids[0]), time.Time{})
	for _, l := range testLists {
		if sub.Lists[l.Slug] == "unconfirmed" {
			sub.Lists[l.Slug] = "confirmed"
			sub.Events = append(sub.Events, "opt-in "+l.Slug+" "+ev.IP)
			res.Lists = append(res.Lists, l)
		}
	}
	return res, nil
}

func (f *fakeSubscribers) CheckConfirm(ctx context.Context, tok string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, _, err := f.byToken("confirm", tok, 1)
	return err
}

func (f *fakeSubscribers) unsubToken(id int64, listID int64) string {
	return f.signer.Sign("unsubscribe", token.IDs(id, listID), time.Time{})
}

func listOf(id int64) List {
	for _, l := range testLists {
		if l.ID == id {
			return l
		}
	}
	return List{}
}

func (f *fakeSubscribers) UnsubscribeInfo(ctx context.Context, tok string) (UnsubscribeInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sub, ids, err := f.byToken("unsubscribe", tok, 2)
	if err != nil {
		return UnsubscribeInfo{}, err
	}
	l := listOf(ids[1])
	return UnsubscribeInfo{List: l, MaskedEmail: sub.Email[:1] + "***", Subscribed: sub.Lists[l.Slug] != "unsubscribed"}, nil
}

func (f *fakeSubscribers) UnsubscribeByToken(ctx context.Context, tok, source string, ev Evidence) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	sub, ids, err := f.byToken("unsubscribe", tok, 2)
	if err != nil {
		return err
	}
	l := listOf(ids[1])
	sub.Lists[l.Slug] = "unsubscribed"
	sub.Events = append(sub.Events, "opt-out "+l.Slug+" "+source)
	return nil
}

func (f *fakeSubscribers) prefsToken(id int64) string {
	return f.signer.Sign("prefs", token.IDs(id), time.Time{})
}

func (f *fakeSubscribers) Preferences(ctx context.Context, tok string) (Preferences, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sub, _, err := f.byToken("prefs", tok, 1)
	if err != nil {
		return Preferences{}, err
	}
	p := Preferences{MaskedEmail: sub.Email[:1] + "***"}
	for _, l := range testLists {
		if l.Kind == "public" {
			p.Lists = append(p.Lists, subscribers.PrefList{List: l, Subscribed: sub.Lists[l.Slug] == "confirmed"})
		}
	}
	return p, nil
}

func (f *fakeSubscribers) SavePreferences(ctx context.Context, tok string, slugs []string, ev Evidence) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	sub, _, err := f.byToken("prefs", tok, 1)
	if err != nil {
		return err
	}
	for _, l := range testLists {
		if slices.Contains(slugs, l.Slug) {
			sub.Lists[l.Slug] = "confirmed"
		} else if sub.Lists[l.Slug] == "confirmed" {
			sub.Lists[l.Slug] = "unsubscribed"
		}
	}
	return nil
}

func (f *fakeSubscribers) status(email, slug string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.subs {
		if s.Email == email {
			return s.Lists[slug]
		}
	}
	return ""
}

// SubscriberAdmin (Search is in fakes_sublist_test.go)

// SubscriberLists serves fakeSubscriberDetail.
func (f *fakeSubscribers) SubscriberLists(ctx context.Context, id int64) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id < 0 || int(id) >= len(f.subs) {
		return nil, ErrNotFound
	}
	out := []string{}
	for slug := range f.subs[id].Lists {
		out = append(out, slug)
	}
	slices.Sort(out)
	return out, nil
}

func (f *fakeSubscribers) Stats(ctx context.Context, listID int64) (ListStats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var st ListStats
	for _, s := range f.subs {
		if s.Lists[listOf(listID).Slug] == "confirmed" {
			st.Confirmed++
		}
	}
	st.BounceRate = 0.012
	return st, nil
}

func (f *fakeSubscribers) Growth(ctx context.Context, listID int64, days int) ([]subscribers.DayCount, error) {
	start := f.now().AddDate(0, 0, -days)
	var out []subscribers.DayCount
	for i := 0; i <= days; i += 10 {
		out = append(out, subscribers.DayCount{Day: start.AddDate(0, 0, i), Subscribed: i * 3})
	}
	return out, nil
}

func (f *fakeSubscribers) Import(ctx context.Context, r io.Reader, opt ImportOptions) (ImportReport, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return ImportReport{}, err
	}
	var rep ImportReport
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n")[1:] {
		email := strings.Split(line, ",")[0]
		if !strings.Contains(email, "@") {
			rep.Rejected = append(rep.Rejected, subscribers.RejectedRow{Line: i + 2, Reason: "not an address"})
			continue
		}
		rep.Added++
		if !opt.DryRun {
			f.mu.Lock()
			f.subs = append(f.subs, &fakeSub{Email: email, Lists: map[string]string{opt.ListSlug: "confirmed"}})
			f.mu.Unlock()
		}
	}
	return rep, nil
}

func (f *fakeSubscribers) ExportSubscribers(ctx context.Context, w io.Writer, slug string) error {
	subs, _ := f.Search(ctx, subscribers.SearchQuery{ListSlug: slug, PerPage: 1000})
	fmt.Fprintln(w, "email,name,status")
	for _, s := range subs {
		fmt.Fprintf(w, "%s,%s,%s\n", s.Email, s.Name, s.Status)
	}
	return nil
}

// fakeIssues keeps issues in memory; SendNow "delivers" to the confirmed
// subscribers of the list at once (Recipients counts them). It serves
// every issue group (IssueReader, IssueDrafts, IssueSending, IssueChecks,
// IssueApprovals).
type fakeIssues struct {
	mu     sync.Mutex
	now    func() time.Time
	subs   *fakeSubscribers
	issues []issues.Issue
	tests  []string
	async  bool // SendNow leaves the issue "sending" (for fakeDeliveries)
}

func (f *fakeIssues) Create(ctx context.Context, d issues.Draft) (issues.Issue, error) {
	if strings.ContainsAny(d.Subject, "\r\n") {
		return issues.Issue{}, &issues.InvalidError{Problems: []issues.Problem{{Field: "subject", Code: issues.CodeLineBreak}}}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	is := issues.Issue{ID: int64(len(f.issues) + 1), ListID: d.ListID, Subject: d.Subject, BodyMarkdown: d.BodyMarkdown,
		Status: "draft", Author: d.Author, SendAt: d.SendAt, CreatedAt: f.now(), RequireApproval: d.RequireApproval}
	for _, id := range d.ListIDs {
		is.Lists = append(is.Lists, issues.ListNumber{ListID: id})
	}
	f.issues = append(f.issues, is)
	return is, nil
}

func (f *fakeIssues) get(id int64) (*issues.Issue, error) {
	if id < 1 || int(id) > len(f.issues) {
		return nil, fmt.Errorf("issue %d: %w", id, ErrNotFound)
	}
	return &f.issues[id-1], nil
}

func (f *fakeIssues) Update(ctx context.Context, id int64, d issues.Draft, by issues.Actor) (issues.Issue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	is, err := f.get(id)
	if err != nil {
		return issues.Issue{}, err
	}
	if is.Status != "draft" && is.Status != "scheduled" {
		return issues.Issue{}, ErrConflict
	}
	is.Subject, is.BodyMarkdown, is.SendAt = d.Subject, d.BodyMarkdown, d.SendAt
	return *is, nil
}

func (f *fakeIssues) ByID(ctx context.Context, id int64) (issues.Issue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	is, err := f.get(id)
	if err != nil {
		return issues.Issue{}, err
	}
	return *is, nil
}

func (f *fakeIssues) ListByList(ctx context.Context, listID int64, p issues.Page) ([]issues.Issue, error) {
	return f.filter(listID, "", p.Limit, p.Offset), nil
}

func (f *fakeIssues) ListByLists(ctx context.Context, listIDs []int64, p issues.Page) ([]issues.Issue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []issues.Issue
	for i := len(f.issues) - 1; i >= 0; i-- {
		if is := f.issues[i]; slices.ContainsFunc(listIDs, is.HasList) {
			out = append(out, is)
		}
	}
	if p.Offset >= len(out) {
		return nil, nil
	}
	return out[p.Offset:min(p.Offset+p.Limit, len(out))], nil
}

func (f *fakeIssues) filter(listID int64, status string, limit, offset int) []issues.Issue {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []issues.Issue
	for i := len(f.issues) - 1; i >= 0; i-- {
		if is := f.issues[i]; is.HasList(listID) && (status == "" || is.Status == status) {
			out = append(out, is)
		}
	}
	if offset >= len(out) {
		return nil
	}
	return out[offset:min(len(out), offset+limit)]
}

func (f *fakeIssues) Archive(ctx context.Context, listID int64, limit, offset int) ([]issues.Issue, error) {
	return f.filter(listID, "sent", limit, offset), nil
}

func (f *fakeIssues) set(id int64, from []string, to string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	is, err := f.get(id)
	if err != nil {
		return err
	}
	if !slices.Contains(from, is.Status) {
		return fmt.Errorf("issue %d is %s: %w", id, is.Status, ErrConflict)
	}
	is.Status = to
	return nil
}

func (f *fakeIssues) Schedule(ctx context.Context, id int64, at time.Time, by issues.Actor) error {
	return f.set(id, []string{"draft", "scheduled"}, "scheduled")
}

func (f *fakeIssues) SendNow(ctx context.Context, id int64, by issues.Actor) error {
	to := "sent"
	if f.async {
		to = "sending"
	}
	if err := f.set(id, []string{"draft", "scheduled"}, to); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	is := &f.issues[id-1]
	now := f.now()
	is.SentAt = &now
	slug := listOf(is.ListID).Slug
	n := 0
	for _, s := range f.subs.subs {
		if s.Lists[slug] == "confirmed" {
			n++
		}
	}
	is.Recipients = &n
	return nil
}

// sent is how many deliveries SendNow snapshotted for the issue.
func sent(is issues.Issue) int {
	if is.Recipients == nil {
		return 0
	}
	return *is.Recipients
}

func (f *fakeIssues) Pause(ctx context.Context, id int64, by issues.Actor) error {
	return f.set(id, []string{"sending"}, "paused")
}
func (f *fakeIssues) Resume(ctx context.Context, id int64, by issues.Actor) error {
	return f.set(id, []string{"paused"}, "sending")
}
func (f *fakeIssues) Cancel(ctx context.Context, id int64, by issues.Actor) error {
	return f.set(id, []string{"draft", "scheduled", "sending", "paused"}, "cancelled")
}
func (f *fakeIssues) RetryFailed(ctx context.Context, id int64, by issues.Actor) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, err := f.get(id)
	return 0, err
}
func (f *fakeIssues) Approve(ctx context.Context, id int64, by issues.Actor, comment string) (issues.Issue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	is, err := f.get(id)
	if err != nil {
		return issues.Issue{}, err
	}
	is.ApprovedBy = by.Login
	return *is, nil
}
func (f *fakeIssues) Reject(ctx context.Context, id int64, by issues.Actor, comment string) (issues.Issue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	is, err := f.get(id)
	if err != nil {
		return issues.Issue{}, err
	}
	is.ApprovedBy = ""
	return *is, nil
}
func (f *fakeIssues) TestSend(ctx context.Context, id int64, to string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tests = append(f.tests, to)
	return nil
}

func (f *fakeIssues) Events(ctx context.Context, id int64) ([]IssueEvent, error) {
	if _, err := f.ByID(ctx, id); err != nil {
		return nil, err
	}
	evs := []IssueEvent{{At: f.now(), Actor: "editor", Action: "create", To: "draft"}}
	if is, _ := f.ByID(ctx, id); is.Status != "draft" {
		evs = append(evs, IssueEvent{At: f.now(), Actor: "editor", Action: "send_now", From: "draft", To: "scheduled"},
			IssueEvent{At: f.now(), Actor: "scheduler", Action: "snapshot", From: "scheduled", To: "scheduled", Comment: "6 recipients"},
			IssueEvent{At: f.now(), Actor: "scheduler", Action: "mark_sending", From: "scheduled", To: "sending"},
			IssueEvent{At: f.now(), Actor: "mailer", Action: "mark_sent", From: "sending", To: "sent"})
	}
	return evs, nil
}

type fakeRenderer struct{}

func (fakeRenderer) Preview(ctx context.Context, listID int64, subject, md, to string) (*mailer.Message, error) {
	if err := templates.CheckIssue(subject, md); err != nil {
		return nil, err // the real check, as the real renderer returns it
	}
	body := strings.ReplaceAll(md, "{{ .Name }}", "見本 太郎")
	return &mailer.Message{Subject: subject, Text: body + "\n\n-- \n配信停止: https://example.jp/unsubscribe/…",
		HTML: "<p>" + html.EscapeString(body) + "</p>"}, nil
}

// PreviewSubscriber knows subscriber 1 of every list, named 京都 一郎.
func (fakeRenderer) PreviewSubscriber(ctx context.Context, listID int64, subject, md string, subscriberID int64) (*mailer.Message, error) {
	if subscriberID != 1 {
		return nil, ErrNotFound
	}
	body := "京都 一郎 様\n" + strings.ReplaceAll(md, "{{ .Name }}", "京都 一郎")
	return &mailer.Message{Subject: subject, Text: body, HTML: "<p>" + html.EscapeString(body) + "</p>"}, nil
}

// Public fills the greeting's name as the fallback 読者.
func (fakeRenderer) Public(ctx context.Context, is issues.Issue) (Parts, error) {
	md := strings.ReplaceAll(is.BodyMarkdown, "{{ .Name }}", "読者")
	return Parts{Subject: is.Subject, Text: md, HTML: "<p>" + html.EscapeString(md) + "</p>"}, nil
}

type fakeBounces struct{}

var fakeBounceRows = []Bounce{
	{ID: 1, Email: "gone@example.jp", ListID: 1, Class: "hard", Status: "5.1.1",
		Diagnostic: "550 5.1.1 <gone@example.jp>: Recipient address rejected: User unknown", AttributedBy: "verp", Outcome: "suppressed"},
	{ID: 2, Email: "full@example.jp", ListID: 2, Class: "soft", Status: "4.2.2",
		Diagnostic: "452 4.2.2 Mailbox full", AttributedBy: "message-id", Outcome: "scored"},
	{ID: 3, Email: "forged@example.jp", Class: "complaint", AttributedBy: "recipient", Outcome: bounces.OutcomeUnverified},
}

// Verify accepts bounces 1 and 3.
func (fakeBounces) Verify(ctx context.Context, id int64, actor string) error {
	if id != 1 && id != 3 {
		return ErrNotFound
	}
	return nil
}

func (fakeBounces) ByID(ctx context.Context, id int64) (Bounce, error) {
	for _, b := range fakeBounceRows {
		if b.ID == id {
			return b, nil
		}
	}
	return Bounce{}, ErrNotFound
}

func (fakeBounces) MarkNotABounce(ctx context.Context, id int64, login string) error {
	_, err := fakeBounces{}.ByID(ctx, id)
	return err
}

func (fakeBounces) Alerts(ctx context.Context) ([]bounces.Alert, error) {
	return []bounces.Alert{{Domain: "example.jp", Status: "5.7.1", Detail: "refused for policy"}}, nil
}

func (fakeBounces) List(ctx context.Context, f bounces.Filter) ([]Bounce, error) {
	var out []Bounce
	for _, b := range fakeBounceRows {
		if (f.ListID == 0 || b.ListID == f.ListID) && (f.Class == "" || b.Class == f.Class) {
			out = append(out, b)
		}
	}
	return out, nil
}

type fakeSchedules struct {
	mu    sync.Mutex
	items []scheduler.Status // nil: the seeded four
}

func (f *fakeSchedules) seed() {
	if f.items == nil {
		sent := time.Date(2026, 12, 1, 9, 0, 0, 0, time.FixedZone("JST", 9*3600))
		f.items = []scheduler.Status{
			{Schedule: scheduler.Schedule{ID: 1, Kind: "digest", Name: "weekly digest", Spec: "0 9 * * 1"}, Last: &scheduler.FireRecord{Result: "ok"}},
			{Schedule: scheduler.Schedule{ID: 2, Kind: "list-recurring", Name: "shimin-katsudo", Target: "shimin-katsudo", Spec: "0 10 1-7 * 1", TZ: "Asia/Tokyo"},
				Last: &scheduler.FireRecord{Result: "skipped"}},
			{Schedule: scheduler.Schedule{ID: 3, Kind: "list-recurring", Name: "kankyo-hozen", Target: "kankyo-hozen", Spec: "0 10 1-7 * 1", TZ: "Asia/Tokyo"}},
			// A one-off send that has fired: done (issue 17).
			{Schedule: scheduler.Schedule{ID: 4, Kind: "issue-send", Name: "1", Target: "1", At: sent}, Last: &scheduler.FireRecord{At: sent, Result: "ok"}},
		}
	}
}

func (f *fakeSchedules) List(ctx context.Context) ([]scheduler.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seed()
	return slices.Clone(f.items), nil
}

func (f *fakeSchedules) set(id int64, fn func(*scheduler.Status)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seed()
	for i := range f.items {
		if f.items[i].ID == id {
			fn(&f.items[i])
			return nil
		}
	}
	return ErrNotFound
}

func (f *fakeSchedules) Pause(ctx context.Context, id int64) error {
	return f.set(id, func(s *scheduler.Status) { s.Paused = true })
}

func (f *fakeSchedules) Resume(ctx context.Context, id int64) error {
	return f.set(id, func(s *scheduler.Status) { s.Paused = false })
}

// AddRecurring accepts five-field specs and descriptors, and IANA zones.
func (f *fakeSchedules) AddRecurring(ctx context.Context, list, spec, tz string) (scheduler.Status, error) {
	if !strings.HasPrefix(spec, "@") && len(strings.Fields(spec)) != 5 {
		return scheduler.Status{}, fmt.Errorf("%w %q: expected exactly 5 fields", scheduler.ErrInvalidSpec, spec)
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return scheduler.Status{}, fmt.Errorf("%w %q", scheduler.ErrUnknownTimezone, tz)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seed()
	st := scheduler.Status{Schedule: scheduler.Schedule{ID: int64(len(f.items) + 10), Kind: "list-recurring", Name: list, Target: list, Spec: spec, TZ: tz}}
	f.items = append(f.items, st)
	return st, nil
}

func (f *fakeSchedules) Remove(ctx context.Context, id int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seed()
	for i := range f.items {
		if f.items[i].ID == id {
			f.items = slices.Delete(f.items, i, i+1)
			return nil
		}
	}
	return ErrNotFound
}

type fakePlan struct {
	mu   sync.Mutex
	done map[string]bool
}

func (f *fakePlan) Status(ctx context.Context) ([]progress.DeadlineStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return []progress.DeadlineStatus{{ID: "fy2026-status", Title: "令和8年度 実施状況の報告", Due: date("2027-04-30"),
		Bureaus: []progress.BureauStatus{{Bureau: "sogo-kikaku", Name: "総合企画局", Submitted: f.done["sogo-kikaku"]}, {Bureau: "somu", Name: "総務局"}}}}, nil
}

func (f *fakePlan) NextReminders(ctx context.Context, now time.Time) ([]progress.NextReminder, error) {
	return []progress.NextReminder{{Deadline: "fy2026-status", Date: date("2027-04-23"), Label: "before-7", Bureaus: []string{"sogo-kikaku", "somu"},
		EscalateDate: date("2027-05-07"), EscalateLabel: "escalate-7"}}, nil
}

// date is a progress.Date from YYYY-MM-DD.
func date(s string) progress.Date {
	d, err := progress.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func (f *fakePlan) MarkSubmitted(ctx context.Context, dl, bureau, how, actor string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if dl != "fy2026-status" {
		return ErrNotFound
	}
	if f.done == nil {
		f.done = map[string]bool{}
	}
	f.done[bureau] = true
	return nil
}
func (f *fakePlan) ExportCSV(ctx context.Context, w io.Writer) error {
	_, err := io.WriteString(w, "deadline,bureau,submitted\nfy2026-status,sogo-kikaku,false\n")
	return err
}

// fakeDeliveries advances a sending issue by half its recipients on every
// Progress call, then marks it sent: the progress bar has something to
// follow without sleeps in the server.
type fakeDeliveries struct {
	mu        sync.Mutex
	issues    *fakeIssues
	sent      map[int64]int
	lastError string // reported while mail waits
	failed    int    // reported as failed deliveries
}

func (f *fakeDeliveries) Progress(ctx context.Context, id int64) (Progress, error) {
	is, err := f.issues.ByID(ctx, id)
	if err != nil {
		return Progress{}, err
	}
	total := sent(is)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sent == nil {
		f.sent = map[int64]int{}
	}
	if is.Status == "sending" {
		f.sent[id] = min(total, f.sent[id]+(total+1)/2)
		if f.sent[id] == total {
			f.issues.set(id, []string{"sending"}, "sent")
		}
	} else if is.Status == "sent" {
		f.sent[id] = total
	}
	done := f.sent[id]
	p := Progress{Queued: total - done, Sent: done, Failed: f.failed, PerSecond: 12.5, ETA: time.Duration(total-done) * time.Second}
	if f.lastError != "" {
		p.LastError, p.LastErrorAt = f.lastError, time.Date(2026, 11, 24, 0, 30, 0, 0, time.UTC)
	}
	return p, nil
}

func (f *fakePlan) ICS(ctx context.Context, tok string) ([]byte, error) {
	if tok != "good" {
		return nil, progress.ErrInvalidToken
	}
	return []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), nil
}

func (f *fakeSubscribers) AddMember(ctx context.Context, slug, email, name, source string, ev Evidence) error {
	if !strings.Contains(email, "@") {
		return &subscribers.AddressError{Code: "no-at", Message: "not an address", MessageJA: "メールアドレスではありません"}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subs = append(f.subs, &fakeSub{Email: email, Name: name, Lists: map[string]string{slug: "confirmed"},
		Events: []string{"opt-in " + slug + " " + source}})
	return nil
}

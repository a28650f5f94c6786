package web

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"kawaraban/bounces"
	"kawaraban/bounces/classify"
	"kawaraban/issues"
	"kawaraban/subscribers"
)

//go:embed openapi.json
var openAPIDoc []byte

// apiFunc is an API handler with its authenticated user.
type apiFunc func(w http.ResponseWriter, r *http.Request, u User)

// api authenticates a bearer token; the token carries its user's rights.
func (s *Server) api(h apiFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		tok, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="kawaraban"`)
			apiError(w, http.StatusUnauthorized, "missing bearer token")
			return
		}
		u, err := s.users.ByToken(r.Context(), strings.TrimSpace(tok))
		if errors.Is(err, ErrBadCredential) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="kawaraban", error="invalid_token"`)
			apiError(w, http.StatusUnauthorized, "invalid bearer token")
			return
		} else if err != nil {
			s.apiFail(w, r, err)
			return
		}
		h(w, r, u)
	}
}

func apiError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

// apiFail answers err as JSON with the status statusOf chooses.
func (s *Server) apiFail(w http.ResponseWriter, r *http.Request, err error) {
	err = domainErr(err)
	code, _ := statusOf(err)
	msg := err.Error()
	var ie *InputError
	switch {
	case code >= 500:
		s.observe(err)
		s.log.Error("api request failed", "route", r.Pattern, "err", err)
		msg = "internal error"
	case errors.As(err, &ie):
		msg = ie.Error()
	case code == http.StatusForbidden:
		msg = "forbidden"
	}
	apiError(w, code, msg)
}

// listBySlug finds a list, ErrNotFound when there is none.
func (s *Server) listBySlug(ctx context.Context, slug string) (List, error) {
	lists, err := s.lists(ctx)
	if err != nil {
		return List{}, err
	}
	for _, l := range lists {
		if l.Slug == slug {
			return l, nil
		}
	}
	return List{}, ErrNotFound
}

func (s *Server) listByID(ctx context.Context, id int64) (List, error) {
	lists, err := s.lists(ctx)
	if err != nil {
		return List{}, err
	}
	for _, l := range lists {
		if l.ID == id {
			return l, nil
		}
	}
	return List{}, ErrNotFound
}

func (s *Server) lists(ctx context.Context) ([]List, error) {
	if s.opt.Subscribers == nil {
		return nil, nil
	}
	return s.opt.Subscribers.Lists(ctx)
}

var errUnavailable = errors.New("this feature is not configured")

type issueJSON struct {
	ID      int64          `json:"id"`
	List    string         `json:"list"`
	Subject string         `json:"subject"`
	Status  string         `json:"status"`
	Author  string         `json:"author"`
	SendAt  *time.Time     `json:"send_at"`
	SentAt  *time.Time     `json:"sent_at"`
	Counts  map[string]int `json:"counts"`
	// Rate (messages/s over the last minute) and ETA while sending.
	RatePerSecond float64 `json:"rate_per_second,omitempty"`
	ETASeconds    float64 `json:"eta_seconds,omitempty"`
	// The last failure in the last minutes, so a caller sees why mail waits.
	LastError   string     `json:"last_error,omitempty"`
	LastErrorAt *time.Time `json:"last_error_at,omitempty"`
	// Number is the issue's 第N号 on its list, once it has been sent.
	Number int `json:"number,omitempty"`
	// Lists are the slugs of every list of the issue, the lead first.
	Lists []string `json:"lists"`
	// Stats, in GET /api/v1/issues/{id} only, are the issue's statistics.
	Stats *statsJSON `json:"stats,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// utcPtr is an issue's optional time for the API: nil stays nil.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	return timePtr(*t)
}

// issueView merges an issue with live delivery counts.
func (s *Server) issueView(ctx context.Context, is issues.Issue, list List) issueJSON {
	out := issueJSON{ID: is.ID, List: list.Slug, Subject: is.Subject, Status: is.Status, Author: is.Author,
		SendAt: utcPtr(is.SendAt), SentAt: utcPtr(is.SentAt), Number: is.Number, Lists: []string{list.Slug}}
	if is.Joint() {
		if ls, err := s.issueLists(ctx, is); err == nil {
			out.Lists = slugs(ls)
		}
	}
	p, _ := s.deliveryProgress(ctx, is) // none for a draft, without a mailer or when it cannot say
	out.RatePerSecond, out.ETASeconds = math.Round(p.PerSecond*10)/10, math.Round(p.ETA.Seconds())
	out.LastError, out.LastErrorAt = p.LastError, timePtr(p.LastErrorAt)
	out.Counts = map[string]int{"queued": p.Queued + p.Sending, "sent": p.Sent, "failed": p.Failed, "bounced": p.Bounced}
	return out
}

type createIssueRequest struct {
	List         string  `json:"list"`
	Subject      string  `json:"subject"`
	BodyMarkdown string  `json:"body_markdown"`
	SendAt       *string `json:"send_at"`

	// Lists makes a joint issue (issue 17): the lead is List, or the
	// first of Lists without it.
	Lists []string `json:"lists"`
}

func (s *Server) apiCreateIssue(w http.ResponseWriter, r *http.Request, u User) {
	if s.opt.Issues == nil || s.opt.Drafts == nil {
		apiError(w, http.StatusServiceUnavailable, errUnavailable.Error())
		return
	}
	var req createIssueRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			apiError(w, http.StatusRequestEntityTooLarge, "request body too large")
			return
		}
		apiError(w, http.StatusBadRequest, "invalid JSON: "+err.Error())
		return
	}
	if req.List == "" && len(req.Lists) > 0 {
		req.List = req.Lists[0]
	}
	if req.List == "" || strings.TrimSpace(req.Subject) == "" || strings.TrimSpace(req.BodyMarkdown) == "" {
		apiError(w, http.StatusUnprocessableEntity, "list (or lists), subject and body_markdown are required")
		return
	}
	lists, approval, err := s.draftLists(r.Context(), u, req.List, req.Lists)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	list := lists[0]
	d := withLists(issues.Draft{Subject: req.Subject, BodyMarkdown: req.BodyMarkdown, Author: u.Login,
		Source: "web", RequireApproval: approval}, lists)
	if req.SendAt != nil && *req.SendAt != "" {
		at, err := time.Parse(time.RFC3339, *req.SendAt)
		if err != nil {
			apiError(w, http.StatusUnprocessableEntity, "send_at must be RFC 3339, such as 2026-12-01T09:00:00+09:00")
			return
		}
		d.SendAt = &at // one in the past is refused (422) with the reason
	}
	is, err := s.opt.Drafts.Create(r.Context(), d)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	s.audit(r, u.Login, "issue.create", "issue:"+strconv.FormatInt(is.ID, 10), "api; list "+strings.Join(slugs(lists), ","))
	out := s.issueView(r.Context(), is, list)
	w.Header().Set("Location", "/api/v1/issues/"+strconv.FormatInt(is.ID, 10))
	writeJSON(w, http.StatusCreated, out)
}

// issueFor loads an issue by the {id} path value and checks act on its list.
func (s *Server) issueFor(r *http.Request, u User, act Action) (issues.Issue, List, error) {
	if s.opt.Issues == nil {
		return issues.Issue{}, List{}, errUnavailable
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return issues.Issue{}, List{}, ErrNotFound
	}
	is, err := s.opt.Issues.ByID(r.Context(), id)
	if err != nil {
		return issues.Issue{}, List{}, err
	}
	// A joint issue: viewed through any of its lists, changed only with
	// the right on all of them (issues_joint.go). The lead list is returned.
	lists, err := s.issueLists(r.Context(), is)
	if err != nil {
		return issues.Issue{}, List{}, err
	}
	if !mayOnIssue(u, act, lists) {
		return issues.Issue{}, List{}, errForbidden
	}
	return is, lists[0], nil
}

func (s *Server) apiIssue(w http.ResponseWriter, r *http.Request, u User) {
	is, list, err := s.issueFor(r, u, ActView)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	out := s.issueView(r.Context(), is, list)
	out.Stats = statsView(s.issueStats(r.Context(), is))
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiSendIssue(w http.ResponseWriter, r *http.Request, u User) {
	is, list, err := s.issueFor(r, u, ActEdit)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	if s.opt.Sending == nil {
		s.apiFail(w, r, errUnavailable)
		return
	}
	action := "issue.send"
	if is.SendAt != nil && is.SendAt.After(s.now()) {
		action = "issue.schedule"
		err = s.opt.Sending.Schedule(r.Context(), is.ID, *is.SendAt, actor(u.Login))
	} else {
		err = s.opt.Sending.SendNow(r.Context(), is.ID, actor(u.Login))
	}
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	s.audit(r, u.Login, action, "issue:"+strconv.FormatInt(is.ID, 10), "api; list "+list.Slug)
	if is, err = s.opt.Issues.ByID(r.Context(), is.ID); err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, s.issueView(r.Context(), is, list))
}

// page reads limit (1-200, default 50) and offset query parameters.
func page(r *http.Request) (limit, offset int) {
	limit, offset = 50, 0
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n > 0 {
		limit = min(n, 200)
	}
	if n, err := strconv.Atoi(r.URL.Query().Get("offset")); err == nil && n > 0 {
		offset = n
	}
	return limit, offset
}

type pageJSON struct {
	Items  any `json:"items"`
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
}

func (s *Server) apiListIssues(w http.ResponseWriter, r *http.Request, u User) {
	if s.opt.Issues == nil {
		apiError(w, http.StatusServiceUnavailable, errUnavailable.Error())
		return
	}
	list, err := s.listBySlug(r.Context(), r.URL.Query().Get("list"))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	if !authorize(u, ActView, list.Slug) {
		s.apiFail(w, r, errForbidden)
		return
	}
	limit, offset := page(r)
	iss, err := s.opt.Issues.ListByList(r.Context(), list.ID, issues.Page{Limit: limit, Offset: offset})
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	issuesOn(iss, list.ID)
	items := make([]issueJSON, 0, len(iss))
	for _, is := range iss {
		items = append(items, s.issueView(r.Context(), is, list))
	}
	writeJSON(w, http.StatusOK, pageJSON{Items: items, Limit: limit, Offset: offset})
}

func (s *Server) apiLists(w http.ResponseWriter, r *http.Request, u User) {
	lists, err := s.lists(r.Context())
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	items := []listJSON{}
	for _, l := range visible(u, lists) {
		items = append(items, listJSONOf(l))
	}
	writeJSON(w, http.StatusOK, pageJSON{Items: items, Limit: len(items)})
}

type subscriberJSON struct {
	ID      int64     `json:"id"`
	Email   string    `json:"email"`
	Name    string    `json:"name"`
	Status  string    `json:"status"`
	Created time.Time `json:"created"`
}

func (s *Server) apiSubscribers(w http.ResponseWriter, r *http.Request, u User) {
	if s.opt.SubscriberAdmin == nil {
		apiError(w, http.StatusServiceUnavailable, errUnavailable.Error())
		return
	}
	list, err := s.listBySlug(r.Context(), r.PathValue("slug"))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	if !authorize(u, ActView, list.Slug) {
		s.apiFail(w, r, errForbidden)
		return
	}
	limit, offset := page(r)
	// Keyset paging by ?after=, else by offset (kept a multiple of limit).
	q := subscribers.SearchQuery{ListSlug: list.Slug, Text: r.URL.Query().Get("q"), Status: r.URL.Query().Get("status"),
		After: pageAfter(r.URL.Query()), Page: offset/limit + 1, PerPage: limit}
	subs, err := s.opt.SubscriberAdmin.Search(r.Context(), q)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	items := make([]subscriberJSON, 0, len(subs))
	for _, sb := range subs {
		items = append(items, subscriberJSON{ID: sb.SubscriberID, Email: sb.Email, Name: sb.Name, Status: sb.Status, Created: sb.Created.UTC()})
	}
	out := subscriberPageJSON{Items: items, Limit: limit, Offset: offset}
	if q.Text == "" {
		n, ok, err := s.subscriberTotal(r.Context(), list.ID, q.Status)
		if err != nil {
			s.apiFail(w, r, err)
			return
		}
		if ok {
			out.Total = &n
		}
	}
	if len(subs) == limit {
		out.Next = subs[len(subs)-1].SubscriberID
	}
	writeJSON(w, http.StatusOK, out)
}

type addSubscriberRequest struct {
	Email string `json:"email"`
	Name  string `json:"name"`
}

// apiAddSubscriber adds an address to a list. A public list keeps double
// opt-in: the address gets a confirmation mail and the answer is the same
// whether it was known or not (202). An internal list takes the member at
// once (201).
func (s *Server) apiAddSubscriber(w http.ResponseWriter, r *http.Request, u User) {
	if s.opt.SubscriberAdmin == nil || s.opt.Subscribers == nil {
		apiError(w, http.StatusServiceUnavailable, errUnavailable.Error())
		return
	}
	var req addSubscriberRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		apiError(w, http.StatusBadRequest, `body must be {"email", "name"?}`)
		return
	}
	if strings.TrimSpace(req.Email) == "" {
		apiError(w, http.StatusUnprocessableEntity, "email is required")
		return
	}
	list, err := s.listBySlug(r.Context(), r.PathValue("slug"))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	if !authorize(u, ActEdit, list.Slug) {
		s.apiFail(w, r, errForbidden)
		return
	}
	ev := s.evidence(r, u.Login)
	if list.Kind != "internal" {
		err = s.opt.Subscribers.Subscribe(r.Context(), SubscribeRequest{Email: req.Email, Name: req.Name,
			Lists: []string{list.Slug}, Source: "api", Evidence: ev})
		if err != nil {
			s.apiFail(w, r, err)
			return
		}
		s.audit(r, u.Login, "subscriber.invite", "list:"+list.Slug, "api")
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "confirmation requested"})
		return
	}
	if err := s.opt.SubscriberAdmin.AddMember(r.Context(), list.Slug, req.Email, req.Name, "api", ev); err != nil {
		s.apiFail(w, r, err)
		return
	}
	s.audit(r, u.Login, "subscriber.add", "list:"+list.Slug, "api")
	writeJSON(w, http.StatusCreated, map[string]string{"status": "member"})
}

type bounceJSON struct {
	ID         int64     `json:"id"`
	Received   time.Time `json:"received"`
	Email      string    `json:"email"`
	List       string    `json:"list"`
	Class      string    `json:"class"`
	Status     string    `json:"status"`
	Diagnostic string    `json:"diagnostic"`
	NotABounce bool      `json:"not_a_bounce"`
	// Unverified and Explanation: see docs/BOUNCE-READER.md (issue 15).
	Unverified  bool   `json:"unverified"`
	Explanation string `json:"explanation,omitempty"`
}

func (s *Server) apiBounces(w http.ResponseWriter, r *http.Request, u User) {
	if s.opt.Bounces == nil {
		apiError(w, http.StatusServiceUnavailable, errUnavailable.Error())
		return
	}
	items, limit, offset, err := s.bounces(r, u)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	out := make([]bounceJSON, 0, len(items))
	for _, b := range items {
		out = append(out, bounceJSON{ID: b.ID, Received: b.Received.UTC(), Email: b.Email, List: b.ListSlug,
			Class: string(b.Class), Status: b.Status, Diagnostic: b.Evidence(), NotABounce: b.NotABounce,
			Unverified: b.Unverified(), Explanation: b.Explanation()})
	}
	writeJSON(w, http.StatusOK, pageJSON{Items: out, Limit: limit, Offset: offset})
}

// bounces lists bounces filtered by ?list= and ?class=; without a list only
// users who may view every list see them.
func (s *Server) bounces(r *http.Request, u User) ([]bounceRow, int, int, error) {
	q := r.URL.Query()
	slug := q.Get("list")
	limit, offset := page(r)
	f := bounces.Filter{Class: classify.Class(q.Get("class")), PerPage: limit, Offset: offset}
	if slug != "" {
		l, err := s.listBySlug(r.Context(), slug)
		if err != nil {
			return nil, 0, 0, err
		}
		f.ListID = l.ID
	}
	if slug == "" && u.Role != RoleAdmin && u.Role != RoleViewer {
		return nil, 0, 0, errForbidden
	}
	if slug != "" && !authorize(u, ActView, slug) {
		return nil, 0, 0, errForbidden
	}
	items, err := s.opt.Bounces.List(r.Context(), f)
	if err != nil {
		return nil, 0, 0, err
	}
	slugs, err := s.listSlugs(r.Context())
	if err != nil {
		return nil, 0, 0, err
	}
	rows := make([]bounceRow, len(items))
	for i, b := range items {
		rows[i] = bounceRow{Bounce: b, ListSlug: slugs[b.ListID]}
	}
	return rows, limit, offset, nil
}

// bounceRow is a bounce with the slug of its list ("" when it is tied to
// none).
type bounceRow struct {
	Bounce
	ListSlug string
}

// listSlugs maps list ids to slugs.
func (s *Server) listSlugs(ctx context.Context) (map[int64]string, error) {
	ls, err := s.lists(ctx)
	m := make(map[int64]string, len(ls))
	for _, l := range ls {
		m[l.ID] = l.Slug
	}
	return m, err
}

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPIDoc)
}

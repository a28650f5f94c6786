package web

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"kawaraban/subscribers"
)

// The subscriber page's API (issue 17): GET, PATCH and DELETE (erase) of
// /api/v1/subscribers/{id}, and POST …/unsuppress. The same rules as the
// page decide who may do what (subscriberFor, mayEditAny, mayEditAll).

func (s *Server) subscriberAPIRoutes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"GET /api/v1/subscribers/{id}":             s.api(s.apiSubscriber),
		"PATCH /api/v1/subscribers/{id}":           s.api(s.apiPatchSubscriber),
		"DELETE /api/v1/subscribers/{id}":          s.api(s.apiEraseSubscriber),
		"POST /api/v1/subscribers/{id}/unsuppress": s.api(s.apiUnsuppressSubscriber),
	}
}

type subscriptionJSON struct {
	List           string     `json:"list"`
	Status         string     `json:"status"`
	Source         string     `json:"source"`
	RequestedAt    time.Time  `json:"requested_at"`
	ConfirmedAt    *time.Time `json:"confirmed_at"`
	UnsubscribedAt *time.Time `json:"unsubscribed_at"`
}

type suppressionJSON struct {
	List   string    `json:"list"` // "" for every list
	Reason string    `json:"reason"`
	Detail string    `json:"detail"`
	Since  time.Time `json:"since"`
}

type consentJSON struct {
	At     time.Time `json:"at"`
	List   string    `json:"list"`
	Event  string    `json:"event"`
	Source string    `json:"source"`
	Actor  string    `json:"actor,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

type subscriberDetailJSON struct {
	ID            int64              `json:"id"`
	Email         string             `json:"email"`
	Name          string             `json:"name"`
	Lang          string             `json:"lang"`
	Attributes    map[string]string  `json:"attributes"`
	Created       time.Time          `json:"created"`
	Subscriptions []subscriptionJSON `json:"subscriptions"`
	Suppressions  []suppressionJSON  `json:"suppressions"`
	Consent       []consentJSON      `json:"consent"`
}

// subscriberView is the subscriber as u may see it: the lists u may view
// and what belongs to no list.
func (s *Server) subscriberView(r *http.Request, u User, id int64) (subscriberDetailJSON, error) {
	ctx := r.Context()
	p, err := s.opt.SubscriberDetail.Profile(ctx, id)
	if err != nil {
		return subscriberDetailJSON{}, err
	}
	h, err := s.opt.SubscriberDetail.History(ctx, id)
	if err != nil {
		return subscriberDetailJSON{}, err
	}
	visible := func(slug string) bool { return slug == "" || authorize(u, ActView, slug) }
	out := subscriberDetailJSON{ID: p.ID, Email: p.Email, Name: p.Name, Lang: p.Lang, Attributes: p.Attributes, Created: p.Created,
		Subscriptions: []subscriptionJSON{}, Suppressions: []suppressionJSON{}, Consent: []consentJSON{}}
	for _, x := range p.Subscriptions {
		if visible(x.ListSlug) {
			out.Subscriptions = append(out.Subscriptions, subscriptionJSON{List: x.ListSlug, Status: x.Status, Source: x.Source,
				RequestedAt: x.RequestedAt, ConfirmedAt: timePtr(x.ConfirmedAt), UnsubscribedAt: timePtr(x.UnsubscribedAt)})
		}
	}
	for _, x := range p.Suppressions {
		if visible(x.ListSlug) {
			out.Suppressions = append(out.Suppressions, suppressionJSON{List: x.ListSlug, Reason: x.Reason, Detail: x.Detail, Since: x.Since})
		}
	}
	for _, e := range h {
		if visible(e.ListSlug) {
			out.Consent = append(out.Consent, consentJSON{At: e.At, List: e.ListSlug, Event: e.Event, Source: e.Source,
				Actor: e.Evidence.Actor, Detail: e.Detail})
		}
	}
	return out, nil
}

func (s *Server) apiSubscriber(w http.ResponseWriter, r *http.Request, u User) {
	id, _, err := s.subscriberFor(r, u)
	var out subscriberDetailJSON
	if err == nil {
		out, err = s.subscriberView(r, u, id)
	}
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// patchSubscriberRequest changes what it names and leaves the rest.
type patchSubscriberRequest struct {
	Name        *string            `json:"name"`
	Attributes  *map[string]string `json:"attributes"`
	Unsubscribe []string           `json:"unsubscribe"` // list slugs to take the subscriber off
}

func (s *Server) apiPatchSubscriber(w http.ResponseWriter, r *http.Request, u User) {
	var req patchSubscriberRequest
	if !decodeJSON(w, r, &req, false) {
		return
	}
	id, slugs, err := s.subscriberFor(r, u)
	if err == nil && (req.Name != nil || req.Attributes != nil) && !mayEditAny(u, slugs) {
		err = errForbidden
	}
	for _, l := range req.Unsubscribe {
		if err == nil && !authorize(u, ActEdit, l) {
			err = errForbidden
		}
	}
	if err == nil && (req.Name != nil || req.Attributes != nil) {
		err = s.patchProfile(r, u, id, req)
	}
	for _, l := range req.Unsubscribe {
		if err != nil {
			break
		}
		var changed bool
		changed, err = s.opt.SubscriberDetail.UnsubscribeFromList(r.Context(), id, l, subscribers.SourceAPI, s.evidence(r, u.Login))
		if err == nil && changed {
			s.audit(r, u.Login, "subscriber.unsubscribe", "subscriber:"+strconv.FormatInt(id, 10), "api; list "+l)
		}
	}
	var out subscriberDetailJSON
	if err == nil {
		out, err = s.subscriberView(r, u, id)
	}
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// patchProfile applies the name and attributes of req over the current ones.
func (s *Server) patchProfile(r *http.Request, u User, id int64, req patchSubscriberRequest) error {
	p, err := s.opt.SubscriberDetail.Profile(r.Context(), id)
	if err != nil {
		return err
	}
	name, attrs := p.Name, p.Attributes
	if req.Name != nil {
		name = *req.Name
	}
	if req.Attributes != nil {
		attrs = *req.Attributes
	}
	if err := s.opt.SubscriberDetail.UpdateProfile(r.Context(), id, name, attrs); err != nil {
		return err
	}
	s.audit(r, u.Login, "subscriber.profile", "subscriber:"+strconv.FormatInt(id, 10), "api; attributes "+strconv.Itoa(len(attrs)))
	return nil
}

type reasonRequest struct {
	Reason string `json:"reason"`
	List   string `json:"list"` // unsuppress: "" lifts the suppression for every list
}

func (s *Server) apiEraseSubscriber(w http.ResponseWriter, r *http.Request, u User) {
	var req reasonRequest
	if !decodeJSON(w, r, &req, true) {
		return
	}
	if req.Reason == "" {
		req.Reason = r.URL.Query().Get("reason")
	}
	id, slugs, err := s.subscriberFor(r, u)
	if err == nil && !mayEditAll(u, slugs) {
		err = errForbidden
	}
	var er subscribers.Erased
	if err == nil {
		er, err = s.opt.SubscriberDetail.Erase(r.Context(), id, u.Login, req.Reason)
	}
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	s.audit(r, u.Login, "subscriber.erase", "subscriber:"+strconv.FormatInt(id, 10), "api; "+eraseDetail(er.Lists, req.Reason))
	lists := er.Lists
	if lists == nil {
		lists = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "erased": true, "lists": slices.Clip(lists)})
}

func (s *Server) apiUnsuppressSubscriber(w http.ResponseWriter, r *http.Request, u User) {
	var req reasonRequest
	if !decodeJSON(w, r, &req, true) {
		return
	}
	id, slugs, err := s.subscriberFor(r, u)
	if err == nil && (req.List == "" && !mayEditAll(u, slugs) || req.List != "" && !authorize(u, ActEdit, req.List)) {
		err = errForbidden
	}
	var listID int64
	if err == nil {
		listID, err = s.suppressionListID(r.Context(), req.List)
	}
	if err == nil {
		err = s.opt.SubscriberDetail.LiftSuppression(r.Context(), id, listID, req.Reason, subscribers.SourceAPI, s.evidence(r, u.Login))
	}
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	s.audit(r, u.Login, "subscriber.unsuppress", "subscriber:"+strconv.FormatInt(id, 10), "api; "+unsuppressDetail(req.List, req.Reason))
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "unsuppressed": true, "list": req.List})
}

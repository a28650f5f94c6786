package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"kawaraban/scheduler"
)

// scheduleJSON is a schedule in the API.
type scheduleJSON struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Spec       string     `json:"spec"`
	TZ         string     `json:"tz,omitempty"`
	List       string     `json:"list,omitempty"`
	Paused     bool       `json:"paused"`
	State      string     `json:"state"`
	LastRun    *time.Time `json:"last_run,omitempty"`
	LastResult string     `json:"last_result,omitempty"`
	LastError  string     `json:"last_error,omitempty"`
	NextRun    *time.Time `json:"next_run,omitempty"`
}

func scheduleView(st scheduler.Status) scheduleJSON {
	j := scheduleJSON{ID: st.ID, Name: st.Kind + ": " + st.Name, Spec: scheduleSpec(st), TZ: st.TZ, List: scheduleList(st),
		Paused: st.Paused, State: st.State(), NextRun: timePtr(st.Next)}
	if st.Last != nil {
		j.LastRun, j.LastResult, j.LastError = timePtr(st.Last.At), st.Last.Result, st.Last.Error
	}
	return j
}

// decodeJSON reads a request body into v; an empty body leaves v as is
// when optional.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any, optional bool) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if optional && errors.Is(err, io.EOF) {
		return true
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			apiError(w, http.StatusRequestEntityTooLarge, "request body too large")
			return false
		}
		apiError(w, http.StatusBadRequest, "invalid JSON: "+err.Error())
		return false
	}
	return true
}

func (s *Server) apiSchedules(w http.ResponseWriter, r *http.Request, u User) {
	if s.opt.Schedules == nil {
		apiError(w, http.StatusServiceUnavailable, errUnavailable.Error())
		return
	}
	lists, err := s.editableLists(r.Context(), u)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	if !canSeeSchedules(u, lists) {
		s.apiFail(w, r, errForbidden)
		return
	}
	rows, err := s.visibleSchedules(r.Context(), u)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	limit, offset := page(r)
	items := []scheduleJSON{}
	for i, row := range rows {
		if i >= offset && len(items) < limit {
			items = append(items, scheduleView(row.Status))
		}
	}
	writeJSON(w, http.StatusOK, pageJSON{Items: items, Limit: limit, Offset: offset})
}

type addScheduleRequest struct {
	List string `json:"list"`
	Spec string `json:"spec"`
	TZ   string `json:"tz"`
}

func (s *Server) apiAddSchedule(w http.ResponseWriter, r *http.Request, u User) {
	if s.opt.Schedules == nil {
		apiError(w, http.StatusServiceUnavailable, errUnavailable.Error())
		return
	}
	var req addScheduleRequest
	if !decodeJSON(w, r, &req, false) {
		return
	}
	if req.List == "" {
		apiError(w, http.StatusUnprocessableEntity, "list and spec are required")
		return
	}
	l, err := s.listBySlug(r.Context(), req.List)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	if !authorize(u, ActEdit, l.Slug) {
		s.apiFail(w, r, errForbidden)
		return
	}
	tz := strings.TrimSpace(req.TZ)
	if tz == "" {
		tz = s.defaultTZ()
	}
	st, err := s.addRecurring(r.Context(), l.Slug, strings.TrimSpace(req.Spec), tz)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	s.audit(r, u.Login, "schedule.add", fmt.Sprintf("schedule:%d", st.ID), "api; list:"+l.Slug+" "+st.Spec+" "+st.TZ)
	w.Header().Set("Location", "/api/v1/schedules/"+strconv.FormatInt(st.ID, 10))
	writeJSON(w, http.StatusCreated, scheduleView(st))
}

// apiScheduleAction serves pause, resume and delete.
func (s *Server) apiScheduleAction(action string) apiFunc {
	return func(w http.ResponseWriter, r *http.Request, u User) {
		if s.opt.Schedules == nil {
			apiError(w, http.StatusServiceUnavailable, errUnavailable.Error())
			return
		}
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			s.apiFail(w, r, ErrNotFound)
			return
		}
		if err := s.changeSchedule(r.Context(), u, id, action); err != nil {
			s.apiFail(w, r, err)
			return
		}
		s.audit(r, u.Login, "schedule."+action, fmt.Sprintf("schedule:%d", id), "api")
		if action == "delete" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		st, err := s.scheduleByID(r.Context(), u, id)
		if err != nil {
			s.apiFail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, scheduleView(st))
	}
}

type previewRequest struct {
	// Subscriber is the id of a subscriber of the issue's list to render
	// for; 0 for the sample recipient.
	Subscriber int64 `json:"subscriber"`
}

// apiPreview renders an issue as the sample recipient, or a chosen
// subscriber of its list, gets it.
func (s *Server) apiPreview(w http.ResponseWriter, r *http.Request, u User) {
	is, list, err := s.issueFor(r, u, ActView)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	if s.opt.Renderer == nil {
		apiError(w, http.StatusServiceUnavailable, errUnavailable.Error())
		return
	}
	var req previewRequest
	if !decodeJSON(w, r, &req, true) {
		return
	}
	var p Parts
	if req.Subscriber > 0 {
		p, err = partsOf(s.opt.Renderer.PreviewSubscriber(r.Context(), list.ID, is.Subject, is.BodyMarkdown, req.Subscriber))
		if isNotFound(err) {
			s.apiFail(w, r, fmt.Errorf("subscriber %d is not on list %s: %w", req.Subscriber, list.Slug, ErrNotFound))
			return
		}
	} else {
		p, err = partsOf(s.opt.Renderer.Preview(r.Context(), list.ID, is.Subject, is.BodyMarkdown, ""))
	}
	if err = domainErr(err); err != nil {
		code, _ := statusOf(err)
		if code >= 500 {
			code = http.StatusUnprocessableEntity // a template error is the author's to fix
		}
		apiError(w, code, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"subject": p.Subject, "text": p.Text, "html": p.HTML,
		"non_jis": jisJSON(nonJIS(list, is.Subject, is.BodyMarkdown))})
}

type testSendRequest struct {
	To string `json:"to"`
}

// apiTestSend sends the issue, marked as a test, to one address: the
// request's "to" or the user's own.
func (s *Server) apiTestSend(w http.ResponseWriter, r *http.Request, u User) {
	is, list, err := s.issueFor(r, u, ActEdit)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	if s.opt.Checks == nil {
		s.apiFail(w, r, errUnavailable)
		return
	}
	var req testSendRequest
	if !decodeJSON(w, r, &req, true) {
		return
	}
	to, code, err := s.testRecipient(u, req.To)
	if err != nil {
		if code == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "60")
		}
		apiError(w, code, err.Error())
		return
	}
	if err := s.opt.Checks.TestSend(r.Context(), is.ID, to); err != nil {
		s.apiFail(w, r, err)
		return
	}
	s.audit(r, u.Login, "issue.test", "issue:"+strconv.FormatInt(is.ID, 10), "api; list "+list.Slug+"; to "+to)
	writeJSON(w, http.StatusAccepted, map[string]string{"to": to})
}

// isNotFound says whether err is a not-found of any kind web knows.
func isNotFound(err error) bool {
	code, _ := statusOf(err)
	return err != nil && code == http.StatusNotFound
}

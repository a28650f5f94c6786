package web

import (
	"fmt"
	"net/http"
	"strconv"
)

// bounceFor loads the list of bounce {id} and checks that u may edit it; a
// bounce of no list (unattributed) is for admins only.
func (s *Server) bounceFor(r *http.Request, u User) (int64, string, error) {
	if s.opt.Bounces == nil {
		return 0, "", errUnavailable
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, "", ErrNotFound
	}
	b, err := s.opt.Bounces.ByID(r.Context(), id)
	if err != nil {
		return 0, "", err
	}
	var slug string
	if b.ListID != 0 {
		l, err := s.listByID(r.Context(), b.ListID)
		switch {
		case err == nil:
			slug = l.Slug
		case !isNotFound(err): // a list gone since: admins only, as a bounce of none
			return 0, "", err
		}
	}
	if slug == "" && u.Role != RoleAdmin || slug != "" && !authorize(u, ActEdit, slug) {
		return 0, "", errForbidden
	}
	return id, slug, nil
}

// apiNotABounce is POST /api/v1/bounces/{id}/not-a-bounce: staff say the
// message was not a bounce; a suppression it caused is undone.
func (s *Server) apiNotABounce(w http.ResponseWriter, r *http.Request, u User) {
	id, slug, err := s.bounceFor(r, u)
	if err == nil {
		err = s.opt.Bounces.MarkNotABounce(r.Context(), id, u.Login)
	}
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	s.audit(r, u.Login, "bounce.not-a-bounce", fmt.Sprintf("bounce:%d", id), "api; list "+slug)
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "not_a_bounce": true})
}

// handleNotABounce is the admin UI's "not a bounce" button.
func (s *Server) handleNotABounce(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	id, slug, err := s.bounceFor(r, sess.user)
	if err == nil {
		err = s.opt.Bounces.MarkNotABounce(r.Context(), id, sess.user.Login)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, sess.user.Login, "bounce.not-a-bounce", fmt.Sprintf("bounce:%d", id), "list "+slug)
	http.Redirect(w, r, "/admin/bounces?list="+slug+"&done=not-a-bounce", http.StatusSeeOther)
}

package web

import (
	"context"
	"net/http"
	"strconv"
)

// BounceVerifier lets staff act on an unverified bounce: a report that is
// not tied to a delivery we made changes no subscription until a person
// verifies it (docs/BOUNCE-READER.md). The Bounces value satisfies it when
// it can.
type BounceVerifier interface {
	Verify(ctx context.Context, id int64, actor string) error
}

// handleVerifyBounce applies the policy to an unverified bounce, as its
// evidence persuaded an admin.
func (s *Server) handleVerifyBounce(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	bv, ok := s.opt.Bounces.(BounceVerifier)
	if !ok {
		s.fail(w, r, errUnavailable)
		return
	}
	if !authorize(sess.user, ActAdmin, "") {
		s.fail(w, r, errForbidden)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(w, r, ErrNotFound)
		return
	}
	if err := bv.Verify(r.Context(), id, sess.user.Login); err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, sess.user.Login, "bounce.verify", "bounce:"+strconv.FormatInt(id, 10), "")
	http.Redirect(w, r, "/admin/bounces", http.StatusSeeOther)
}

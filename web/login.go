package web

import (
	"errors"
	"net/http"
	"strings"
)

const preCookie = "kw_pre"

// loginBinding returns the pre-login cookie value the login form token is
// bound to, setting one when the browser has none.
func (s *Server) loginBinding(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(preCookie); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	v := randomString(32)
	http.SetCookie(w, &http.Cookie{Name: preCookie, Value: v, Path: "/admin/", HttpOnly: true,
		Secure: s.secure, SameSite: http.SameSiteStrictMode})
	return v
}

type loginData struct {
	Login string
	Token string
}

func (s *Server) handleLoginForm(w http.ResponseWriter, r *http.Request) {
	if _, err := s.loadSession(r); err == nil {
		http.Redirect(w, r, "/admin/", http.StatusSeeOther)
		return
	}
	v := s.newView(w, r, "title.login")
	v.Admin = true
	v.Data = loginData{Token: s.formToken("login", s.loginBinding(w, r))}
	s.render(w, r, http.StatusOK, "login", v)
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	if err := parseBody(r, 0); err != nil {
		s.fail(w, r, err)
		return
	}
	var binding string
	if c, err := r.Cookie(preCookie); err == nil {
		binding = c.Value
	}
	if binding == "" || !s.checkFormToken("login", binding, r.PostFormValue("csrf")) {
		s.errorPage(w, r, http.StatusForbidden, "err.csrf")
		return
	}
	ctx := r.Context()
	login := strings.TrimSpace(strings.ToLower(r.PostFormValue("login")))
	ip := s.clientIP(r)
	v := s.newView(w, r, "title.login")
	v.Admin = true
	v.Data = loginData{Login: login, Token: s.formToken("login", binding)}
	busy, err := s.throttled(ctx, login, ip)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if busy {
		s.audit(r, login, "login.throttled", "user:"+login, "")
		v.Error = v.T("login.throttled")
		s.render(w, r, http.StatusTooManyRequests, "login", v)
		return
	}
	user, err := s.users.Authenticate(ctx, login, r.PostFormValue("password"))
	if errors.Is(err, ErrBadCredential) {
		s.recordFailure(ctx, login, ip)
		s.audit(r, login, "login.failed", "user:"+login, "")
		v.Error = v.T("login.bad")
		s.render(w, r, http.StatusUnauthorized, "login", v)
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.startSession(ctx, w, r, user); err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, user.Login, "login", "user:"+user.Login, "")
	http.Redirect(w, r, "/admin/", http.StatusSeeOther)
}

// handleAccount shows the user's own settings: e-mail for test sends and
// the password.
func (s *Server) handleAccount(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	v.Nav, v.Title = "account", v.T("nav.account")
	if r.URL.Query().Get("done") != "" {
		v.Flash = v.T("account.saved")
	}
	if sess.user.MustChangePassword {
		v.Error = v.T("account.mustchange")
	}
	s.render(w, r, http.StatusOK, "account", v)
}

// handleSaveAccount changes the user's e-mail and, given the current
// password, its password; other sessions of the user end with a new
// password, and this one is started afresh.
func (s *Server) handleSaveAccount(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	ctx, login := r.Context(), sess.user.Login
	v.Nav, v.Title = "account", v.T("nav.account")
	fail := func(err error) {
		code, key := statusOf(err)
		if code >= 500 {
			s.fail(w, r, err)
			return
		}
		v.Error = userMessage(v, key, err)
		v.Data = map[string]string{"Email": r.PostFormValue("email")} // keep what was typed
		s.render(w, r, code, "account", v)
	}
	if err := s.users.SetEmail(ctx, login, r.PostFormValue("email")); err != nil {
		fail(err)
		return
	}
	detail := "e-mail"
	if pw := r.PostFormValue("new_password"); pw != "" {
		// Every password check is throttled as login is (issue 15): a
		// stolen session must not become a password oracle.
		busy, err := s.throttled(ctx, login, s.clientIP(r))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if busy {
			s.audit(r, login, "password.throttled", "user:"+login, "")
			w.Header().Set("Retry-After", "60")
			v.Error = v.T("login.throttled")
			s.render(w, r, http.StatusTooManyRequests, "account", v)
			return
		}
		current := r.PostFormValue("current_password")
		if _, err := s.users.Authenticate(ctx, login, current); err != nil {
			if errors.Is(err, ErrBadCredential) {
				s.recordFailure(ctx, login, s.clientIP(r))
				s.audit(r, login, "password.failed", "user:"+login, "")
				err = &InputError{Field: "current_password", Message: "the current password is wrong", MessageJA: "現在のパスワードが違います"}
			}
			fail(err)
			return
		}
		if pw == current {
			// A one-time or reset password must really be replaced.
			fail(&InputError{Field: "new_password", Message: "the new password must differ from the current one",
				MessageJA: "新しいパスワードは現在のパスワードと異なるものにしてください"})
			return
		}
		if err := s.users.SetPassword(ctx, login, pw); err != nil {
			fail(err)
			return
		}
		if _, err := s.startSession(ctx, w, r, sess.user); err != nil {
			s.fail(w, r, err)
			return
		}
		detail += ", password"
	}
	s.audit(r, login, "account.update", "user:"+login, detail)
	http.Redirect(w, r, "/admin/account?done=1", http.StatusSeeOther)
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.deleteSession(r.Context(), c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.secure, SameSite: http.SameSiteLaxMode})
	s.audit(r, sess.user.Login, "logout", "user:"+sess.user.Login, "")
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}

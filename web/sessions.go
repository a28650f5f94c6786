package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"time"
)

const sessionCookie = "kw_session"

// session is a logged-in browser.
type session struct {
	user User
	csrf string
}

// startSession creates a fresh session for user (rotation at login: any
// old cookie is replaced) and sets its cookie.
func (s *Server) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, user User) (*session, error) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.deleteSession(ctx, c.Value)
	}
	id := randomString(32)
	csrf := randomString(32)
	h := sha256.Sum256([]byte(id))
	now := s.now().Unix()
	// Housekeeping: sessions past their idle or absolute limit go.
	if _, err := s.opt.DB.ExecContext(ctx, `DELETE FROM sessions WHERE last_seen < ? OR created < ?`,
		now-int64(s.opt.SessionIdle.Seconds()), now-int64(s.opt.SessionMax.Seconds())); err != nil {
		return nil, fmt.Errorf("pruning sessions: %w", err)
	}
	if _, err := s.opt.DB.ExecContext(ctx, `INSERT INTO sessions(id_hash, user_id, csrf, created, last_seen, ip, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, h[:], user.ID, csrf, now, now, s.clientIP(r), truncate(r.UserAgent(), 200)); err != nil {
		return nil, fmt.Errorf("starting session: %w", err)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true,
		Secure: s.secure, SameSite: http.SameSiteLaxMode, MaxAge: int(s.opt.SessionMax.Seconds())})
	return &session{user: user, csrf: csrf}, nil
}

func (s *Server) deleteSession(ctx context.Context, id string) {
	h := sha256.Sum256([]byte(id))
	if _, err := s.opt.DB.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, h[:]); err != nil {
		s.log.Error("deleting session", "err", err)
	}
}

var errNoSession = errors.New("no valid session")

// loadSession returns the request's session, enforcing idle and absolute
// expiry.
func (s *Server) loadSession(r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || len(c.Value) > 100 {
		return nil, errNoSession
	}
	ctx := r.Context()
	h := sha256.Sum256([]byte(c.Value))
	var uid, created, lastSeen int64
	var csrf string
	err = s.opt.DB.QueryRowContext(ctx, `SELECT user_id, csrf, created, last_seen FROM sessions WHERE id_hash = ?`, h[:]).
		Scan(&uid, &csrf, &created, &lastSeen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoSession
	} else if err != nil {
		return nil, fmt.Errorf("loading session: %w", err)
	}
	now := s.now()
	if now.Sub(time.Unix(lastSeen, 0)) > s.opt.SessionIdle || now.Sub(time.Unix(created, 0)) > s.opt.SessionMax {
		s.deleteSession(ctx, c.Value)
		return nil, errNoSession
	}
	user, err := s.users.byID(ctx, uid)
	if errors.Is(err, ErrUnknownUser) {
		return nil, errNoSession
	} else if err != nil {
		return nil, err
	}
	if now.Unix()-lastSeen > 60 {
		s.opt.DB.ExecContext(ctx, `UPDATE sessions SET last_seen = ? WHERE id_hash = ?`, now.Unix(), h[:])
	}
	return &session{user: user, csrf: csrf}, nil
}

// checkCSRF compares the form's csrf field with the session's token.
func checkCSRF(r *http.Request, sess *session) bool {
	got := r.PostFormValue("csrf")
	if got == "" {
		got = r.Header.Get("X-CSRF-Token")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(sess.csrf)) == 1
}

// formToken signs a time-limited token for a form shown without a session
// (login, subscribe), bound to a purpose and an optional binding (the
// pre-login cookie).
func (s *Server) formToken(purpose, binding string) string {
	return s.signer.Sign("form:"+purpose, []byte(binding), s.now().Add(2*time.Hour))
}

func (s *Server) checkFormToken(purpose, binding, tok string) bool {
	if tok == "" {
		return false
	}
	p, err := s.signer.Verify("form:"+purpose, tok, s.now())
	return err == nil && subtle.ConstantTimeCompare(p, []byte(binding)) == 1
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// audit records a change: who, what, when, from where.
func (s *Server) audit(r *http.Request, actor, action, target, detail string) {
	_, err := s.opt.DB.ExecContext(r.Context(), `INSERT INTO audit_log(at_ms, actor, action, target, detail, ip)
		VALUES (?, ?, ?, ?, ?, ?)`, s.now().UnixMilli(), actor, action, target, truncate(detail, 500), s.clientIP(r))
	if err != nil {
		s.log.Error("writing audit log", "action", action, "err", err)
	}
}

// AuditEntry is one row of the audit log.
type AuditEntry struct {
	At     time.Time
	Actor  string
	Action string
	Target string
	Detail string
	IP     string
}

func (s *Server) auditLog(ctx context.Context, limit, offset int) ([]AuditEntry, error) {
	rows, err := s.opt.DB.QueryContext(ctx, `SELECT at_ms, actor, action, target, detail, ip FROM audit_log
		ORDER BY at_ms DESC, id DESC LIMIT ? OFFSET ?`, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("reading audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var ms int64
		if err := rows.Scan(&ms, &e.Actor, &e.Action, &e.Target, &e.Detail, &e.IP); err != nil {
			return nil, err
		}
		e.At = time.UnixMilli(ms)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Login throttling: at most 5 failures per account and 20 per IP in 15
// minutes.
const (
	throttleWindow     = 15 * time.Minute
	maxFailuresAccount = 5
	maxFailuresIP      = 20
)

func (s *Server) throttled(ctx context.Context, login, ip string) (bool, error) {
	since := s.now().Add(-throttleWindow).Unix()
	var byLogin, byIP int
	if err := s.opt.DB.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM login_attempts WHERE login = ? AND at > ?),
		(SELECT count(*) FROM login_attempts WHERE ip = ? AND at > ?)`, login, since, ip, since).Scan(&byLogin, &byIP); err != nil {
		return false, fmt.Errorf("checking login throttle: %w", err)
	}
	return byLogin >= maxFailuresAccount || byIP >= maxFailuresIP, nil
}

func (s *Server) recordFailure(ctx context.Context, login, ip string) {
	now := s.now().Unix()
	if _, err := s.opt.DB.ExecContext(ctx, `INSERT INTO login_attempts(login, ip, at) VALUES (?, ?, ?)`, truncate(login, 64), ip, now); err != nil {
		s.log.Error("recording login failure", "err", err)
	}
	s.opt.DB.ExecContext(ctx, `DELETE FROM login_attempts WHERE at < ?`, now-int64(2*throttleWindow.Seconds()))
}

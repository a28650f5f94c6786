package web

import (
	"crypto/subtle"
	"net"
	"net/http"
	"strings"

	"golang.org/x/time/rate"

	"kawaraban/subscribers"
)

// errTestRecipient refuses a test send to an address that is neither the
// user's own nor one the configuration lists (issue 15: an editor could
// mail anyone from the city's sender).
var errTestRecipient = &InputError{Field: "to",
	Message:   "test sends go only to your own account's address or to sending.test_recipients",
	MessageJA: "テスト送信は、ご自身のアカウントのアドレスか、管理者が設定したアドレスにだけ送れます"}

// errTestRate is answered when a user's test sends exceed the limit.
var errTestRate = &InputError{Field: "to",
	Message:   "too many test sends; wait a little",
	MessageJA: "テスト送信の回数が上限に達しました。しばらく待ってから送ってください"}

// testRecipient checks a test send's address: syntax (422), then whether u
// may send to it (403), then u's rate (429). It returns the address to use.
func (s *Server) testRecipient(u User, to string) (string, int, error) {
	to = strings.TrimSpace(to)
	if to == "" {
		to = u.Email
	}
	if to == "" {
		return "", http.StatusUnprocessableEntity, &InputError{Field: "to",
			Message: "no address: give \"to\" or set your account's e-mail address", MessageJA: "送信先がありません"}
	}
	a, err := subscribers.ParseAddress(to)
	if err != nil {
		return "", http.StatusUnprocessableEntity, err
	}
	// In local mode mail is captured, never delivered: any address will do.
	allowed := s.opt.LocalMode || u.Email != "" && strings.EqualFold(a.String(), strings.TrimSpace(u.Email))
	for _, t := range s.opt.TestRecipients {
		allowed = allowed || strings.EqualFold(a.String(), strings.TrimSpace(t))
	}
	if !allowed {
		return "", http.StatusForbidden, errTestRecipient
	}
	if !s.allowTestSend(u.Login) {
		return "", http.StatusTooManyRequests, errTestRate
	}
	return to, 0, nil
}

// allowTestSend applies the per-user limit on test sends.
func (s *Server) allowTestSend(login string) bool {
	return s.allow("test-send\x00"+login, rate.Limit(float64(s.opt.TestSendsPerHour)/3600), 5)
}

// metricsAllowed says whether r may read /metrics: with a configured
// MetricsToken, only a request bearing it; without one, only a client on
// loopback that did not come through a proxy (local mode, a Prometheus on
// the same host). The metrics name the relay and count every send.
func (s *Server) metricsAllowed(r *http.Request) bool {
	if s.opt.MetricsToken != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		return ok && subtle.ConstantTimeCompare([]byte(got), []byte(s.opt.MetricsToken)) == 1
	}
	if r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("Forwarded") != "" {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	ip := net.ParseIP(host)
	return err == nil && ip != nil && ip.IsLoopback()
}

// guardMetrics puts h behind metricsAllowed.
func (s *Server) guardMetrics(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.metricsAllowed(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="kawaraban metrics"`)
			http.Error(w, "metrics need a bearer token (http.metrics_token_env)", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

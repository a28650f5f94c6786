package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzPublicTokens sends arbitrary tokens to every public page that takes
// one, over the real subscribers store: a forged, damaged or expired token
// must get a 4xx, never a 5xx, and never change anything.
func FuzzPublicTokens(f *testing.F) {
	e := newRealEnv(f)
	ctx := f.Context()
	l, _ := e.subs.ListBySlug(ctx, "kankyo-hozen")
	good := e.subs.UnsubscribeToken(1, l.ID)
	for _, s := range []string{"", "x", "AAAA", good, good[:len(good)-1], good + "A", e.subs.PreferencesToken(1),
		strings.Repeat("A", 500), "..", "%2e%2e", "a/b", "\x00", "日本語"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		esc := url.PathEscape(tok)
		for _, tc := range []struct{ method, path, body string }{
			{"GET", "/confirm/" + esc, ""},
			{"GET", "/unsubscribe/" + esc, ""},
			{"POST", "/unsubscribe/" + esc, "List-Unsubscribe=One-Click"},
			{"GET", "/preferences/" + esc, ""},
			{"POST", "/preferences/" + esc, "list=kankyo-hozen&form_token=" + url.QueryEscape(tok)},
			{"GET", "/progress/submitted/" + esc, ""},
			{"GET", "/progress/ics/" + esc + ".ics", ""},
		} {
			u, err := url.Parse(tc.path)
			if err != nil {
				continue
			}
			req := httptest.NewRequest(tc.method, "/", strings.NewReader(tc.body))
			req.URL = u
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			e.srv.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s %s: %d", tc.method, tc.path, rec.Code)
			}
			if rec.Code == http.StatusOK && tc.method == "POST" && tok != good {
				t.Fatalf("%s %s with a token never issued: 200", tc.method, tc.path)
			}
		}
	})
}

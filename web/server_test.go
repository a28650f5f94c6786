package web

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

func TestHealthz(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	resp, body := e.get(http.DefaultClient, "/healthz")
	if resp.StatusCode != 200 || strings.TrimSpace(body) != `{"status":"ok"}` {
		t.Fatalf("healthz %d %q", resp.StatusCode, body)
	}
	e.db.Close()
	resp, _ = e.get(http.DefaultClient, "/healthz")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("healthz with closed DB: %d", resp.StatusCode)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.get(http.DefaultClient, "/healthz")
	e.get(http.DefaultClient, "/subscribe")
	_, body := e.get(http.DefaultClient, "/metrics")
	for _, want := range []string{
		`kawaraban_http_requests_total{code="200",route="GET /healthz"} 1`,
		`kawaraban_http_request_duration_seconds_bucket{route="GET /subscribe"`,
		"go_goroutines", "process_cpu_seconds_total",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, p := range []string{"/subscribe", "/admin/login", "/healthz", "/nope"} {
		resp, _ := e.get(http.DefaultClient, p)
		h := resp.Header
		if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
			strings.Contains(h.Get("Content-Security-Policy"), "unsafe-inline") ||
			h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
			t.Errorf("%s: headers %v", p, h)
		}
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	big := url.Values{"email": {strings.Repeat("a", 3<<20)}}.Encode()
	for _, p := range []string{"/subscribe", "/admin/login", "/unsubscribe/x", "/api/v1/issues"} {
		resp, err := http.Post(e.http.URL+p, "application/x-www-form-urlencoded", strings.NewReader(big))
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: 3 MB body got %d, want 413", p, resp.StatusCode)
		}
	}
	// Without a Content-Length the limit still holds while reading.
	pr := strings.NewReader(big)
	req, _ := http.NewRequest("POST", e.http.URL+"/subscribe", struct{ *strings.Reader }{pr})
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	if resp.StatusCode != http.StatusRequestEntityTooLarge && resp.StatusCode != http.StatusForbidden {
		t.Errorf("chunked 3 MB body got %d", resp.StatusCode)
	}
}

type panicLists struct{ *fakeSubscribers }

func (panicLists) Lists(ctx context.Context) ([]List, error) { panic("boom") }

func TestPanicBecomes500Page(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.Subscribers = panicLists{} })
	resp, body := e.get(http.DefaultClient, "/subscribe")
	if resp.StatusCode != 500 || !strings.Contains(body, "申し訳ありません") || strings.Contains(body, "boom") {
		t.Fatalf("panic: %d %q", resp.StatusCode, body)
	}
}

func TestLocalModeBanner(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c, _ := e.login("viewer")
	for _, p := range []string{"/admin/", "/admin/issues", "/admin/bounces"} {
		_, body := e.get(c, p)
		if !strings.Contains(body, "メールは送信されず") {
			t.Errorf("%s lacks the local-mode banner", p)
		}
	}
}

func TestLanguageSwitch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.client()
	_, body := e.get(c, "/subscribe")
	if !strings.Contains(body, `<html lang="ja">`) || !strings.Contains(body, "登録する") {
		t.Fatal("default is not Japanese")
	}
	_, body = e.get(c, "/subscribe?lang=en")
	if !strings.Contains(body, `<html lang="en">`) || !strings.Contains(body, "Subscribe") {
		t.Fatal("?lang=en is not English")
	}
	_, body = e.get(c, "/subscribe") // remembered by cookie
	if !strings.Contains(body, `<html lang="en">`) {
		t.Fatal("language not remembered")
	}
}

func TestCatalogComplete(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, c := range catalogs {
		for key, m := range c {
			if m[0] == "" || m[1] == "" {
				t.Errorf("catalog %q lacks a translation", key)
			}
			if seen[key] {
				t.Errorf("key %q is in two catalogs", key)
			}
			seen[key] = true
		}
	}
	e := newEnv(t, nil)
	c, _ := e.login("admin")
	for _, p := range []string{"/admin/", "/admin/issues", "/admin/issues?list=*", "/admin/issues/new?list=shimin-katsudo", "/admin/subscribers",
		"/admin/bounces", "/admin/schedules", "/admin/progress", "/admin/users", "/admin/audit", "/admin/settings"} {
		for _, lang := range []string{"ja", "en"} {
			resp, body := e.get(c, p+sep(p)+"lang="+lang)
			if resp.StatusCode != 200 {
				t.Errorf("%s (%s): %d", p, lang, resp.StatusCode)
			}
			if m := keyRE.FindString(body); m != "" {
				t.Errorf("%s (%s) shows untranslated key %q", p, lang, m)
			}
		}
	}
}

func TestRequestLog(t *testing.T) {
	t.Parallel()
	var buf safeBuffer
	e := newEnv(t, func(o *Options) { o.Logger = slog.New(slog.NewJSONHandler(&buf, nil)) })
	e.get(http.DefaultClient, "/subscribe?list=x")
	e.get(http.DefaultClient, "/confirm/forged-token-value")
	out := buf.String()
	for _, want := range []string{`"route":"GET /subscribe"`, `"code":200`, `"route":"GET /confirm/{token}"`, `"code":404`, "local mode"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "forged-token-value") {
		t.Error("the log carries a token from the path")
	}
}

type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

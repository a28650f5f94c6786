package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kawaraban/subscribers"
)

// fakeHealth is a Health whose problem the test sets.
type fakeHealth struct {
	mu  sync.Mutex
	err error
}

func (h *fakeHealth) Err() error { h.mu.Lock(); defer h.mu.Unlock(); return h.err }
func (h *fakeHealth) Observe(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil && strings.Contains(err.Error(), "disk is full") {
		h.err = err
	}
}

// Issue 16: /healthz fails with the reason while the database is
// unhealthy, and admin pages say so in Japanese.
func TestHealthzFailsWhileDatabaseUnhealthy(t *testing.T) {
	t.Parallel()
	h := &fakeHealth{}
	e := newEnv(t, func(o *Options) { o.Health = h })
	if resp, _ := e.get(http.DefaultClient, "/healthz"); resp.StatusCode != 200 {
		t.Fatalf("healthy: %d", resp.StatusCode)
	}
	h.Observe(errors.New("database unhealthy: disk-full: recording results: database or disk is full"))
	resp, body := e.get(http.DefaultClient, "/healthz")
	var got map[string]string
	if resp.StatusCode != http.StatusServiceUnavailable || json.Unmarshal([]byte(body), &got) != nil ||
		got["status"] != "failing" || got["problem"] != "disk-full" || !strings.Contains(got["reason"], "disk is full") {
		t.Fatalf("healthz: %d %s", resp.StatusCode, body)
	}
	// The reason is a fixed message for the problem: no error text, which
	// may name statements and files.
	if strings.Contains(body, "recording results") || got["reason"] != healthReasons["disk-full"] {
		t.Errorf("healthz shows the error's own text: %s", body)
	}
	c, _ := e.login("admin")
	_, page := e.get(c, "/admin/")
	if !strings.Contains(page, "ディスクがいっぱい") {
		t.Error("the dashboard does not show the full disk")
	}
}

// fakeImports lists one running import.
type fakeImports struct{}

func (fakeImports) Imports(ctx context.Context, listSlug string, limit int) ([]subscribers.ImportRecord, error) {
	return []subscribers.ImportRecord{{ID: 7, FileName: "members.csv", Status: "writing", Rows: 1000, Valid: 990, Written: 495,
		Added: 400, Rejected: 10, Started: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}}, nil
}

// The upload's progress bar polls imports.json; the subscribers page
// lists recent imports with their progress.
func TestImportProgressJSONAndList(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.Imports = fakeImports{} })
	c, _ := e.login("editor")
	resp, body := e.get(c, "/admin/subscribers/imports.json?list=shimin-katsudo")
	var got struct{ Imports []importJSON }
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &got) != nil || len(got.Imports) != 1 || got.Imports[0].Percent != 50 {
		t.Fatalf("imports.json: %d %s", resp.StatusCode, body)
	}
	_, page := e.get(c, "/admin/subscribers?list=shimin-katsudo")
	for _, want := range []string{"最近の取り込み", "members.csv", "書き込み中", `value="50"`, "495/990", `id="import-progress"`} {
		if !strings.Contains(page, want) {
			t.Errorf("subscribers page lacks %q", want)
		}
	}
}

// The health banner and the recent imports, as a browser shows them.
func TestBrowserHealthBannerAndImports(t *testing.T) {
	h := &fakeHealth{}
	h.Observe(errors.New("database unhealthy: disk-full: database or disk is full"))
	e := newEnv(t, func(o *Options) { o.Health, o.Imports = h, fakeImports{} })
	ctx := browser(t)
	dir := artifacts(t)
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1024, 1400),
		loginAs(e.http.URL, "admin"),
		chromedp.Navigate(e.http.URL+"/admin/subscribers?list=shimin-katsudo"),
		chromedp.WaitVisible(chromedp.ID("main")),
	); err != nil {
		t.Fatal(err)
	}
	banner, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`[...document.querySelectorAll(".banner")].filter(e => e.checkVisibility()).map(e => e.textContent).join(" | ")`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(banner, "ディスクがいっぱい") {
		t.Errorf("banner %q, want the full disk", banner)
	}
	shot(t, ctx, dir, "admin-subscribers-health-imports.png")
}

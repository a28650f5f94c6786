package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"kawaraban/config"
	"kawaraban/subscribers"
)

// TestIssue19SubscriberPagesByKey follows the subscriber page's "next"
// and "previous" links, which page by key (?after=, ?before=), through the
// production wiring, and checks they show the same pages as offsets.
func TestIssue19SubscriberPagesByKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, err := openEnv(ctx, config.Source{DataDir: t.TempDir()}, "127.0.0.1:1", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	d, err := buildDaemon(ctx, e, false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.m.Close()
	for i := range 120 {
		err := d.m.subs.AddMember(ctx, "kankyo-hozen", fmt.Sprintf("m%03d@example.jp", i), "", subscribers.SourceAdmin, subscribers.Evidence{Actor: "t"})
		if err != nil {
			t.Fatal(err)
		}
	}
	ts := httptest.NewServer(d.handler)
	defer ts.Close()
	client, apiToken := adminBenchLogin(t, ctx, d.users, ts.URL)
	get := func(path string) string {
		t.Helper()
		return getOK(t, client, ts.URL+path)
	}
	addrs := regexp.MustCompile(`>(m\d{3}@example\.jp)<`)
	page := func(body string) string { return fmt.Sprint(addrs.FindAllStringSubmatch(body, -1)) }
	link := func(body, key string) string {
		m := regexp.MustCompile(`href="(\?[^"]*` + key + `=\d+[^"]*)"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no link with %s= on the page", key)
		}
		return "/admin/subscribers" + html.UnescapeString(m[1])
	}
	first := get("/admin/subscribers?list=kankyo-hozen")
	second := get(link(first, "after"))
	if want := page(get("/admin/subscribers?list=kankyo-hozen&page=2")); page(second) != want {
		t.Errorf("next by key = %s, by offset = %s", page(second), want)
	}
	third := get(link(second, "after"))
	if want := page(get("/admin/subscribers?list=kankyo-hozen&page=3")); page(third) != want || len(addrs.FindAllString(third, -1)) != 20 {
		t.Errorf("third page by key = %s, by offset = %s", page(third), want)
	}
	if back := get(link(third, "before")); page(back) != page(second) {
		t.Errorf("previous by key = %s, want %s", page(back), page(second))
	}

	// The API pages by key the same way and refuses an unknown status.
	api := func(path string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+apiToken)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	code, p1 := api("/api/v1/lists/kankyo-hozen/subscribers?limit=100")
	next, _ := p1["next"].(float64)
	if code != 200 || next == 0 {
		t.Fatalf("API page 1: %d %v", code, p1)
	}
	code, p2 := api(fmt.Sprintf("/api/v1/lists/kankyo-hozen/subscribers?limit=100&after=%d", int64(next)))
	if items, _ := p2["items"].([]any); code != 200 || len(items) != 20 || p2["next"] != nil {
		t.Errorf("API page 2: %d, %d items, next %v; want 20 and no next", code, len(items), p2["next"])
	}
	if total, _ := p1["total"].(float64); total != 120 || p2["total"] != p1["total"] {
		t.Errorf("API total: page 1 %v, page 2 %v; want 120 on both", p1["total"], p2["total"])
	}
	if _, c := api("/api/v1/lists/kankyo-hozen/subscribers?status=unsubscribed"); c["total"] != float64(0) {
		t.Errorf("API total of unsubscribed = %v, want 0", c["total"])
	}
	if _, c := api("/api/v1/lists/kankyo-hozen/subscribers?q=m00"); c["total"] != nil {
		t.Errorf("API total of a search = %v, want none (searches are not counted)", c["total"])
	}
	if code, _ := api("/api/v1/lists/kankyo-hozen/subscribers?status=gone"); code != http.StatusUnprocessableEntity {
		t.Errorf("unknown status: %d, want 422 (an input error)", code)
	}
}

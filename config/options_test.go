package config

import (
	"log/slog"
	"testing"
	"time"

	"kawaraban/localmail"
	"kawaraban/newsletter"
)

// TestLocalModeOptions: what local mode's configuration says that a file
// cannot: its mailbox's password, quick retries against its own relay,
// and local_mode on the settings page.
func TestLocalModeOptions(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	local := Local(t.TempDir(), "")
	file, err := Load("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := local.Bounces(log).IMAP.Password; got != localmail.MailboxPassword {
		t.Errorf("local IMAP password %q", got)
	}
	if o := local.Mailer(log); o.RetryBase == 0 || o.RetryMax == 0 {
		t.Errorf("local retries %v..%v", o.RetryBase, o.RetryMax)
	}
	if o := file.Mailer(log); o.RetryBase != 0 || o.RetryMax != 0 {
		t.Errorf("a config file's retries are the mailer's defaults, got %v..%v", o.RetryBase, o.RetryMax)
	}
	if local.Settings()["local_mode"] != true || file.Settings()["local_mode"] != false {
		t.Errorf("local_mode: %v, %v", local.Settings()["local_mode"], file.Settings()["local_mode"])
	}
	if got := file.ImportStagingDir(); got != "/var/lib/kawaraban/import-staging" {
		t.Errorf("ImportStagingDir = %q", got)
	}
}

// TestNewsletterOptions: the plan's mail is sent from the internal list's
// address in both the store and the system mail, and the renderer, the
// system mail and the statistics get the configured addresses and zone.
func TestNewsletterOptions(t *testing.T) {
	t.Parallel()
	c, err := Load("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, sm, r, st := c.Progress(), c.SystemMail(), c.Renderer(), c.Statistics()
	if p.FromAddress != "kikaku@city.example.jp" || sm.ProgressFrom != p.FromAddress ||
		p.FromName != newsletter.ProgressFromName || sm.ProgressFromName != p.FromName {
		t.Errorf("progress mail from %q %q, system mail %q %q", p.FromAddress, p.FromName, sm.ProgressFrom, sm.ProgressFromName)
	}
	if p.BaseURL != "https://mail.city.example.jp" || r.BaseURL != p.BaseURL || st.BaseURL != p.BaseURL {
		t.Errorf("base URLs %q %q %q", p.BaseURL, r.BaseURL, st.BaseURL)
	}
	if r.InboundDomain != "bounces.city.example.jp" || sm.ReturnPathDomain != "bounces.city.example.jp" {
		t.Errorf("inbound domain %q, return path domain %q", r.InboundDomain, sm.ReturnPathDomain)
	}
	for _, loc := range []*time.Location{p.Location, r.Location, sm.Location} {
		if loc.String() != "Asia/Tokyo" {
			t.Errorf("location %v", loc)
		}
	}
}

func TestListKey(t *testing.T) {
	t.Parallel()
	c := Local(t.TempDir(), "")
	for slug, want := range map[string]string{"shimin-katsudo": "lists[0]", "chonai": "lists[8]", "nolist": "lists"} {
		if got := c.ListKey(slug); got != want {
			t.Errorf("ListKey(%q) = %q, want %q", slug, got, want)
		}
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kawaraban/localmail"
)

// The daemon wires bounces' Erasures: a DSN that arrives after an address
// was erased (through the API) is recorded without the address, while a
// DSN about an address never erased keeps it (docs/BOUNCE-READER.md,
// "Reports naming an erased address"). Both reports come in through
// `kawaraban local mail`, as a late bounce would.
func TestAcceptanceLateBounceOfErasedAddress(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := startDaemon(t, dir)
	tok := adminToken(t, dir)
	const gone, kept = "gone-late@example.jp", "kept-late@example.jp"
	for _, addr := range []string{gone, kept} {
		if code, body := api(t, d, tok, "POST", "/api/v1/lists/chonai/subscribers", map[string]string{"email": addr}); code != http.StatusCreated {
			t.Fatalf("adding %s: %d %s", addr, code, body)
		}
	}
	code, body := api(t, d, tok, "GET", "/api/v1/lists/chonai/subscribers?q="+gone, nil)
	var page struct {
		Items []struct {
			ID    int64  `json:"id"`
			Email string `json:"email"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &page); code != http.StatusOK || err != nil || len(page.Items) != 1 {
		t.Fatalf("finding %s: %d %s (%v)", gone, code, body, err)
	}
	if code, body := api(t, d, tok, "DELETE", fmt.Sprintf("/api/v1/subscribers/%d", page.Items[0].ID), map[string]string{"reason": "本人からの削除依頼"}); code != http.StatusOK {
		t.Fatalf("erasing %s: %d %s", gone, code, body)
	}

	for i, addr := range []string{gone, kept} {
		raw := localmail.BuildDSN(localmail.DSN{ReportingMTA: "mx.example.jp", To: "bounces@bounces.localhost",
			MessageID: fmt.Sprintf("late-%d@mx.example.jp", i), Date: time.Now(), Headers: []byte("To: " + addr + "\r\nSubject: news\r\n"),
			Recipients: []localmail.DSNRecipient{{Final: addr, Action: "failed", Status: "5.1.1", RemoteMTA: "mx.example.jp",
				Diagnostic: "550 5.1.1 <" + addr + ">: Recipient address rejected"}}})
		file := filepath.Join(dir, fmt.Sprintf("dsn-%d.eml", i))
		if err := os.WriteFile(file, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		mustCLI(t, "local", "mail", "--data", dir, "--from", "MAILER-DAEMON@mx.example.jp", "--to", "bounces@bounces.localhost", file)
	}

	type bounce struct {
		Email      string `json:"email"`
		Diagnostic string `json:"diagnostic"`
	}
	var got struct {
		Items []bounce `json:"items"`
	}
	var raw []byte
	waitUntil(t, "both reports in /api/v1/bounces", func() bool {
		code, raw = api(t, d, tok, "GET", "/api/v1/bounces", nil)
		got.Items = nil
		return code == http.StatusOK && json.Unmarshal(raw, &got) == nil && len(got.Items) >= 2
	})
	if strings.Contains(strings.ToLower(string(raw)), gone) {
		t.Errorf("the erased address is in the bounces:\n%s", raw)
	}
	var keptSeen, erasedSeen bool
	for _, b := range got.Items {
		switch {
		case b.Email == kept:
			keptSeen = strings.Contains(b.Diagnostic, kept)
		case strings.HasPrefix(b.Email, "erased:"):
			erasedSeen = true
		}
	}
	if !keptSeen || !erasedSeen {
		t.Errorf("want %s with its diagnostic and one report under an erased key; got\n%s", kept, raw)
	}
	if code, health := get(t, d.BaseURL+"/healthz"); code != http.StatusOK {
		t.Errorf("healthz %d %s", code, health)
	}
}

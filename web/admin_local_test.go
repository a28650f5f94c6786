package web

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"kawaraban/localmail"
)

// fakeInbox records what the local mail page delivers.
type fakeInbox struct {
	mu    sync.Mutex
	mails []localmail.Inbound
}

func (f *fakeInbox) Deliver(ctx context.Context, m localmail.Inbound) error {
	if !strings.Contains(m.From, "@") { // as localmail.Inbound.Message answers
		return fmt.Errorf("from %q: no @: %w", m.From, localmail.ErrBadInbound)
	}
	if strings.HasSuffix(m.To, "@down.example") {
		return errors.New("mailbox down")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mails = append(f.mails, m)
	return nil
}

func (f *fakeInbox) InboundDomain() string { return "bounces.localhost" }

func TestLocalMailPage(t *testing.T) {
	t.Parallel()
	box := &fakeInbox{}
	e := newEnv(t, func(o *Options) { o.LocalInbox = box })
	c, csrf := e.login("admin")
	_, page := e.get(c, "/admin/local/mail")
	for _, want := range []string{"shimin-katsudo-join@bounces.localhost", `href="/admin/local/mail" aria-current="page"`, "空メール"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "chonai-join@") {
		t.Error("an internal list offers a join address")
	}
	resp, _ := e.post(c, "/admin/local/mail", url.Values{"csrf": {csrf}, "from": {"山田 <a@Example.JP>"}, "to": {"shimin-katsudo-join@bounces.localhost"}})
	if resp.StatusCode != 303 || len(box.mails) != 1 || box.mails[0].To != "shimin-katsudo-join@bounces.localhost" {
		t.Fatalf("deliver: %d %+v", resp.StatusCode, box.mails)
	}
	var detail string
	if err := e.db.QueryRow(`SELECT detail FROM audit_log WHERE action = 'local.mail'`).Scan(&detail); err != nil || detail != "from-domain example.jp" {
		t.Errorf("audit detail %q (%v), want the sender's domain and no address", detail, err)
	}
	resp, page = e.post(c, "/admin/local/mail", url.Values{"csrf": {csrf}, "from": {"not-an-address"}, "to": {"x@bounces.localhost"}, "body": {"本文を残す"}})
	if resp.StatusCode != 422 || !strings.Contains(page, "差出人・宛先のアドレスか件名を確認してください") || !strings.Contains(page, "本文を残す") || !strings.Contains(page, `value="not-an-address"`) {
		t.Errorf("bad from: %d, page keeps what was typed and says why: %s", resp.StatusCode, page)
	}

	// Outside local mode the page does not exist.
	e2 := newEnv(t, func(o *Options) { o.LocalMode, o.LocalInbox = false, box })
	c2, _ := e2.login("admin")
	if resp, _ := e2.get(c2, "/admin/local/mail"); resp.StatusCode != 404 {
		t.Errorf("outside local mode: %d, want 404", resp.StatusCode)
	}
}

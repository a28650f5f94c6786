//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const secondList = "kodomo-mirai"

// page drives one headless Chromium tab for a scenario.
type page struct {
	t    *testing.T
	d    *daemon
	ctx  context.Context
	out  string // screenshot directory
	axe  string // axe-core source
	shot int
}

// newPage starts Chromium (flags as in LIBRARY-NOTES.md).
func newPage(t *testing.T, d *daemon) *page {
	t.Helper()
	exe := "/usr/bin/chromium"
	if _, err := exec.LookPath(exe); err != nil {
		t.Fatalf("no %s: install Debian's chromium (e2e/run.sh does)", exe)
	}
	axePath := os.Getenv("KAWARABAN_AXE")
	axe, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatalf("KAWARABAN_AXE=%q: the axe-core script is needed for the accessibility checks (e2e/run.sh installs it): %v", axePath, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("lang", "ja"),
		chromedp.WindowSize(1100, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelT(); cancel(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	out := filepath.Join(artifacts(t), "screenshots")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	return &page{t: t, d: d, ctx: ctx, out: out, axe: string(axe)}
}

// do runs actions with a step timeout, failing with what was being done.
func (p *page) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		loc, _ := chromedp.Run(p.ctx, chromedp.Location())
		p.snap("failed-" + strings.ReplaceAll(what, " ", "-"))
		p.d.fatalf("browser: %s (at %s): %v", what, loc, err)
	}
}

// text returns the text of the element with id.
func (p *page) text(id string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
	if err != nil {
		p.d.fatalf("browser: reading #%s: %v", id, err)
	}
	return strings.TrimSpace(s)
}

// eval evaluates a boolean expression.
func (p *page) eval(expr string) bool {
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](expr))
	return err == nil && v
}

// snap saves a full-page PNG screenshot as NN-name.png.
func (p *page) snap(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return
	}
	p.shot++
	path := filepath.Join(p.out, fmt.Sprintf("%02d-%s.png", p.shot, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Errorf("writing %s: %v", path, err)
	}
}

// violation is the part of an axe-core result the test reports.
type violation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// checkA11y injects axe-core into the current page and fails on serious or
// critical violations (WCAG 2.1 A and AA rules).
func (p *page) checkA11y(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](p.axe+"\n;typeof axe === 'object'")); err != nil {
		p.d.fatalf("browser: injecting axe-core into %s: %v", name, err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})
		.then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact || '', help: v.help,
			nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))))`, chromedp.EvalAwaitPromise))
	if err != nil {
		p.d.fatalf("browser: running axe-core on %s: %v", name, err)
	}
	var vs []violation
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		p.d.fatalf("browser: axe-core result on %s: %v", name, err)
	}
	for _, v := range vs {
		msg := fmt.Sprintf("axe-core on %s: %s (%s): %s at %v", name, v.ID, v.Impact, v.Help, v.Nodes)
		if v.Impact == "serious" || v.Impact == "critical" {
			p.t.Error(msg)
		} else {
			p.t.Log(msg)
		}
	}
}

// press clicks the button with id from script (element.click()): a
// mouse click at the button's coordinates can miss while the page is still
// moving (the live preview loads beside the compose form).
func (p *page) press(id string) {
	p.t.Helper()
	p.do("wait for #"+id, chromedp.WaitVisible(chromedp.ID(id)))
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { document.getElementById(`+fmt.Sprintf("%q", id)+`).click(); return true })()`)); err != nil {
		p.d.fatalf("browser: pressing #%s: %v", id, err)
	}
}

// waitTrue polls a boolean expression until it holds.
func (p *page) waitTrue(what, expr string, timeout time.Duration) {
	p.t.Helper()
	if !waitFor(timeout, 200*time.Millisecond, func() bool { return p.eval(expr) }) {
		loc, _ := chromedp.Run(p.ctx, chromedp.Location())
		p.snap("failed-" + strings.ReplaceAll(what, " ", "-"))
		p.d.fatalf("browser: %s: not so within %s (at %s)", what, timeout, loc)
	}
}

// waitText polls the element's text until it satisfies ok.
func (p *page) waitText(id string, timeout time.Duration, ok func(string) bool) string {
	p.t.Helper()
	var s string
	if !waitFor(timeout, 250*time.Millisecond, func() bool {
		v, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.ID(id)))
		s = strings.TrimSpace(v)
		return err == nil && ok(s)
	}) {
		p.snap("failed-wait-" + id)
		p.d.fatalf("browser: #%s reads %q after %s", id, s, timeout)
	}
	return s
}

// browser is scenario 7: a citizen and an editor in headless Chromium,
// with screenshots and axe-core checks of the public pages.
func browser(t *testing.T) {
	clearBounceBox(t)
	d := newDaemon(t, daemonOptions{Lists: []listConfig{
		{Slug: listSlug, NameJA: "市民活動総合センター メールマガジン", NameEN: "Citizens' Activity General Center newsletter"},
		{Slug: secondList, NameJA: "子どもみらい館 メールマガジン", NameEN: "Kodomo Mirai-kan newsletter"},
	}})
	d.start()
	d.login()
	p := newPage(t, d)
	const citizen = "carol@example.test"
	n := nonce()

	// The citizen subscribes to both lists.
	p.do("open /subscribe", chromedp.Navigate(d.base+"/subscribe?list="+listSlug), chromedp.WaitVisible(chromedp.ID("email")))
	p.checkA11y("/subscribe")
	if !p.eval(`document.getElementById('list-` + listSlug + `').checked`) {
		p.press("list-" + listSlug)
	}
	if !p.eval(`document.getElementById('list-` + secondList + `').checked`) {
		p.press("list-" + secondList)
	}
	p.waitTrue("both lists ticked", `document.getElementById('list-`+listSlug+`').checked && document.getElementById('list-`+secondList+`').checked`, 5*time.Second)
	p.do("fill the form", chromedp.SendKeys(chromedp.ID("email"), citizen), chromedp.SendKeys(chromedp.ID("name"), "京都 花子"))
	p.snap("subscribe")
	confirmsBefore := len(matching(maildir(t, "carol"), d.base+"/confirm/"))
	p.press("subscribe")
	p.do("wait for the thanks page", chromedp.WaitVisible(chromedp.ID("thanks")))
	p.checkA11y("/subscribe (thanks)")
	p.snap("thanks")

	// It confirms from the mail.
	ms := waitMail(t, d, "carol", confirmsBefore+1, 60*time.Second, "with a "+d.base+"/confirm/ link",
		func(ms []delivered) []delivered { return matching(ms, d.base+"/confirm/") })
	confirm := link(ms[len(ms)-1], d.base+"/confirm/")
	p.do("open the confirmation link", chromedp.Navigate(confirm), chromedp.WaitVisible(chromedp.ID("confirm")))
	p.checkA11y("/confirm/{token}")
	p.press("confirm")
	p.do("wait for the confirmed page", chromedp.WaitVisible(chromedp.ID("confirmed")))
	p.snap("confirmed")
	d.waitStatus(listSlug, citizen, "confirmed", 5*time.Second)
	d.waitStatus(secondList, citizen, "confirmed", 5*time.Second)

	// The editor logs in, composes with preview, sends, watches progress.
	p.do("open /admin/login", chromedp.Navigate(d.base+"/admin/login"), chromedp.WaitVisible(chromedp.ID("login")))
	p.checkA11y("/admin/login")
	p.do("fill the login form", chromedp.SendKeys(chromedp.ID("login"), editor), chromedp.SendKeys(chromedp.ID("password"), editorPass))
	p.press("login-button")
	p.do("wait for the dashboard", chromedp.WaitVisible(chromedp.CSS("nav.side")))
	p.snap("dashboard")
	subject := "かわら版 e2e browser " + n
	p.do("open the compose page", chromedp.Navigate(d.base+"/admin/issues/new?list="+listSlug), chromedp.WaitVisible(chromedp.ID("subject")))
	p.do("compose", chromedp.SendKeys(chromedp.ID("subject"), subject),
		chromedp.SendKeys(chromedp.ID("body"), "# 今月の講座\n\n**市民活動**の講座を開きます。\n"))
	p.waitText("preview-subject", 15*time.Second, func(s string) bool { return strings.Contains(s, subject) })
	p.waitText("preview-text", 15*time.Second, func(s string) bool { return strings.Contains(s, "市民活動") })
	p.snap("compose-preview")
	p.press("save")
	p.do("wait for the saved draft", chromedp.WaitVisible(chromedp.ID("send-now")))
	p.snap("draft")
	p.press("send-now")
	// 今すぐ配信 asks first, with the recipient count (issue 14).
	p.do("wait for the confirmation", chromedp.WaitVisible(chromedp.ID("confirm-send")))
	p.press("confirm-send")
	p.waitTrue("the issue leaves draft after pressing send",
		`(() => { const e = document.getElementById('progress'); return !!e && e.dataset.status !== 'draft' })()`, 15*time.Second)
	p.waitText("progress-pct", 90*time.Second, func(s string) bool {
		if s != "100%" {
			// The page follows a sending issue by itself; reload once it is no longer active.
			if !p.eval(`['scheduled','sending','paused'].includes(document.getElementById('progress').dataset.status)`) {
				_, _ = chromedp.Run(p.ctx, chromedp.Reload())
			}
		}
		return s == "100%"
	})
	p.snap("sent-100")

	// The citizen changes preferences from the mail, then unsubscribes.
	m := waitMail(t, d, "carol", 1, 60*time.Second, "with subject "+subject,
		func(ms []delivered) []delivered { return withSubject(ms, subject) })[0]
	prefs := link(m, d.base+"/preferences/")
	if prefs == "" {
		d.fatalf("the issue's mail has no %s/preferences/ link:\n%s", d.base, m.Text)
	}
	p.do("open preferences", chromedp.Navigate(prefs), chromedp.WaitVisible(chromedp.ID("save")))
	p.checkA11y("/preferences/{token}")
	if !p.eval(`document.getElementById('pl-` + secondList + `').checked`) {
		d.fatalf("preferences: %s is not ticked though carol confirmed it", secondList)
	}
	p.press("pl-" + secondList)
	p.waitTrue("untick "+secondList, `!document.getElementById('pl-`+secondList+`').checked`, 5*time.Second)
	p.snap("preferences")
	p.press("save")
	p.do("wait for the saved preferences", chromedp.WaitVisible(chromedp.CSS("p.flash")))
	p.snap("preferences-saved")
	d.waitStatus(secondList, citizen, "unsubscribed", 5*time.Second)
	if st := d.export(listSlug)[citizen]; st != "confirmed" {
		d.errorf("after leaving only %s in preferences, %s is %q on %s, want confirmed", secondList, citizen, st, listSlug)
	}

	unsub := link(m, d.base+"/unsubscribe/")
	if unsub == "" {
		for _, g := range angleRE.FindAllStringSubmatch(m.Header.Get("List-Unsubscribe"), -1) {
			if strings.HasPrefix(g[1], d.base+"/unsubscribe/") {
				unsub = g[1]
			}
		}
	}
	if unsub == "" {
		d.fatalf("the issue's mail has no %s/unsubscribe/ link", d.base)
	}
	p.do("open the unsubscribe page", chromedp.Navigate(unsub), chromedp.WaitVisible(chromedp.ID("unsubscribe")))
	p.checkA11y("/unsubscribe/{token}")
	p.snap("unsubscribe")
	if st := d.export(listSlug)[citizen]; st != "confirmed" {
		d.fatalf("opening the unsubscribe page changed %s to %q: a GET must not unsubscribe", citizen, st)
	}
	p.press("unsubscribe")
	p.do("wait for the unsubscribed page", chromedp.WaitVisible(chromedp.ID("unsubscribed")))
	p.checkA11y("/unsubscribe/{token} (done)")
	p.snap("unsubscribed")
	d.waitStatus(listSlug, citizen, "unsubscribed", 5*time.Second)

	// The archive shows the sent issue.
	p.do("open the archive", chromedp.Navigate(d.base+"/archive/"+listSlug), chromedp.WaitVisible(chromedp.ID("main")))
	p.checkA11y("/archive/{list}")
	p.snap("archive")
	if !p.eval(`document.body.innerText.includes(` + fmt.Sprintf("%q", subject) + `)`) {
		d.errorf("the archive of %s does not list %q", listSlug, subject)
	}
	// Issue 21: every public list's back numbers, and the privacy notice.
	p.do("open the archive index", chromedp.Navigate(d.base+"/archive"), chromedp.WaitVisible(chromedp.ID("main")))
	p.checkA11y("/archive")
	p.snap("archive-index")
	p.do("open the privacy notice", chromedp.Navigate(d.base+"/privacy"), chromedp.WaitVisible(chromedp.ID("main")))
	p.checkA11y("/privacy")
	p.snap("privacy")
	if !p.eval(`document.body.innerText.includes("個人情報の取扱い")`) {
		d.errorf("/privacy shows no privacy notice")
	}
}

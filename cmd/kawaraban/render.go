package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"kawaraban/bounces"
	"kawaraban/mailer"
	"kawaraban/subscribers"
	"kawaraban/templates"
)

// issueRenderer renders one delivery of an issue for the outbox
// (mailer.Renderer). The Markdown, layout and sanitising work is done once
// per issue (templates.Prepare) and cached; per recipient only the personal
// parts and links change. As the mailer's Checker it re-checks each claimed
// batch against the subscriptions, so an opt-out between snapshot and send
// is honoured at once, with one query per batch.
type issueRenderer struct {
	a  *app
	mu sync.Mutex
	// prepared caches per issue; an issue's content is immutable once
	// it is sending, so entries never go stale.
	prepared map[int64]*preparedIssue
}

type preparedIssue struct {
	p      *templates.Prepared
	list   subscribers.List
	listID string
}

func newIssueRenderer(a *app) *issueRenderer {
	return &issueRenderer{a: a, prepared: map[int64]*preparedIssue{}}
}

func (r *issueRenderer) issue(ctx context.Context, issueID int64) (*preparedIssue, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.prepared[issueID]; ok {
		return p, nil
	}
	is, err := r.a.issues.ByID(ctx, issueID)
	if err != nil {
		return nil, fmt.Errorf("loading issue %d: %w", issueID, err)
	}
	l, err := r.a.subs.ListByID(ctx, is.ListID)
	if err != nil {
		return nil, fmt.Errorf("loading list %d: %w", is.ListID, err)
	}
	p, err := r.a.tmpl.Prepare(templates.IssueInput{
		List: listInfo(l), IssueID: is.ID, Subject: is.Subject, Markdown: is.BodyMarkdown,
		ArchiveURL: fmt.Sprintf("%s/archive/%s/%d", r.a.e.cfg.BaseURL, l.Slug, is.ID),
		Date:       is.CreatedAt,
	})
	if err != nil {
		// The issue's content and list are fixed once it is sending: a
		// template or legal-footer error will not mend itself by retrying.
		return nil, fmt.Errorf("preparing issue %d: %w: %v", issueID, mailer.ErrUnrenderable, err)
	}
	p.UseCRLF() // for mail; previews prepare their own
	pi := &preparedIssue{p: p, list: l, listID: listIDHeader(l)}
	if len(r.prepared) > 64 {
		clear(r.prepared)
	}
	r.prepared[issueID] = pi
	return pi, nil
}

// listIDHeader is the List-Id value (RFC 2919 §2): a phrase and a unique
// dotted identifier under a domain the city controls.
func listIDHeader(l subscribers.List) string {
	domain := l.FromAddress[strings.LastIndexByte(l.FromAddress, '@')+1:]
	return fmt.Sprintf("%s <%s.%s>", l.NameEN, l.Slug, domain)
}

// Render implements mailer.Renderer.
func (r *issueRenderer) Render(ctx context.Context, d mailer.Delivery) (*mailer.Message, error) {
	pi, err := r.issue(ctx, d.IssueID)
	if err != nil {
		return nil, err
	}
	subs := r.a.subs
	tok := subs.UnsubscribeToken(d.SubscriberID, pi.list.ID)
	unsub := subs.UnsubscribeURLFor(tok)
	parts, err := pi.p.Render(templates.Recipient{
		Name: d.Name, Email: d.Email, UnsubscribeURL: unsub, PreferencesURL: subs.PreferencesURL(d.SubscriberID),
	})
	if err != nil {
		return nil, err
	}
	l := pi.list
	return r.message(l, pi.listID, parts, d.Email, d.Name, unsub, tok, d.IssueID), nil
}

// message builds the outgoing message for parts. A list that asks for
// ISO-2022-JP gets it only when every character maps to JIS X 0208;
// otherwise that one message goes as UTF-8 (docs/ENCODINGS.md).
// unsub and unsubTok are the subscriber's unsubscribe link and its token,
// empty for a preview.
func (r *issueRenderer) message(l subscribers.List, listID string, parts templates.Parts, to, toName, unsub, unsubTok string, issueID int64) *mailer.Message {
	charset := l.Encoding
	if charset == subscribers.EncodingISO2022JP {
		for _, s := range []string{parts.Subject, parts.Text, l.FromName, toName} {
			if _, ok := templates.ForISO2022JP(s); !ok {
				charset = subscribers.EncodingUTF8
				break
			}
		}
	}
	m := &mailer.Message{
		FromName: l.FromName, FromAddress: l.FromAddress, To: to, ToName: toName,
		Subject: parts.Subject, Text: parts.Text, HTML: parts.HTML, Charset: charset,
		ListID: listID,
	}
	if unsubTok != "" {
		m.UnsubscribeURL = unsub
		m.UnsubscribeMailto = "mailto:" + bounces.UnsubscribeMailto(r.a.e.cfg.Bounce.InboundDomain, unsubTok)
		m.FeedbackID = strconv.FormatInt(issueID, 10) + ":" + l.Slug + ":kawaraban"
	}
	if charset == subscribers.EncodingISO2022JP {
		m.Subject, _ = templates.ForISO2022JP(m.Subject)
		m.Text, _ = templates.ForISO2022JP(m.Text)
	}
	return m
}

// preview renders an unsaved or saved issue for a sample recipient (the
// editor's test send goes to to). Links point at the archive, since the
// sample is nobody's subscription.
func (r *issueRenderer) preview(ctx context.Context, listID int64, subject, md, to string) (*mailer.Message, error) {
	return r.previewFor(ctx, listID, subject, md, templates.Recipient{Email: to})
}

// previewFor renders an issue for rc (its links are placeholders).
func (r *issueRenderer) previewFor(ctx context.Context, listID int64, subject, md string, rc templates.Recipient) (*mailer.Message, error) {
	l, err := r.a.subs.ListByID(ctx, listID)
	if err != nil {
		return nil, err
	}
	p, err := r.a.tmpl.Prepare(templates.IssueInput{
		List: listInfo(l), Subject: subject, Markdown: md, Date: r.a.now(),
		ArchiveURL: fmt.Sprintf("%s/archive/%s", r.a.e.cfg.BaseURL, l.Slug),
	})
	if err != nil {
		return nil, err
	}
	base := r.a.e.cfg.BaseURL
	rc.UnsubscribeURL, rc.PreferencesURL = base+"/unsubscribe/preview", base+"/preferences/preview"
	parts, err := p.Render(rc)
	if err != nil {
		return nil, err
	}
	return r.message(l, listIDHeader(l), parts, rc.Email, "", "", "", 0), nil
}

// Unwanted implements mailer.Checker: the deliveries of a claimed batch
// whose recipient is no longer confirmed on the issue's list, or is
// suppressed.
func (r *issueRenderer) Unwanted(ctx context.Context, ds []mailer.Delivery) (map[int64]bool, error) {
	byIssue := map[int64][]mailer.Delivery{}
	for _, d := range ds {
		byIssue[d.IssueID] = append(byIssue[d.IssueID], d)
	}
	out := map[int64]bool{}
	for issueID, group := range byIssue {
		// The list id only: an issue that cannot be prepared still gets
		// its recipients checked, and then fails in Render.
		is, err := r.a.issues.ByID(ctx, issueID)
		if err != nil {
			return nil, err
		}
		ids := make([]int64, len(group))
		for i, d := range group {
			ids[i] = d.SubscriberID
		}
		ok, err := r.a.subs.Eligible(ctx, is.ListID, ids)
		if err != nil {
			return nil, err
		}
		for _, d := range group {
			if !ok[d.SubscriberID] {
				out[d.ID] = true
			}
		}
	}
	return out, nil
}

package newsletter

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"kawaraban/bounces"
	"kawaraban/issues"
	"kawaraban/mailer"
	"kawaraban/subscribers"
	"kawaraban/templates"
	"kawaraban/token"
)

// RendererOptions configures a Renderer. BaseURL is required.
type RendererOptions struct {
	// BaseURL is the public address; archive and sample links start with it.
	BaseURL string
	// InboundDomain receives the List-Unsubscribe mailto (RFC 2369);
	// empty leaves the mailto out.
	InboundDomain string
	// Location is the configured timezone: the date in an issue's heading
	// is its send date there (nil = time.Local).
	Location *time.Location
	Now      func() time.Time // nil = time.Now
	Logger   *slog.Logger
	// Signer signs the click redirect links of the lists that count
	// clicks (clicks.go); nil leaves every link as written.
	Signer *token.Signer
}

// Renderer renders issues: per recipient for the outbox (mailer.Renderer
// and mailer.Checker), and for previews, test sends and the archive. The
// Markdown, layout and sanitising work is done once per issue
// (templates.Prepare) and cached; per recipient only the personal parts and
// links change.
type Renderer struct {
	issues *issues.Store
	subs   *subscribers.Store
	tmpl   *templates.Set
	opt    RendererOptions

	mu sync.Mutex
	// prepared caches per issue and list (a joint issue is rendered for
	// each of its lists); an issue's content is immutable once it is
	// sending, so entries never go stale.
	prepared map[issueList]*preparedIssue
}

// issueList keys the cache: an issue as rendered for one of its lists.
type issueList struct{ issue, list int64 }

type preparedIssue struct {
	p      *templates.Prepared
	list   subscribers.List
	listID string
}

// NewRenderer returns a Renderer over the three stores.
func NewRenderer(is *issues.Store, subs *subscribers.Store, tmpl *templates.Set, opt RendererOptions) *Renderer {
	if opt.Location == nil {
		opt.Location = time.Local
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Renderer{issues: is, subs: subs, tmpl: tmpl, opt: opt, prepared: map[issueList]*preparedIssue{}}
}

// ListInfo is what the templates know of a list.
func ListInfo(l subscribers.List) templates.ListInfo {
	return templates.ListInfo{
		Slug: l.Slug, NameJA: l.NameJA, NameEN: l.NameEN, FromName: l.FromName, FromAddress: l.FromAddress,
		PostalAddress: l.PostalAddress, Contact: l.Contact, NameFallback: l.NameFallback, Encoding: l.Encoding,
	}
}

// sendDate is the date an issue's heading shows: when it was (or is being)
// sent, in the configured timezone.
func (r *Renderer) sendDate(is issues.Issue) time.Time {
	d := r.opt.Now()
	if is.SentAt != nil {
		d = *is.SentAt
	} else if is.SendAt != nil && is.Status != issues.StatusDraft {
		d = *is.SendAt
	}
	return d.In(r.opt.Location)
}

// issue prepares issueID as it goes to the readers of listID (0: its lead
// list, as for a delivery older than joint issues).
func (r *Renderer) issue(ctx context.Context, issueID, listID int64) (*preparedIssue, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.prepared[issueList{issueID, listID}]; ok {
		return p, nil
	}
	is, err := r.issues.ByID(ctx, issueID)
	if err != nil {
		return nil, fmt.Errorf("loading issue %d: %w", issueID, err)
	}
	if listID == 0 {
		listID = is.ListID
	}
	l, joint, err := r.jointLists(ctx, is.ListIDs(), listID)
	if err != nil {
		return nil, err
	}
	p, err := r.tmpl.Prepare(templates.IssueInput{
		List: ListInfo(l), IssueID: is.ID, Number: is.NumberOn(listID), Subject: is.Subject, Markdown: is.BodyMarkdown,
		ArchiveURL: archiveURL(l, fmt.Sprintf("%s/archive/%s/%d", r.opt.BaseURL, l.Slug, is.ID)),
		Date:       r.sendDate(is), Joint: joint,
		TrackLink: clickTracker(r.opt.BaseURL, r.opt.Signer, is.ID, l.CountClicks),
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
	r.prepared[issueList{issueID, listID}] = pi
	return pi, nil
}

// jointLists returns the list an issue of listIDs (the lead first) is
// rendered for — forList, signed with the lead's sender identity (From,
// postal address, contact: the 特定電子メール法 footer names who sends) —
// and, for a joint issue, every list of it for the footer (nil for one list).
func (r *Renderer) jointLists(ctx context.Context, listIDs []int64, forList int64) (subscribers.List, []templates.ListInfo, error) {
	var (
		lead, l subscribers.List
		joint   []templates.ListInfo
	)
	for i, id := range listIDs {
		x, err := r.subs.ListByID(ctx, id)
		if err != nil {
			return subscribers.List{}, nil, fmt.Errorf("loading list %d: %w", id, err)
		}
		if i == 0 {
			lead = x
		}
		if id == forList {
			l = x
		}
		joint = append(joint, ListInfo(x))
	}
	if l.ID == 0 {
		return subscribers.List{}, nil, fmt.Errorf("list %d is not a list of the issue: %w", forList, subscribers.ErrNotFound)
	}
	if len(joint) < 2 {
		return l, nil, nil
	}
	l.FromName, l.FromAddress, l.PostalAddress, l.Contact = lead.FromName, lead.FromAddress, lead.PostalAddress, lead.Contact
	return l, joint, nil
}

// listIDHeader is the List-Id value (RFC 2919 §2): a phrase and a unique
// dotted identifier under a domain the city controls.
func listIDHeader(l subscribers.List) string {
	domain := l.FromAddress[strings.LastIndexByte(l.FromAddress, '@')+1:]
	return fmt.Sprintf("%s <%s.%s>", l.NameEN, l.Slug, domain)
}

// Render implements mailer.Renderer.
func (r *Renderer) Render(ctx context.Context, d mailer.Delivery) (*mailer.Message, error) {
	pi, err := r.issue(ctx, d.IssueID, d.ListID)
	if err != nil {
		return nil, err
	}
	tok := r.subs.UnsubscribeToken(d.SubscriberID, pi.list.ID)
	unsub := r.subs.UnsubscribeURLFor(tok)
	parts, err := pi.p.Render(templates.Recipient{
		Name: d.Name, Email: d.Email, UnsubscribeURL: unsub, PreferencesURL: r.subs.PreferencesURL(d.SubscriberID),
	})
	if err != nil {
		return nil, err
	}
	return r.message(pi.list, pi.listID, parts, d.Email, d.Name, unsub, tok, d.IssueID), nil
}

// message builds the outgoing message for parts; the mailer decides its
// charset (a list that asks for ISO-2022-JP gets it when every character
// maps, docs/ENCODINGS.md). unsub and unsubTok are the subscriber's
// unsubscribe link and its token, empty for a preview.
func (r *Renderer) message(l subscribers.List, listID string, parts templates.Parts, to, toName, unsub, unsubTok string, issueID int64) *mailer.Message {
	m := &mailer.Message{
		FromName: l.FromName, FromAddress: l.FromAddress, To: to, ToName: toName,
		Subject: parts.Subject, Text: parts.Text, HTML: parts.HTML, Charset: l.Encoding,
		ListID: listID,
	}
	if unsubTok != "" {
		m.UnsubscribeURL = unsub
		if r.opt.InboundDomain != "" {
			m.UnsubscribeMailto = "mailto:" + bounces.UnsubscribeMailto(r.opt.InboundDomain, unsubTok)
		}
		m.FeedbackID = strconv.FormatInt(issueID, 10) + ":" + l.Slug + ":kawaraban"
	}
	return m
}

// Preview renders an unsaved or saved issue of list listID as a sample
// recipient at to would get it. Links are placeholders: the sample is
// nobody's subscription. A draft has no 第N号 yet; the heading says so.
func (r *Renderer) Preview(ctx context.Context, listID int64, subject, md, to string) (*mailer.Message, error) {
	return r.PreviewFor(ctx, listID, subject, md, templates.Recipient{Email: to})
}

// PreviewFor renders an issue for rc (its links are placeholders). An
// empty address is the sample recipient (SampleName at SampleAddress).
func (r *Renderer) PreviewFor(ctx context.Context, listID int64, subject, md string, rc templates.Recipient) (*mailer.Message, error) {
	return r.PreviewJoint(ctx, []int64{listID}, listID, subject, md, rc)
}

// PreviewJoint renders an issue of listIDs (the lead first) as a reader
// of forList gets it: a joint issue's footer names every list (see
// PreviewFor for the recipient and the links).
func (r *Renderer) PreviewJoint(ctx context.Context, listIDs []int64, forList int64, subject, md string, rc templates.Recipient) (*mailer.Message, error) {
	l, joint, err := r.jointLists(ctx, listIDs, forList)
	if err != nil {
		return nil, err
	}
	p, err := r.tmpl.Prepare(templates.IssueInput{
		List: ListInfo(l), Subject: subject, Markdown: md, Date: r.opt.Now().In(r.opt.Location),
		ArchiveURL: archiveURL(l, fmt.Sprintf("%s/archive/%s", r.opt.BaseURL, l.Slug)), Joint: joint,
	})
	if err != nil {
		return nil, err
	}
	if rc.Email == "" {
		rc.Email, rc.Name = SampleAddress(l), SampleName
	}
	rc.UnsubscribeURL, rc.PreferencesURL = r.opt.BaseURL+"/unsubscribe/preview", r.opt.BaseURL+"/preferences/preview"
	parts, err := p.Render(rc)
	if err != nil {
		return nil, err
	}
	return r.message(l, listIDHeader(l), parts, rc.Email, rc.Name, "", "", 0), nil
}

// SampleName is the sample recipient's name in a preview.
const SampleName = "京都 花子"

// SampleAddress is the address a preview is addressed to when it is for
// nobody in particular: a reader at the list's own domain.
func SampleAddress(l subscribers.List) string {
	return "reader@" + l.FromAddress[strings.LastIndexByte(l.FromAddress, '@')+1:]
}

// PreviewSubscriber renders an issue as subscriber subscriberID of the
// list gets it (name and fields filled in).
func (r *Renderer) PreviewSubscriber(ctx context.Context, listID int64, subject, md string, subscriberID int64) (*mailer.Message, error) {
	rc, err := r.subs.RecipientOf(ctx, listID, subscriberID)
	if err != nil {
		return nil, err
	}
	return r.PreviewFor(ctx, listID, subject, md, templates.Recipient{Name: rc.Name, Email: rc.Email, Fields: rc.Attributes})
}

// Public renders an issue for the archive and its feed: no personal data,
// the greeting's name as the list's fallback (so no honorific dangles).
// is.ListID is the archive's list: a joint issue is shown in each of its
// lists' archives with that list's 第N号 (is.Number) and names every list
// (is.Lists, or loaded by is.ID when the caller did not fill them).
func (r *Renderer) Public(ctx context.Context, is issues.Issue) (templates.Parts, error) {
	listIDs := []int64{is.ListID}
	if len(is.Lists) > 0 {
		listIDs = is.ListIDs()
	} else if is.ID != 0 {
		if stored, err := r.issues.ByID(ctx, is.ID); err == nil && stored.HasList(is.ListID) {
			listIDs = stored.ListIDs()
		}
	}
	l, joint, err := r.jointLists(ctx, listIDs, is.ListID)
	if err != nil {
		return templates.Parts{}, err
	}
	return r.tmpl.Public(templates.IssueInput{List: ListInfo(l), IssueID: is.ID, Number: is.Number,
		Subject: is.Subject, Markdown: is.BodyMarkdown, Joint: joint})
}

// Unwanted implements mailer.Checker: the deliveries of a claimed batch
// whose recipient is no longer confirmed on the delivery's list (of a
// joint issue, the list it was snapshotted for), or is suppressed.
func (r *Renderer) Unwanted(ctx context.Context, ds []mailer.Delivery) (map[int64]bool, error) {
	byList := map[issueList][]mailer.Delivery{}
	for _, d := range ds {
		k := issueList{d.IssueID, d.ListID}
		byList[k] = append(byList[k], d)
	}
	out := map[int64]bool{}
	for k, group := range byList {
		listID := k.list
		if listID == 0 {
			// A delivery older than joint issues: the issue's list. The
			// list id only: an issue that cannot be prepared still gets
			// its recipients checked, and then fails in Render.
			is, err := r.issues.ByID(ctx, k.issue)
			if err != nil {
				return nil, err
			}
			listID = is.ListID
		}
		ids := make([]int64, len(group))
		for i, d := range group {
			ids[i] = d.SubscriberID
		}
		ok, err := r.subs.Eligible(ctx, listID, ids)
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

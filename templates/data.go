package templates

import (
	htmltemplate "html/template"
	"time"
)

// ListInfo is what a layout knows of the list an issue goes to.
type ListInfo struct {
	Slug, NameJA, NameEN string
	// FromName, PostalAddress and Contact make the legally required footer.
	FromName, FromAddress, PostalAddress, Contact string
	// NameFallback replaces an empty subscriber name (default "読者").
	NameFallback string
	// Encoding is "utf-8" (default) or "iso-2022-jp" (package mailer
	// encodes; docs/ENCODINGS.md).
	Encoding string
}

// IssueInput is one issue to prepare.
type IssueInput struct {
	List    ListInfo
	IssueID int64
	// Number is the issue's 第N号 on its list, 0 before it is first sent
	// (the heading then says 第—号(未配信)).
	Number     int
	Subject    string
	Markdown   string
	ArchiveURL string
	Date       time.Time
	// Joint names every list of a joint issue, the lead first (nil for an
	// issue of one list); the footer names them all. List is then the
	// list this rendering is for (the recipient's), carrying the lead's
	// sender identity (FromName, FromAddress, PostalAddress, Contact).
	Joint []ListInfo
	// TrackLink, when set, points the body's links (Links) at the click
	// redirect, in the HTML and the text part alike; nil leaves them as
	// written.
	TrackLink LinkTracker
}

// Recipient holds the personal values Render splices in.
type Recipient struct {
	Name, Email string
	// Fields are other subscriber attributes, named in the body as
	// {{ .Fields.key }}; a missing key renders empty.
	Fields map[string]string
	// UnsubscribeURL and PreferencesURL must be absolute http(s) URLs.
	UnsubscribeURL, PreferencesURL string
}

// Parts is a rendered mail: the subject (not yet RFC 2047 encoded), the
// text/plain and the text/html bodies. HTML is empty for text-only mails.
type Parts struct {
	Subject, Text, HTML string
}

// LayoutData is what layout.html.tmpl and layout.txt.tmpl see. In the HTML
// layout BodyHTML is already sanitised; BodyText is wrapped text.
type LayoutData struct {
	List       ListInfo
	Subject    string
	IssueID    int64
	Number     int // 第N号; 0 while unsent
	Date       time.Time
	ArchiveURL string
	BodyHTML   htmltemplate.HTML
	BodyText   string
	// Name, Email and the two URLs are the recipient's.
	Name, Email                    string
	UnsubscribeURL, PreferencesURL string
	// Joint is IssueInput.Joint: every list of a joint issue, lead first.
	Joint []ListInfo
}

// SystemData is what the system mails see. Callers pass it (or a struct
// with at least the fields their template uses) to System.
type SystemData struct {
	List        ListInfo
	Name, Email string
	// ConfirmURL and ExpiresAt are for "confirmation".
	ConfirmURL string
	ExpiresAt  time.Time
	// UnsubscribeURL, PreferencesURL, ArchiveURL are for "welcome";
	// SubscribeURL is for "goodbye".
	UnsubscribeURL, PreferencesURL, ArchiveURL, SubscribeURL string
}

func sampleList() ListInfo {
	return ListInfo{
		Slug: "sample", NameJA: "見本センターだより", NameEN: "Sample Center News",
		FromName: "見本センター", FromAddress: "news@sample.example.jp",
		PostalAddress: "〒604-8571 京都市中京区寺町通御池上る上本能寺前町488",
		Contact:       "075-000-0000 sample@example.jp", NameFallback: "読者",
	}
}

func sampleLayout() LayoutData {
	return LayoutData{
		List: sampleList(), Subject: "見本の件名", IssueID: 1,
		Date:       time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC),
		ArchiveURL: "https://example.jp/archive/sample/1",
		BodyHTML:   "<p>見本</p>", BodyText: "見本",
		Name: "見本 太郎", Email: "taro@example.jp",
		UnsubscribeURL: "https://example.jp/unsubscribe/SAMPLEunsub",
		PreferencesURL: "https://example.jp/preferences/SAMPLEprefs",
	}
}

func sampleSystem() SystemData {
	return SystemData{
		List: sampleList(), Name: "見本 太郎", Email: "taro@example.jp",
		ConfirmURL:     "https://example.jp/confirm/SAMPLE",
		ExpiresAt:      time.Date(2026, 4, 8, 9, 0, 0, 0, time.UTC),
		UnsubscribeURL: "https://example.jp/unsubscribe/SAMPLE", PreferencesURL: "https://example.jp/preferences/SAMPLE",
		ArchiveURL: "https://example.jp/archive/sample", SubscribeURL: "https://example.jp/subscribe?list=sample",
	}
}

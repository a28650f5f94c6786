package web

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"kawaraban/progress"
)

// What the bureaus report (issue 23): the form behind the signed
// "submitted" link, and the public progress pages and feed. The admin side
// is in admin_reports.go.

// Reports is package progress's reports as web uses them; *progress.Store
// satisfies it. Nil turns these pages into "not available".
type Reports interface {
	ReportByToken(ctx context.Context, tok string) (progress.Report, error)
	SaveReportByToken(ctx context.Context, tok string, in []progress.ReportInput, ev progress.Evidence) (int, error)
	Report(ctx context.Context, deadlineID, bureau string) (progress.Report, error)
	SaveReport(ctx context.Context, deadlineID, bureau string, in []progress.ReportInput, ev progress.Evidence) (int, error)
	History(ctx context.Context, deadlineID, bureau string) ([]progress.RevisionEntry, error)
	Reports(ctx context.Context) ([]progress.DeadlineReports, error)
	Publish(ctx context.Context, deadlineID, bureau, actor string) (int, error)
	PublicMeasures(ctx context.Context) ([]progress.PublicMeasure, error)
	PublicMeasure(ctx context.Context, number int) (progress.PublicMeasure, error)
	Publications(ctx context.Context, limit int) ([]progress.PublicReport, error)
	ComposeIssue(ctx context.Context, deadlineID string) (progress.IssueDraft, error)
	ExportReportsCSV(ctx context.Context, w io.Writer, opt progress.CSVOptions) error
}

// reportLine is what a form shows in one project's fields.
type reportLine struct{ Status, Note, Link string }

// reportFormData is the page of the bureau's form (and the admin's).
type reportFormData struct {
	Rep      progress.Report
	Action   string // where the form posts
	Token    string // the link's token ("" on the admin page)
	Form     string // form token (bureau) — the admin form carries the CSRF token
	Saved    bool
	Lines    map[string]reportLine
	Problems map[string]string // "status_32-1" → message
	Statuses []progress.ReportStatus
	MaxNote  int
	// History is every revision with its evidence (admin page only).
	History []progress.RevisionEntry
}

// Line returns the values a project's fields show.
func (d reportFormData) Line(key string) reportLine { return d.Lines[key] }

// Problem returns the message for one field ("" when it is fine).
func (d reportFormData) Problem(field, key string) string { return d.Problems[field+"_"+key] }

func newReportForm(rep progress.Report) reportFormData {
	d := reportFormData{Rep: rep, Lines: map[string]reportLine{}, Problems: map[string]string{},
		Statuses: progress.ReportStatuses, MaxNote: progress.MaxNoteRunes}
	for _, p := range rep.Projects {
		if p.Latest != nil {
			d.Lines[p.Key] = reportLine{Status: string(p.Latest.Status), Note: p.Latest.Note, Link: p.Latest.Link}
		}
	}
	return d
}

// reportInputs reads the fields status_<key>, note_<key> and link_<key>
// of the report's projects from a posted form.
func reportInputs(r *http.Request, rep progress.Report) ([]progress.ReportInput, map[string]reportLine) {
	var in []progress.ReportInput
	lines := map[string]reportLine{}
	for _, p := range rep.Projects {
		l := reportLine{Status: r.PostFormValue("status_" + p.Key), Note: r.PostFormValue("note_" + p.Key),
			Link: r.PostFormValue("link_" + p.Key)}
		lines[p.Key] = l
		in = append(in, progress.ReportInput{Project: p.Key, Status: progress.ReportStatus(l.Status), Note: l.Note, Link: l.Link})
	}
	return in, lines
}

// reportProblems turns a refused report into one message per field.
func reportProblems(v *view, err error) map[string]string {
	var re *progress.ReportError
	out := map[string]string{}
	if errors.As(err, &re) {
		for _, p := range re.Problems {
			out[p.Field+"_"+p.Project] = v.T("rep.err." + p.Field + "." + p.Code)
		}
	}
	return out
}

// handleSubmittedPage shows the bureau's report form; a GET records
// nothing (link scanners follow GETs).
func (s *Server) handleSubmittedPage(w http.ResponseWriter, r *http.Request) {
	if s.opt.Reports == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	tok := r.PathValue("token")
	rep, err := s.opt.Reports.ReportByToken(r.Context(), tok)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.newView(w, r, "title.report")
	d := newReportForm(rep)
	d.Action, d.Token, d.Form = "/progress/submitted/"+tok, tok, s.formToken("submitted", tok)
	d.Saved = r.URL.Query().Get("saved") == "1"
	if d.Saved {
		v.Flash = v.T("rep.saved")
	}
	v.Data = d
	s.render(w, r, http.StatusOK, "report_form", v)
}

// handleSubmitted saves the bureau's report: the signed link is the
// credential, the form token (bound to it) shows the form was loaded
// from this site. A refused report comes back with the entered text kept.
func (s *Server) handleSubmitted(w http.ResponseWriter, r *http.Request) {
	if s.opt.Reports == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	if err := parseBody(r, 0); err != nil {
		s.fail(w, r, err)
		return
	}
	tok := r.PathValue("token")
	rep, err := s.opt.Reports.ReportByToken(r.Context(), tok)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	in, lines := reportInputs(r, rep)
	v := s.newView(w, r, "title.report")
	d := newReportForm(rep)
	d.Action, d.Token, d.Form, d.Lines = "/progress/submitted/"+tok, tok, s.formToken("submitted", tok), lines
	code := http.StatusForbidden
	if !s.checkFormToken("submitted", tok, r.PostFormValue("form_token")) {
		v.Error = v.T("rep.formexpired")
	} else {
		ev := progress.Evidence{IP: s.clientIP(r), UserAgent: truncate(r.UserAgent(), 200)}
		_, err = s.opt.Reports.SaveReportByToken(r.Context(), tok, in, ev)
		if err == nil {
			http.Redirect(w, r, "/progress/submitted/"+tok+"?saved=1", http.StatusSeeOther)
			return
		}
		var key string
		code, key = statusOf(err)
		if code >= 500 {
			s.fail(w, r, err)
			return
		}
		v.Error, d.Problems = userMessage(v, key, err), reportProblems(v, err)
	}
	v.Data = d
	s.render(w, r, code, "report_form", v)
}

// publicProgressData is the public progress page: every measure, or one.
type publicProgressData struct {
	Measures []progress.PublicMeasure
	One      bool
	Statuses []progress.ReportStatus
}

// handlePublicProgress lists the plan's measures with their projects'
// latest published reports.
func (s *Server) handlePublicProgress(w http.ResponseWriter, r *http.Request) {
	if s.opt.Reports == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	ms, err := s.opt.Reports.PublicMeasures(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.newView(w, r, "title.progress")
	v.Data = publicProgressData{Measures: ms, Statuses: progress.ReportStatuses}
	s.render(w, r, http.StatusOK, "progress_public", v)
}

// handlePublicMeasure is one measure's page, /progress/{measure}.
func (s *Server) handlePublicMeasure(w http.ResponseWriter, r *http.Request) {
	if s.opt.Reports == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	n, err := strconv.Atoi(r.PathValue("measure"))
	if err != nil || n <= 0 || strconv.Itoa(n) != r.PathValue("measure") {
		s.errorPage(w, r, http.StatusNotFound, "err.notfound")
		return
	}
	m, err := s.opt.Reports.PublicMeasure(r.Context(), n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.newView(w, r, "")
	v.Title = fmt.Sprintf("%s%d %s", v.T("rep.measure"), m.Number, v.Name(m.Title, m.TitleEn))
	v.Data = publicProgressData{Measures: []progress.PublicMeasure{m}, One: true, Statuses: progress.ReportStatuses}
	s.render(w, r, http.StatusOK, "progress_public", v)
}

// handleProgressFeed is the Atom feed (RFC 4287) of published reports,
// newest first: one entry each time a project's report is published.
func (s *Server) handleProgressFeed(w http.ResponseWriter, r *http.Request) {
	if s.opt.Reports == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	pubs, err := s.opt.Reports.Publications(r.Context(), 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	base := strings.TrimSuffix(s.opt.BaseURL, "/")
	self := base + "/progress"
	title := tr("ja", "title.progress")
	f := atomFeed{Lang: "ja", ID: self, Title: title, Author: atomAuthor{Name: tr("ja", "site")},
		Links: []atomLink{{Rel: "self", Href: self + "/feed.atom", Type: "application/atom+xml"}, {Rel: "alternate", Href: self, Type: "text/html"}}}
	updated := s.now()
	if len(pubs) > 0 {
		updated = pubs[0].PublishedAt
	}
	for _, p := range pubs {
		link := fmt.Sprintf("%s/%d#project-%s", self, p.Measure, p.ProjectKey)
		f.Entries = append(f.Entries, atomEntry{
			ID:      fmt.Sprintf("%s/%d#publication-%d", self, p.Measure, p.PublicationID),
			Title:   fmt.Sprintf("施策%d %s: %s(%s)", p.Measure, p.ProjectTitle, p.Status.Japanese(), p.BureauName),
			Updated: p.PublishedAt.UTC().Format(time.RFC3339),
			Link:    atomLink{Rel: "alternate", Href: link, Type: "text/html"},
			Content: atomContent{Type: "text", Body: feedText(p, s.opt.Location)},
		})
	}
	f.Updated = updated.UTC().Format(time.RFC3339)
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	w.Write([]byte(xml.Header))
	if err := xml.NewEncoder(w).Encode(f); err != nil {
		s.log.Error("writing progress feed", "err", err)
	}
}

func feedText(p progress.PublicReport, loc *time.Location) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", "状況", p.Status.Japanese())
	if p.Note != "" {
		b.WriteString(p.Note + "\n")
	}
	if p.Link != "" {
		b.WriteString(p.Link + "\n")
	}
	fmt.Fprintf(&b, "%s %s(%s)", p.ReportedAt.In(loc).Format("2006年1月2日"), "報告", p.DeadlineTitle)
	return b.String()
}

// Day shows a date without the time: 2027年4月30日, or 30 April 2027.
func (v *view) Day(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	t = t.In(v.loc)
	if v.EN() {
		return t.Format("2 January 2006")
	}
	return t.Format("2006年1月2日")
}

// StatusLabel is a report status in the page's language.
func (v *view) StatusLabel(st progress.ReportStatus) string {
	if st == "" {
		return v.T("rep.st.none")
	}
	return v.T("rep.st." + string(st))
}

// SafeLink says whether a reported link may be shown as a link (progress
// accepts only http and https ones; this is a second look).
func (v *view) SafeLink(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https")
}

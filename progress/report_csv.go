package progress

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"
)

// CSVOptions selects what ExportReportsCSV writes.
type CSVOptions struct {
	// Deadline limits the export to one deadline's stable id ("" = all).
	Deadline string
	// BOM starts the file with a UTF-8 byte order mark, so that Excel
	// reads the Japanese.
	BOM bool
}

// ReportsCSVHeader is the header row of ExportReportsCSV.
var ReportsCSVHeader = []string{"deadline_id", "deadline_title_ja", "due", "measure", "project_key", "project_title_ja",
	"bureau", "bureau_name_ja", "submitted_at", "status", "status_ja", "note", "link", "reported_at", "revisions",
	"published", "published_at"}

// ExportReportsCSV writes, for the report to the city council (市会への報告),
// one row per deadline and project of its bureaus: the newest reported
// status, note and link with the time reported, whether that text is the
// published one, and when the bureau submitted. Times are RFC 3339 in
// Options.Location; cells a spreadsheet would run as formulas are defused.
func (s *Store) ExportReportsCSV(ctx context.Context, w io.Writer, opt CSVOptions) error {
	all, err := s.Reports(ctx)
	if err != nil {
		return err
	}
	st, err := s.Status(ctx)
	if err != nil {
		return err
	}
	submitted := map[[2]string]time.Time{}
	for _, d := range st {
		for _, b := range d.Bureaus {
			if b.Submitted {
				submitted[[2]string{d.ID, b.Bureau}] = b.SubmittedAt
			}
		}
	}
	names := map[string]string{}
	for _, d := range st {
		for _, b := range d.Bureaus {
			names[b.Bureau] = b.Name
		}
	}
	if opt.BOM {
		if _, err := io.WriteString(w, "\ufeff"); err != nil {
			return fmt.Errorf("writing CSV: %w", err)
		}
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	cw.Write(ReportsCSVHeader)
	found := opt.Deadline == ""
	for _, d := range all {
		if opt.Deadline != "" && d.ID != opt.Deadline {
			continue
		}
		found = true
		for _, p := range d.Projects {
			cw.Write(reportRow(d, p, names[p.Bureau], submitted[[2]string{d.ID, p.Bureau}]))
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	if !found {
		return fmt.Errorf("deadline %s: %w", opt.Deadline, ErrNotFound)
	}
	return nil
}

func reportRow(d DeadlineReports, p ProjectReport, bureauName string, submittedAt time.Time) []string {
	row := []string{d.ID, csvSafe(d.Title), d.Due.String(), strconv.Itoa(p.Measure), p.Key, csvSafe(p.Title),
		p.Bureau, csvSafe(bureauName), stamp(submittedAt)}
	if p.Latest == nil {
		return append(row, "", "", "", "", "", "0", "no", "")
	}
	published, publishedAt := "no", ""
	if p.Published != nil {
		publishedAt = stamp(p.PublishedAt)
		if p.Published.ID == p.Latest.ID {
			published = "yes"
		} else {
			published = "older"
		}
	}
	return append(row, string(p.Latest.Status), p.Latest.Status.Japanese(), csvSafe(p.Latest.Note), csvSafe(p.Latest.Link),
		stamp(p.Latest.At), strconv.Itoa(p.Revisions), published, publishedAt)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}

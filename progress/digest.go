package progress

import (
	"context"
	"fmt"
	"time"
)

// digestWindowDays keeps a fully submitted deadline in the digest for a
// while after its due date, so the coordinator sees it closed.
const digestWindowDays = 14

type digestBureau struct {
	Name        string
	Submitted   bool
	SubmittedOn string
	DaysLate    int
}

type digestDeadline struct {
	Title, Due            string
	DaysLeft, DaysOverdue int
	SubmittedCount        int
	// Unpublished counts the projects whose newest report the public does
	// not see yet (issue 23): the coordinator's review is waiting.
	Unpublished int
	Bureaus     []digestBureau
}

// SendDigest mails the coordinator (the rules' coordinator address) the
// weekly digest as of now: per deadline still open, or due in the last two
// weeks, who has submitted and who is late by how many days. The scheduler
// decides when it runs and that it runs once a week; with no coordinator
// configured it sends nothing.
func (s *Store) SendDigest(ctx context.Context, now time.Time) error {
	if s.opt.Sender == nil {
		return ErrNoSender
	}
	rules, err := s.Rules(ctx)
	if err != nil {
		return err
	}
	if rules.Coordinator == "" {
		s.log.Warn("digest not sent: no coordinator address")
		return nil
	}
	today := DateOf(now, s.loc)
	st, err := s.statusAt(ctx, today)
	if err != nil {
		return err
	}
	unpublished, err := s.unpublishedByDeadline(ctx)
	if err != nil {
		return err
	}
	data := struct {
		Today     string
		Deadlines []digestDeadline
		FromName  string
		ReviewURL string
	}{Today: today.Japanese(), FromName: s.opt.FromName}
	if s.opt.BaseURL != "" {
		data.ReviewURL = s.opt.BaseURL + "/admin/progress/reports"
	}
	for _, d := range st {
		if d.SubmittedCount() == len(d.Bureaus) && -d.DaysLeft > digestWindowDays {
			continue
		}
		dd := digestDeadline{Title: d.Title, Due: d.Due.Japanese(), DaysLeft: max(d.DaysLeft, 0),
			DaysOverdue: max(-d.DaysLeft, 0), SubmittedCount: d.SubmittedCount(), Unpublished: unpublished[d.ID]}
		for _, b := range d.Bureaus {
			db := digestBureau{Name: b.Name, Submitted: b.Submitted, DaysLate: b.DaysLate}
			if b.Submitted {
				db.SubmittedOn = DateOf(b.SubmittedAt, s.loc).Japanese()
			}
			dd.Bureaus = append(dd.Bureaus, db)
		}
		data.Deadlines = append(data.Deadlines, dd)
	}
	subject, text, err := s.render("digest", data)
	if err != nil {
		return err
	}
	m := Mail{To: rules.Coordinator, ToName: "計画の進捗管理担当", Subject: subject, Text: text,
		AutoSubmitted: true, Headers: systemHeaders}
	if err := s.opt.Sender.SendSystem(ctx, m); err != nil {
		return fmt.Errorf("sending digest: %w", err)
	}
	s.log.Info("digest sent", "deadlines", len(data.Deadlines))
	return nil
}

// unpublishedByDeadline counts, per deadline id, the projects whose newest
// report is not the published one.
func (s *Store) unpublishedByDeadline(ctx context.Context) (map[string]int, error) {
	all, err := s.Reports(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, d := range all {
		for _, p := range d.Projects {
			if p.Unpublished() {
				out[d.ID]++
			}
		}
	}
	return out, nil
}

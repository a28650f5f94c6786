package bounces

import (
	"context"
	"fmt"
)

// Complaints returns how many complaints an issue had, leaving out those
// staff marked not a bounce: the same number as
// CountsByIssue(ctx, issueID)[classify.Complaint], since only hard and soft
// reports of one delivery are grouped. It reads the entries of the
// bounces_issue_counted index (migration 0021) and nothing else, where
// CountsByIssue groups every report of the issue: the dashboard asks for
// it for each of a list's last ten issues (issue 19).
func (s *Service) Complaints(ctx context.Context, issueID int64) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM bounces
WHERE issue_id = ? AND class = 'complaint' AND not_a_bounce = 0`, issueID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting complaints of issue %d: %w", issueID, err)
	}
	return n, nil
}

// ComplaintsOn counts the complaints about issueID from readers of listID
// (a joint issue's complaints, split by the list each delivery was for).
func (s *Service) ComplaintsOn(ctx context.Context, issueID, listID int64) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM bounces
WHERE issue_id = ? AND list_id = ? AND class = 'complaint' AND not_a_bounce = 0`, issueID, listID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting complaints of issue %d on list %d: %w", issueID, listID, err)
	}
	return n, nil
}

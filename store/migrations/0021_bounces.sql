-- 0021 (bounces): the dashboard's bounce and complaint rates count each
-- recent issue's bounces by class (CountsByIssue), leaving out those staff
-- marked "not a bounce". This index holds just the counted ones, so the
-- count reads index entries only (issue 19).
CREATE INDEX bounces_issue_counted ON bounces (issue_id, class) WHERE not_a_bounce = 0;

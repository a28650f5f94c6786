-- 0020 (mailer): the delivery counts of finished issues (issue 19).
--
-- Counting a sent issue's deliveries reads one index entry per recipient,
-- over a second at a million; the dashboard and the issue pages ask for
-- them on every view. When a run becomes done, a trigger counts its
-- deliveries once into delivery_counts; later changes to a finished
-- delivery (a bounce read days after) move one count in the same
-- statement; a run that starts again (retrying the failed) drops its
-- counts and is counted live, as every running issue is. The delivery
-- trigger only looks up the table for a delivery that was sent or failed,
-- so the sending path (queued → sending → sent) pays nothing.
CREATE TABLE delivery_counts (
    issue_id INTEGER NOT NULL,
    status   TEXT    NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (issue_id, status)
) STRICT, WITHOUT ROWID;

INSERT INTO delivery_counts (issue_id, status, n)
SELECT d.issue_id, d.status, count(*) FROM deliveries d
WHERE d.issue_id IN (SELECT issue_id FROM mailer_runs WHERE state = 'done')
GROUP BY d.issue_id, d.status;

CREATE TRIGGER delivery_counts_done AFTER UPDATE OF state ON mailer_runs
    WHEN NEW.state = 'done' AND OLD.state <> 'done'
BEGIN
    DELETE FROM delivery_counts WHERE issue_id = NEW.issue_id;
    INSERT INTO delivery_counts (issue_id, status, n)
    SELECT issue_id, status, count(*) FROM deliveries WHERE issue_id = NEW.issue_id GROUP BY status;
END;

CREATE TRIGGER delivery_counts_reopened AFTER UPDATE OF state ON mailer_runs
    WHEN NEW.state <> 'done'
BEGIN
    DELETE FROM delivery_counts WHERE issue_id = NEW.issue_id;
END;

CREATE TRIGGER delivery_counts_moved AFTER UPDATE OF status ON deliveries
    WHEN OLD.status IN ('sent', 'failed') AND NEW.status <> OLD.status
     AND EXISTS (SELECT 1 FROM delivery_counts WHERE issue_id = NEW.issue_id)
BEGIN
    UPDATE delivery_counts SET n = n - 1 WHERE issue_id = NEW.issue_id AND status = OLD.status;
    INSERT INTO delivery_counts (issue_id, status, n) VALUES (NEW.issue_id, NEW.status, 1)
    ON CONFLICT (issue_id, status) DO UPDATE SET n = n + 1;
END;

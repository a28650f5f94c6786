-- 0009 (bounces): side effects of a bounce (suppression, marking the
-- delivery) are retried a few times, then given up with the error kept, so
-- that one bad record cannot stop the bounce mailbox.
ALTER TABLE bounces ADD COLUMN apply_attempts INTEGER NOT NULL DEFAULT 0; -- failed attempts at the side effects
ALTER TABLE bounces ADD COLUMN apply_error TEXT NOT NULL DEFAULT '';      -- the last failure, kept when given up

-- 0012 (subscribers): a suppression, and the daily cap on confirmation
-- mails, hold for every spelling of the address that differs only in the
-- case of its letters (a bounce for Taro@example.jp stops mail to
-- taro@example.jp too; TARO@, Taro@ and taro@ share one cap). Queries
-- compare with COLLATE NOCASE; these indexes serve them.
CREATE INDEX suppressions_email_nocase ON suppressions (email COLLATE NOCASE, list_id);
CREATE INDEX confirmation_sends_nocase ON confirmation_sends (email COLLATE NOCASE, at);

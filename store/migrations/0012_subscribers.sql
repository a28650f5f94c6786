-- 0012 (subscribers): a suppression holds for every spelling of the
-- address that differs only in the case of its letters (a bounce for
-- Taro@example.jp stops mail to taro@example.jp too). Queries compare with
-- COLLATE NOCASE; this index serves them.
CREATE INDEX suppressions_email_nocase ON suppressions (email COLLATE NOCASE, list_id);

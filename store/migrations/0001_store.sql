-- 0001 (store): bookkeeping that belongs to no domain.
-- meta holds small key/value facts such as the install's HMAC key id.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

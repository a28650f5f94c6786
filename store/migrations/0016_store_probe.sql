-- 0016 (store): one row that store.Health rewrites to learn whether the
-- database takes writes again after a full disk or an I/O error.
-- at_ms is unix milliseconds (UTC).
CREATE TABLE store_probe (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    at_ms INTEGER NOT NULL
) STRICT;

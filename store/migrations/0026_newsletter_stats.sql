-- 0026 (newsletter; one column each of subscribers' lists and import
-- rejects): privacy-first statistics (issue 17).
--
-- link_clicks: how often each link of an issue was followed through the
-- click redirect (/r/{token}), counted per (issue, link). It names no
-- subscriber, no address, no time of a click and no client: only the
-- sum. link_index is the link's place among the issue's distinct http(s)
-- links in its Markdown (templates.Links), counted from 0. Owned by
-- package newsletter.
CREATE TABLE link_clicks (
    issue_id   INTEGER NOT NULL,
    link_index INTEGER NOT NULL CHECK (link_index >= 0),
    n          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (issue_id, link_index)
) STRICT, WITHOUT ROWID;

-- lists.count_clicks: the per-list switch, off by default. Only a list
-- with it on has its issues' links rewritten through the redirect.
ALTER TABLE lists ADD COLUMN count_clicks INTEGER NOT NULL DEFAULT 0;

-- subscriber_import_rejects.reason_ja: the reason in Japanese, for the
-- admin UI (reason stays English for the CLI and the logs).
ALTER TABLE subscriber_import_rejects ADD COLUMN reason_ja TEXT NOT NULL DEFAULT '';

-- 0018 (web): API tokens may expire, and are listed and revoked one by one
-- (`kawaraban token list|revoke`).
ALTER TABLE api_tokens ADD COLUMN expires INTEGER NOT NULL DEFAULT 0; -- unix seconds; 0 = never

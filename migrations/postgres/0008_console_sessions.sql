-- Sessions of the console (the server-rendered pages under /console): a
-- pasted token is exchanged for a random session id, of which only the
-- SHA-256 is kept. The session names the token's hash, so it resolves to the
-- same principal the API would give that token, and the CSRF token its forms
-- must carry. Expiry is decided in the query that reads a session
-- (`expires_at > now`), so every replica agrees on it.
CREATE TABLE console_sessions (
    session_hash  TEXT PRIMARY KEY,
    token_hash    TEXT NOT NULL,
    csrf_token    TEXT NOT NULL,
    -- Unix seconds (UTC).
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL CHECK (expires_at > created_at)
);
CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at);

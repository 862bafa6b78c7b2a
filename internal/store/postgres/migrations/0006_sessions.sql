-- 0006_sessions: browser sessions and pending OpenID Connect sign-ins,
-- shared by every instance (atigip.SessionStore). digest is the SHA-256
-- of the cookie's id or of the sign-in's state, never the value itself.
CREATE TABLE browser_sessions (
    digest     TEXT        PRIMARY KEY,
    principal  JSONB       NOT NULL,
    provider   TEXT        NOT NULL DEFAULT '',
    id_token   TEXT        NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    seen_at    TIMESTAMPTZ NOT NULL
);
CREATE TABLE pending_signins (
    digest     TEXT        PRIMARY KEY,
    provider   TEXT        NOT NULL,
    nonce      TEXT        NOT NULL,
    verifier   TEXT        NOT NULL,
    return_to  TEXT        NOT NULL DEFAULT '',
    expires_at TIMESTAMPTZ NOT NULL
);

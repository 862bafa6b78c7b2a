-- 0005_contact_requests: businesses' contact requests to penitentiary
-- establishments (atigip.ContactRequest), keyed by establishment.
CREATE TABLE contact_requests (
    id          BIGSERIAL PRIMARY KEY,
    version     BIGINT      NOT NULL,
    ref         TEXT        UNIQUE,
    departement TEXT        NOT NULL DEFAULT '',
    commune     TEXT        NOT NULL DEFAULT '',
    status      TEXT        NOT NULL DEFAULT '',
    parent      BIGINT      NOT NULL DEFAULT 0,
    public      BOOLEAN     NOT NULL DEFAULT false,
    owner       BIGINT      NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    data        JSONB       NOT NULL
);
CREATE INDEX contact_requests_parent_id ON contact_requests (parent, id);

-- 0005_contact_requests: businesses' contact requests to penitentiary
-- establishments (atigip.ContactRequest), keyed by establishment.
CREATE TABLE contact_requests (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    version     INTEGER NOT NULL,
    ref         TEXT UNIQUE,
    departement TEXT NOT NULL DEFAULT '',
    commune     TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT '',
    parent      INTEGER NOT NULL DEFAULT 0,
    public      INTEGER NOT NULL DEFAULT 0,
    owner       INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    data        TEXT NOT NULL
);
CREATE INDEX contact_requests_parent_id ON contact_requests (parent, id);

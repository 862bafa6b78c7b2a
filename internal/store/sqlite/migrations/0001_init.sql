-- 0001: the initial schema. One table per entity kind, all with the same
-- columns: the indexed keys (atigip.Keys) beside the entity's JSON. Times are
-- Unix microseconds, UTC.

CREATE TABLE organisations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    version     INTEGER NOT NULL,
    ref         TEXT UNIQUE,
    departement TEXT NOT NULL DEFAULT '',
    commune     TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT '',
    parent      INTEGER NOT NULL DEFAULT 0,
    public      INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    data        TEXT NOT NULL
);
CREATE INDEX organisations_departement ON organisations (departement);
CREATE INDEX organisations_commune ON organisations (commune);
CREATE INDEX organisations_status ON organisations (status);
CREATE INDEX organisations_parent ON organisations (parent);

CREATE TABLE posts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    version     INTEGER NOT NULL,
    ref         TEXT UNIQUE,
    departement TEXT NOT NULL DEFAULT '',
    commune     TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT '',
    parent      INTEGER NOT NULL DEFAULT 0,
    public      INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    data        TEXT NOT NULL
);
CREATE INDEX posts_departement ON posts (departement);
CREATE INDEX posts_commune ON posts (commune);
CREATE INDEX posts_status ON posts (status);
CREATE INDEX posts_parent ON posts (parent);

CREATE TABLE prisons (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    version     INTEGER NOT NULL,
    ref         TEXT UNIQUE,
    departement TEXT NOT NULL DEFAULT '',
    commune     TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT '',
    parent      INTEGER NOT NULL DEFAULT 0,
    public      INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    data        TEXT NOT NULL
);
CREATE INDEX prisons_departement ON prisons (departement);
CREATE INDEX prisons_commune ON prisons (commune);
CREATE INDEX prisons_status ON prisons (status);
CREATE INDEX prisons_parent ON prisons (parent);

CREATE TABLE floor_spaces (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    version     INTEGER NOT NULL,
    ref         TEXT UNIQUE,
    departement TEXT NOT NULL DEFAULT '',
    commune     TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT '',
    parent      INTEGER NOT NULL DEFAULT 0,
    public      INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    data        TEXT NOT NULL
);
CREATE INDEX floor_spaces_departement ON floor_spaces (departement);
CREATE INDEX floor_spaces_commune ON floor_spaces (commune);
CREATE INDEX floor_spaces_status ON floor_spaces (status);
CREATE INDEX floor_spaces_parent ON floor_spaces (parent);

CREATE TABLE offers (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    version     INTEGER NOT NULL,
    ref         TEXT UNIQUE,
    departement TEXT NOT NULL DEFAULT '',
    commune     TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT '',
    parent      INTEGER NOT NULL DEFAULT 0,
    public      INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    data        TEXT NOT NULL
);
CREATE INDEX offers_departement ON offers (departement);
CREATE INDEX offers_commune ON offers (commune);
CREATE INDEX offers_status ON offers (status);
CREATE INDEX offers_parent ON offers (parent);

CREATE TABLE people (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    version     INTEGER NOT NULL,
    ref         TEXT UNIQUE,
    departement TEXT NOT NULL DEFAULT '',
    commune     TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT '',
    parent      INTEGER NOT NULL DEFAULT 0,
    public      INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    data        TEXT NOT NULL
);
CREATE INDEX people_departement ON people (departement);
CREATE INDEX people_commune ON people (commune);
CREATE INDEX people_status ON people (status);
CREATE INDEX people_parent ON people (parent);

CREATE TABLE measures (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    version     INTEGER NOT NULL,
    ref         TEXT UNIQUE,
    departement TEXT NOT NULL DEFAULT '',
    commune     TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT '',
    parent      INTEGER NOT NULL DEFAULT 0,
    public      INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    data        TEXT NOT NULL
);
CREATE INDEX measures_departement ON measures (departement);
CREATE INDEX measures_commune ON measures (commune);
CREATE INDEX measures_status ON measures (status);
CREATE INDEX measures_parent ON measures (parent);

CREATE TABLE applications (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    version     INTEGER NOT NULL,
    ref         TEXT UNIQUE,
    departement TEXT NOT NULL DEFAULT '',
    commune     TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT '',
    parent      INTEGER NOT NULL DEFAULT 0,
    public      INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    data        TEXT NOT NULL
);
CREATE INDEX applications_departement ON applications (departement);
CREATE INDEX applications_commune ON applications (commune);
CREATE INDEX applications_status ON applications (status);
CREATE INDEX applications_parent ON applications (parent);

-- ROME codes of every kind that has some; a domain letter filters by prefix.
CREATE TABLE rome (
    kind TEXT NOT NULL,
    id   INTEGER NOT NULL,
    code TEXT NOT NULL,
    PRIMARY KEY (kind, id, code)
) WITHOUT ROWID;
CREATE INDEX rome_code ON rome (kind, code, id);

-- The change feed. AUTOINCREMENT never reuses a seq, and the single writer
-- connection commits them in order.
CREATE TABLE changes (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    kind      TEXT NOT NULL,
    entity_id INTEGER NOT NULL,
    op        TEXT NOT NULL,
    version   INTEGER NOT NULL,
    at        INTEGER NOT NULL
);

CREATE TABLE cursors (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE audits (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        INTEGER NOT NULL,
    subject   TEXT NOT NULL,
    role      TEXT NOT NULL,
    action    TEXT NOT NULL,
    kind      TEXT NOT NULL,
    entity_id INTEGER NOT NULL DEFAULT 0,
    count     INTEGER NOT NULL DEFAULT 0,
    detail    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audits_at ON audits (at, id);
CREATE INDEX audits_entity ON audits (kind, entity_id, at);
CREATE INDEX audits_subject ON audits (subject, at);

-- 0001_init: one table per entity kind, all with the same layout so that
-- one generic adapter serves every kind (see atigip.Keys). The indexed
-- columns are copied from Keys() on every write; data holds the entity JSON
-- and the Meta columns (id, version, created_at, updated_at) win on read.

CREATE TABLE organisations (
    id          BIGSERIAL PRIMARY KEY,
    version     BIGINT      NOT NULL,
    ref         TEXT        UNIQUE,
    departement TEXT        NOT NULL DEFAULT '',
    commune     TEXT        NOT NULL DEFAULT '',
    status      TEXT        NOT NULL DEFAULT '',
    parent      BIGINT      NOT NULL DEFAULT 0,
    public      BOOLEAN     NOT NULL DEFAULT false,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    data        JSONB       NOT NULL
);
CREATE INDEX organisations_departement ON organisations (departement);
CREATE INDEX organisations_commune ON organisations (commune);
CREATE INDEX organisations_status ON organisations (status);
CREATE INDEX organisations_parent ON organisations (parent);

CREATE TABLE posts (
    id          BIGSERIAL PRIMARY KEY,
    version     BIGINT      NOT NULL,
    ref         TEXT        UNIQUE,
    departement TEXT        NOT NULL DEFAULT '',
    commune     TEXT        NOT NULL DEFAULT '',
    status      TEXT        NOT NULL DEFAULT '',
    parent      BIGINT      NOT NULL DEFAULT 0,
    public      BOOLEAN     NOT NULL DEFAULT false,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    data        JSONB       NOT NULL
);
CREATE INDEX posts_departement ON posts (departement);
CREATE INDEX posts_commune ON posts (commune);
CREATE INDEX posts_status ON posts (status);
CREATE INDEX posts_parent ON posts (parent);

CREATE TABLE prisons (
    id          BIGSERIAL PRIMARY KEY,
    version     BIGINT      NOT NULL,
    ref         TEXT        UNIQUE,
    departement TEXT        NOT NULL DEFAULT '',
    commune     TEXT        NOT NULL DEFAULT '',
    status      TEXT        NOT NULL DEFAULT '',
    parent      BIGINT      NOT NULL DEFAULT 0,
    public      BOOLEAN     NOT NULL DEFAULT false,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    data        JSONB       NOT NULL
);
CREATE INDEX prisons_departement ON prisons (departement);
CREATE INDEX prisons_commune ON prisons (commune);
CREATE INDEX prisons_status ON prisons (status);
CREATE INDEX prisons_parent ON prisons (parent);

CREATE TABLE floor_spaces (
    id          BIGSERIAL PRIMARY KEY,
    version     BIGINT      NOT NULL,
    ref         TEXT        UNIQUE,
    departement TEXT        NOT NULL DEFAULT '',
    commune     TEXT        NOT NULL DEFAULT '',
    status      TEXT        NOT NULL DEFAULT '',
    parent      BIGINT      NOT NULL DEFAULT 0,
    public      BOOLEAN     NOT NULL DEFAULT false,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    data        JSONB       NOT NULL
);
CREATE INDEX floor_spaces_departement ON floor_spaces (departement);
CREATE INDEX floor_spaces_commune ON floor_spaces (commune);
CREATE INDEX floor_spaces_status ON floor_spaces (status);
CREATE INDEX floor_spaces_parent ON floor_spaces (parent);

CREATE TABLE offers (
    id          BIGSERIAL PRIMARY KEY,
    version     BIGINT      NOT NULL,
    ref         TEXT        UNIQUE,
    departement TEXT        NOT NULL DEFAULT '',
    commune     TEXT        NOT NULL DEFAULT '',
    status      TEXT        NOT NULL DEFAULT '',
    parent      BIGINT      NOT NULL DEFAULT 0,
    public      BOOLEAN     NOT NULL DEFAULT false,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    data        JSONB       NOT NULL
);
CREATE INDEX offers_departement ON offers (departement);
CREATE INDEX offers_commune ON offers (commune);
CREATE INDEX offers_status ON offers (status);
CREATE INDEX offers_parent ON offers (parent);

CREATE TABLE people (
    id          BIGSERIAL PRIMARY KEY,
    version     BIGINT      NOT NULL,
    ref         TEXT        UNIQUE,
    departement TEXT        NOT NULL DEFAULT '',
    commune     TEXT        NOT NULL DEFAULT '',
    status      TEXT        NOT NULL DEFAULT '',
    parent      BIGINT      NOT NULL DEFAULT 0,
    public      BOOLEAN     NOT NULL DEFAULT false,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    data        JSONB       NOT NULL
);
CREATE INDEX people_departement ON people (departement);
CREATE INDEX people_commune ON people (commune);
CREATE INDEX people_status ON people (status);
CREATE INDEX people_parent ON people (parent);

CREATE TABLE measures (
    id          BIGSERIAL PRIMARY KEY,
    version     BIGINT      NOT NULL,
    ref         TEXT        UNIQUE,
    departement TEXT        NOT NULL DEFAULT '',
    commune     TEXT        NOT NULL DEFAULT '',
    status      TEXT        NOT NULL DEFAULT '',
    parent      BIGINT      NOT NULL DEFAULT 0,
    public      BOOLEAN     NOT NULL DEFAULT false,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    data        JSONB       NOT NULL
);
CREATE INDEX measures_departement ON measures (departement);
CREATE INDEX measures_commune ON measures (commune);
CREATE INDEX measures_status ON measures (status);
CREATE INDEX measures_parent ON measures (parent);

CREATE TABLE applications (
    id          BIGSERIAL PRIMARY KEY,
    version     BIGINT      NOT NULL,
    ref         TEXT        UNIQUE,
    departement TEXT        NOT NULL DEFAULT '',
    commune     TEXT        NOT NULL DEFAULT '',
    status      TEXT        NOT NULL DEFAULT '',
    parent      BIGINT      NOT NULL DEFAULT 0,
    public      BOOLEAN     NOT NULL DEFAULT false,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    data        JSONB       NOT NULL
);
CREATE INDEX applications_departement ON applications (departement);
CREATE INDEX applications_commune ON applications (commune);
CREATE INDEX applications_status ON applications (status);
CREATE INDEX applications_parent ON applications (parent);

-- ROME codes of every entity, for code (=) and domain prefix (LIKE 'A%')
-- filters; text_pattern_ops makes LIKE use the index whatever the collation.
CREATE TABLE rome (
    kind TEXT   NOT NULL,
    id   BIGINT NOT NULL,
    code TEXT   NOT NULL
);
CREATE INDEX rome_kind_code ON rome (kind, code text_pattern_ops);
CREATE INDEX rome_kind_id ON rome (kind, id);

-- The change feed. seq comes from changes_seq, drawn only under a
-- transaction-scoped advisory lock so that seqs commit in order.
CREATE SEQUENCE changes_seq;
CREATE TABLE changes (
    seq       BIGINT      PRIMARY KEY,
    kind      TEXT        NOT NULL,
    entity_id BIGINT      NOT NULL,
    op        TEXT        NOT NULL,
    version   BIGINT      NOT NULL,
    at        TIMESTAMPTZ NOT NULL
);

-- Durable positions (CRM sync, flows), written in the same transaction as
-- the data they cover.
CREATE TABLE cursors (
    name       TEXT        PRIMARY KEY,
    value      TEXT        NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- Accesses to personal data: ids only, never the data. Read newest first.
CREATE TABLE audits (
    id        BIGSERIAL   PRIMARY KEY,
    at        TIMESTAMPTZ NOT NULL,
    subject   TEXT        NOT NULL,
    role      TEXT        NOT NULL,
    action    TEXT        NOT NULL,
    kind      TEXT        NOT NULL,
    entity_id BIGINT      NOT NULL DEFAULT 0,
    count     INTEGER     NOT NULL DEFAULT 0,
    detail    TEXT        NOT NULL DEFAULT ''
);
CREATE INDEX audits_at ON audits (at DESC, id DESC);
CREATE INDEX audits_kind_entity ON audits (kind, entity_id, at DESC, id DESC);
CREATE INDEX audits_subject ON audits (subject, at DESC, id DESC);

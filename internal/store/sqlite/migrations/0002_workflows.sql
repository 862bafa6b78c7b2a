-- 0002_workflows: the workflow kinds (atigip.WorkflowKinds), with the same
-- generic layout as every kind: messages exchanged with APPI (FFE11, FFS12
-- outbox, FFE13, FFE15; the unique ref makes inbound message ids
-- idempotent), hour reports and incidents of TIG measures, and habilitation
-- or post registration procedures.

CREATE TABLE flow_messages (
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
CREATE INDEX flow_messages_departement ON flow_messages (departement);
CREATE INDEX flow_messages_status ON flow_messages (status);
CREATE INDEX flow_messages_parent ON flow_messages (parent);
CREATE INDEX flow_messages_status_id ON flow_messages (status, id);

CREATE TABLE measure_logs (
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
CREATE INDEX measure_logs_departement ON measure_logs (departement);
CREATE INDEX measure_logs_status ON measure_logs (status);
CREATE INDEX measure_logs_parent ON measure_logs (parent);
CREATE INDEX measure_logs_status_id ON measure_logs (status, id);

CREATE TABLE procedures (
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
CREATE INDEX procedures_departement ON procedures (departement);
CREATE INDEX procedures_status ON procedures (status);
CREATE INDEX procedures_parent ON procedures (parent);
CREATE INDEX procedures_status_id ON procedures (status, id);

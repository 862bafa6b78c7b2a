-- 0003_owner: the person a record is about (atigip.Keys.Owner), indexed
-- where it is not the parent already: a person's applications are keyed by
-- offer, and listing them by person must not scan every application.
-- Every table gets the column, as every table has the same layout.
ALTER TABLE organisations ADD COLUMN owner BIGINT NOT NULL DEFAULT 0;
ALTER TABLE posts ADD COLUMN owner BIGINT NOT NULL DEFAULT 0;
ALTER TABLE prisons ADD COLUMN owner BIGINT NOT NULL DEFAULT 0;
ALTER TABLE floor_spaces ADD COLUMN owner BIGINT NOT NULL DEFAULT 0;
ALTER TABLE offers ADD COLUMN owner BIGINT NOT NULL DEFAULT 0;
ALTER TABLE people ADD COLUMN owner BIGINT NOT NULL DEFAULT 0;
ALTER TABLE measures ADD COLUMN owner BIGINT NOT NULL DEFAULT 0;
ALTER TABLE applications ADD COLUMN owner BIGINT NOT NULL DEFAULT 0;
ALTER TABLE flow_messages ADD COLUMN owner BIGINT NOT NULL DEFAULT 0;
ALTER TABLE measure_logs ADD COLUMN owner BIGINT NOT NULL DEFAULT 0;
ALTER TABLE procedures ADD COLUMN owner BIGINT NOT NULL DEFAULT 0;
UPDATE applications SET owner = COALESCE((data->>'person_id')::bigint, 0);
UPDATE measures SET owner = COALESCE((data->>'person_id')::bigint, 0);
CREATE INDEX applications_owner ON applications (owner);

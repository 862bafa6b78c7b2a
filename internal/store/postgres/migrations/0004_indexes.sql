-- 0004_indexes: indexes shaped for the queries the store runs.
--
-- Every page is "WHERE <key> = $1 ... ORDER BY id LIMIT n": an index on
-- (key, id) hands the rows over in id order, so a page of a small
-- département costs a few index entries instead of a walk of the primary
-- key until 50 matches turn up. It serves plain equality as well as the
-- single-column index it replaces.
DO $$
DECLARE
    k text;
    c text;
BEGIN
    FOREACH k IN ARRAY ARRAY['organisations', 'posts', 'prisons', 'floor_spaces',
                             'offers', 'people', 'measures', 'applications'] LOOP
        FOREACH c IN ARRAY ARRAY['departement', 'commune', 'status', 'parent'] LOOP
            EXECUTE format('CREATE INDEX %I ON %I (%I, id)', k || '_' || c || '_id', k, c);
            EXECUTE format('DROP INDEX %I', k || '_' || c);
        END LOOP;
    END LOOP;
END
$$;

-- The ROME indexes carry the other columns too, so that a ROME filter is
-- answered from the index alone: by code (or domain prefix) to collect
-- ids, or by id to check the few rows another filter has already chosen.
CREATE INDEX rome_kind_code_id ON rome (kind, code text_pattern_ops, id);
CREATE INDEX rome_kind_id_code ON rome (kind, id, code);
DROP INDEX rome_kind_code;
DROP INDEX rome_kind_id;

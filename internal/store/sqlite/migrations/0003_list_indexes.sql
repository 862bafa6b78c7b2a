-- 0003_list_indexes: lists filter on a place and a status together
-- (posts?departement=69&status=open). Without table statistics SQLite
-- picks the status index, which holds two thirds of the posts; composite
-- indexes make the place the leading, selective column.
CREATE INDEX posts_departement_status ON posts (departement, status);
CREATE INDEX posts_commune_status ON posts (commune, status);
CREATE INDEX organisations_departement_status ON organisations (departement, status);
CREATE INDEX offers_departement_status ON offers (departement, status);
CREATE INDEX floor_spaces_departement_status ON floor_spaces (departement, status);
CREATE INDEX people_departement_status ON people (departement, status);
CREATE INDEX measures_departement_status ON measures (departement, status);

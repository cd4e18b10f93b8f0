-- Schema v7: what the NHI findings need that does not depend on the day, stored with each NHI,
-- and a trigram index of the inventory's search fields, so that the posture and the inventory's
-- finding counts and search read a few columns instead of evaluating every rule on every NHI
-- (100,000 NHIs). Derived data only: no state changes, nothing removed but two indexes that only
-- served the rules these columns replace.
--
-- multi_env and privileged are the Rust rules (environments(), is_privileged() in ops/nhis.rs):
-- the writers of environment and scopes set them (add_nhi, import_nhis, update_nhi); the opener
-- registers the SQL functions dw_multi_env/dw_privileged before migrating so this fill is exact.
-- Everything else here is kept up to date by the triggers below, in the writer's transaction.
ALTER TABLE nhis ADD COLUMN multi_env INTEGER NOT NULL DEFAULT 0;
ALTER TABLE nhis ADD COLUMN privileged INTEGER NOT NULL DEFAULT 0;
-- How many models link to it ("shared" when more than one).
ALTER TABLE nhis ADD COLUMN link_count INTEGER NOT NULL DEFAULT 0;
-- ROTATION_DUE_SQL in ops/nhis.rs, stored.
ALTER TABLE nhis ADD COLUMN rotation_due TEXT;
-- How many of the day-independent findings it has: multi-environment, shared, human-use,
-- overprivileged (orphaned depends on the owner's status and is read from members).
ALTER TABLE nhis ADD COLUMN static_findings INTEGER NOT NULL DEFAULT 0;

UPDATE nhis SET multi_env = dw_multi_env(environment), privileged = dw_privileged(scopes),
    link_count = (SELECT count(*) FROM nhi_links l WHERE l.nhi_id = nhis.id);
UPDATE nhis SET
    rotation_due = date(coalesce(last_rotated, substr(created_at, 1, 10)), '+' || rotation_days || ' days'),
    static_findings = multi_env + (link_count > 1) + human_use + privileged;

-- Replaced by the stored flags (finding_sql in ops/nhis.rs).
DROP INDEX IF EXISTS nhis_multi_env;
DROP INDEX IF EXISTS nhis_privileged;
CREATE INDEX nhis_multi_env_flag ON nhis(status) WHERE multi_env != 0;
CREATE INDEX nhis_privileged_flag ON nhis(status) WHERE privileged != 0;
CREATE INDEX nhis_shared ON nhis(status) WHERE link_count > 1;
-- A model's links with their NHIs, in model order (the posture's per-model sums).
CREATE INDEX nhi_links_model_nhi ON nhi_links(model_id, nhi_id);

-- The derived columns of one NHI, recomputed from its row (the columns set here are not in the
-- OF lists, so this does not fire itself).
CREATE TRIGGER nhis_derived_insert AFTER INSERT ON nhis BEGIN
    UPDATE nhis SET
        rotation_due = date(coalesce(last_rotated, substr(created_at, 1, 10)), '+' || rotation_days || ' days'),
        link_count = (SELECT count(*) FROM nhi_links l WHERE l.nhi_id = NEW.id),
        static_findings = multi_env + ((SELECT count(*) FROM nhi_links l WHERE l.nhi_id = NEW.id) > 1)
            + human_use + privileged
    WHERE id = NEW.id;
END;
CREATE TRIGGER nhis_derived_update
AFTER UPDATE OF last_rotated, rotation_days, created_at, multi_env, privileged, human_use, link_count ON nhis
BEGIN
    UPDATE nhis SET
        rotation_due = date(coalesce(last_rotated, substr(created_at, 1, 10)), '+' || rotation_days || ' days'),
        static_findings = multi_env + (link_count > 1) + human_use + privileged
    WHERE id = NEW.id;
END;
CREATE TRIGGER nhi_links_count_insert AFTER INSERT ON nhi_links BEGIN
    UPDATE nhis SET link_count = (SELECT count(*) FROM nhi_links l WHERE l.nhi_id = NEW.nhi_id)
    WHERE id = NEW.nhi_id;
END;
CREATE TRIGGER nhi_links_count_delete AFTER DELETE ON nhi_links BEGIN
    UPDATE nhis SET link_count = (SELECT count(*) FROM nhi_links l WHERE l.nhi_id = OLD.nhi_id)
    WHERE id = OLD.nhi_id;
END;
CREATE TRIGGER nhi_links_count_update AFTER UPDATE OF nhi_id ON nhi_links BEGIN
    UPDATE nhis SET link_count = (SELECT count(*) FROM nhi_links l WHERE l.nhi_id = nhis.id)
    WHERE id IN (OLD.nhi_id, NEW.nhi_id);
END;

-- The inventory's search fields of each NHI (rowid = the NHI's id), one per line: name, kind,
-- system, environment, identifier, and each linked model as name@version (not the owner's
-- email: list_nhis_page scans when a term is part of a member's email). A trigram index finds
-- the candidates of a search term of 3 characters or more; the exact substring test
-- (list_nhis_page) then decides, so a candidate too many changes nothing.
CREATE VIRTUAL TABLE nhi_search USING fts5(body, tokenize = 'trigram');
-- What the index holds for each NHI, written once for the fill and every trigger below.
CREATE VIEW nhi_search_source (id, body) AS
    SELECT n.id, n.name || char(10) || n.kind || char(10) || n.system || char(10)
        || coalesce(n.environment, '') || char(10) || coalesce(n.identifier, '')
        || coalesce((SELECT group_concat(char(10) || m.name || '@' || m.version, '')
                     FROM nhi_links l JOIN models m ON m.id = l.model_id WHERE l.nhi_id = n.id), '')
    FROM nhis n;
-- The initial fill in one go (no merging while it runs, one merge after), then FTS5's defaults.
INSERT INTO nhi_search (nhi_search, rank) VALUES ('automerge', 0);
INSERT INTO nhi_search (nhi_search, rank) VALUES ('crisismerge', 64);
INSERT INTO nhi_search (rowid, body)
    SELECT id, body FROM nhi_search_source;
INSERT INTO nhi_search (nhi_search) VALUES ('optimize');
INSERT INTO nhi_search (nhi_search, rank) VALUES ('automerge', 4);
INSERT INTO nhi_search (nhi_search, rank) VALUES ('crisismerge', 16);

CREATE TRIGGER nhi_search_insert AFTER INSERT ON nhis BEGIN
    INSERT INTO nhi_search (rowid, body)
    SELECT id, body FROM nhi_search_source WHERE id = NEW.id;
END;
CREATE TRIGGER nhi_search_update
AFTER UPDATE OF name, kind, system, environment, identifier ON nhis BEGIN
    DELETE FROM nhi_search WHERE rowid = NEW.id;
    INSERT INTO nhi_search (rowid, body)
    SELECT id, body FROM nhi_search_source WHERE id = NEW.id;
END;
-- A link changes the NHI's linked models; a model's name or version, the entries that show it.
CREATE TRIGGER nhi_search_links_insert AFTER INSERT ON nhi_links BEGIN
    DELETE FROM nhi_search WHERE rowid = NEW.nhi_id;
    INSERT INTO nhi_search (rowid, body)
    SELECT id, body FROM nhi_search_source WHERE id = NEW.nhi_id;
END;
CREATE TRIGGER nhi_search_links_delete AFTER DELETE ON nhi_links BEGIN
    DELETE FROM nhi_search WHERE rowid = OLD.nhi_id;
    INSERT INTO nhi_search (rowid, body)
    SELECT id, body FROM nhi_search_source WHERE id = OLD.nhi_id;
END;
CREATE TRIGGER nhi_search_links_update AFTER UPDATE OF nhi_id, model_id ON nhi_links BEGIN
    DELETE FROM nhi_search WHERE rowid IN (OLD.nhi_id, NEW.nhi_id);
    INSERT INTO nhi_search (rowid, body)
    SELECT id, body FROM nhi_search_source WHERE id IN (OLD.nhi_id, NEW.nhi_id);
END;
CREATE TRIGGER nhi_search_models_update AFTER UPDATE OF name, version ON models BEGIN
    DELETE FROM nhi_search WHERE rowid IN (SELECT nhi_id FROM nhi_links WHERE model_id = NEW.id);
    INSERT INTO nhi_search (rowid, body)
    SELECT id, body FROM nhi_search_source
    WHERE id IN (SELECT nhi_id FROM nhi_links WHERE model_id = NEW.id);
END;

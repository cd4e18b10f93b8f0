-- Schema v8: a measurement names its series, (model, metric), by a number, and keeps its time as
-- seconds since 1970-01-01T00:00:00Z (times are stored in whole seconds, UTC: nothing is lost;
-- the reads give them back in the stored form, YYYY-MM-DDTHH:MM:SSZ).
--
-- Every import appends to one place of the series index per series it measures (20,000 series
-- in the scale benchmark). With the series and the time spelt out in each entry, (model_id,
-- metric text, observed_at text, id, value), that index took ~54 bytes an entry and every
-- insertion compared text on its way down; now an entry takes ~25 bytes of integers and a float.
-- The rows keep their ids, values, times and every other column; nothing is removed.
CREATE TABLE series (
    id       INTEGER PRIMARY KEY,
    model_id INTEGER NOT NULL REFERENCES models(id),
    metric   TEXT NOT NULL,
    UNIQUE (model_id, metric)
);
INSERT INTO series (model_id, metric)
    SELECT DISTINCT model_id, metric FROM measurements ORDER BY model_id, metric;

CREATE TABLE measurements_v8 (
    id           INTEGER PRIMARY KEY,
    series_id    INTEGER NOT NULL REFERENCES series(id),
    value        REAL NOT NULL,
    -- Seconds since 1970-01-01T00:00:00Z.
    observed_at  INTEGER NOT NULL,
    segment      TEXT,
    source       TEXT,
    import_id    INTEGER NOT NULL REFERENCES imports(id),
    -- Evaluation against the approved threshold in force: none, ok, warn, breach.
    evaluation   TEXT NOT NULL CHECK (evaluation IN ('none', 'ok', 'warn', 'breach')),
    threshold_id INTEGER REFERENCES thresholds(id),
    exception_id INTEGER REFERENCES exceptions(id)
);
INSERT INTO measurements_v8 (id, series_id, value, observed_at, segment, source, import_id,
        evaluation, threshold_id, exception_id)
    SELECT m.id, s.id, m.value, unixepoch(m.observed_at), m.segment, m.source, m.import_id, m.evaluation,
        m.threshold_id, m.exception_id
    FROM measurements m JOIN series s ON s.model_id = m.model_id AND s.metric = m.metric
    ORDER BY m.id;
DROP INDEX measurements_series;
DROP TABLE measurements;
ALTER TABLE measurements_v8 RENAME TO measurements;
-- A series in time order with its values, read from the index alone (drift charts and their
-- downsampling). The id orders measurements of the same time as they were stored.
CREATE INDEX measurements_series ON measurements(series_id, observed_at, id, value);

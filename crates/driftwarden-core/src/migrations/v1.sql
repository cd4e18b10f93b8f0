-- Schema v1: the foundation. Nothing is ever deleted: rows change state instead.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE members (
    id                 INTEGER PRIMARY KEY,
    email              TEXT NOT NULL UNIQUE,
    name               TEXT NOT NULL,
    roles              TEXT NOT NULL,          -- JSON array of role words
    status             TEXT NOT NULL CHECK (status IN ('active', 'offboarded')),
    signing_public_key TEXT NOT NULL,          -- Ed25519, base64
    box_public_key     TEXT NOT NULL,          -- X25519, base64
    created_at         TEXT NOT NULL,
    offboarded_at      TEXT,
    offboard_reason    TEXT
);

CREATE TABLE models (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL,
    version           TEXT NOT NULL,
    intended_use      TEXT NOT NULL,
    business_function TEXT NOT NULL,
    risk_tier         TEXT NOT NULL CHECK (risk_tier IN ('high', 'medium', 'low')),
    deployment_mode   TEXT NOT NULL CHECK (deployment_mode IN ('production', 'shadow', 'canary')),
    regulated         INTEGER NOT NULL CHECK (regulated IN (0, 1)),
    owner_id          INTEGER NOT NULL REFERENCES members(id),
    status            TEXT NOT NULL CHECK (status IN ('active', 'paused', 'rolled-back', 'retired')),
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    UNIQUE (name, version)
);
CREATE INDEX models_owner ON models(owner_id);

CREATE TABLE decision_rights (
    model_id     INTEGER PRIMARY KEY REFERENCES models(id),
    validator_id INTEGER REFERENCES members(id),
    rollback_id  INTEGER REFERENCES members(id),
    approver_id  INTEGER REFERENCES members(id),
    updated_at   TEXT NOT NULL
);

CREATE TABLE alert_recipients (
    model_id  INTEGER NOT NULL REFERENCES models(id),
    member_id INTEGER NOT NULL REFERENCES members(id),
    active    INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    PRIMARY KEY (model_id, member_id)
);

CREATE TABLE thresholds (
    id          INTEGER PRIMARY KEY,
    model_id    INTEGER NOT NULL REFERENCES models(id),
    metric      TEXT NOT NULL,
    version     INTEGER NOT NULL,
    breach      REAL NOT NULL,
    warn        REAL,
    direction   TEXT NOT NULL CHECK (direction IN ('above', 'below')),
    status      TEXT NOT NULL CHECK (status IN ('proposed', 'approved', 'superseded', 'withdrawn')),
    proposed_by INTEGER NOT NULL REFERENCES members(id),
    proposed_at TEXT NOT NULL,
    UNIQUE (model_id, metric, version)
);
CREATE INDEX thresholds_model ON thresholds(model_id, metric, status);

CREATE TABLE nhis (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    kind          TEXT NOT NULL,
    system        TEXT NOT NULL,
    owner_id      INTEGER NOT NULL REFERENCES members(id),
    environment   TEXT,
    scopes        TEXT NOT NULL,               -- JSON array
    rotation_days INTEGER NOT NULL CHECK (rotation_days > 0),
    last_rotated  TEXT,                        -- YYYY-MM-DD
    expires       TEXT,                        -- YYYY-MM-DD
    status        TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX nhis_owner ON nhis(owner_id);

CREATE TABLE nhi_links (
    id         INTEGER PRIMARY KEY,
    nhi_id     INTEGER NOT NULL REFERENCES nhis(id),
    model_id   INTEGER NOT NULL REFERENCES models(id),
    usage      TEXT NOT NULL,
    created_by INTEGER NOT NULL REFERENCES members(id),
    created_at TEXT NOT NULL,
    UNIQUE (nhi_id, model_id)
);
CREATE INDEX nhi_links_model ON nhi_links(model_id);

-- The audit log: append-only, hash-chained. hash = SHA-256(prev_hash || canonical JSON of
-- {seq, at, actor, operation, entity_type, entity_id, payload}).
CREATE TABLE audit_events (
    seq         INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    operation   TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    payload     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_entity ON audit_events(entity_type, entity_id);

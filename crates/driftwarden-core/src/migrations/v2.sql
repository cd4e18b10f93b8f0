-- Schema v2: the governance workflow. Approvals, measurements, exceptions, sign-offs.

-- A signed release of a model and its threshold set, with an expiry.
CREATE TABLE approvals (
    id          INTEGER PRIMARY KEY,
    model_id    INTEGER NOT NULL REFERENCES models(id),
    approver_id INTEGER NOT NULL REFERENCES members(id),
    approved_at TEXT NOT NULL,
    expires_on  TEXT NOT NULL,                 -- YYYY-MM-DD; the approval lapses at its start
    note        TEXT,
    status      TEXT NOT NULL CHECK (status IN ('active', 'superseded', 'lapsed', 'ended')),
    ended_at    TEXT,
    ended_reason TEXT
);
CREATE INDEX approvals_model ON approvals(model_id, status);

-- The threshold versions an approval released.
CREATE TABLE approval_thresholds (
    approval_id  INTEGER NOT NULL REFERENCES approvals(id),
    threshold_id INTEGER NOT NULL REFERENCES thresholds(id),
    PRIMARY KEY (approval_id, threshold_id)
);

-- One file (or command) of measurements.
CREATE TABLE imports (
    id          INTEGER PRIMARY KEY,
    file        TEXT NOT NULL,
    format      TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    rows        INTEGER NOT NULL,
    imported_by INTEGER NOT NULL REFERENCES members(id),
    imported_at TEXT NOT NULL
);

CREATE TABLE measurements (
    id           INTEGER PRIMARY KEY,
    model_id     INTEGER NOT NULL REFERENCES models(id),
    metric       TEXT NOT NULL,
    value        REAL NOT NULL,
    observed_at  TEXT NOT NULL,
    segment      TEXT,
    source       TEXT,
    import_id    INTEGER NOT NULL REFERENCES imports(id),
    -- Evaluation against the approved threshold in force: none, ok, warn, breach.
    evaluation   TEXT NOT NULL CHECK (evaluation IN ('none', 'ok', 'warn', 'breach')),
    threshold_id INTEGER REFERENCES thresholds(id),
    exception_id INTEGER REFERENCES exceptions(id)
);
CREATE INDEX measurements_model_metric ON measurements(model_id, metric, observed_at);

CREATE TABLE exceptions (
    id              INTEGER PRIMARY KEY,
    model_id        INTEGER NOT NULL REFERENCES models(id),
    kind            TEXT NOT NULL CHECK (kind IN ('breach', 'lapsed-approval')),
    metric          TEXT,
    threshold_id    INTEGER REFERENCES thresholds(id),
    approval_id     INTEGER REFERENCES approvals(id),
    deployment_mode TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('opened', 'validating', 'confirmed', 'dismissed',
                        'escalated', 'recovered', 'decided', 'closed')),
    resume_state    TEXT,                      -- the state a recovered exception returns to on a new breach
    validation      TEXT NOT NULL CHECK (validation IN ('pending', 'confirmed', 'dismissed')),
    validation_reason TEXT,
    rebreach        INTEGER NOT NULL DEFAULT 0 CHECK (rebreach IN (0, 1)),
    opened_at       TEXT NOT NULL,
    first_value     REAL,
    last_breach_at  TEXT,                      -- observed_at of the latest breaching measurement
    last_breach_value REAL,
    breach_count    INTEGER NOT NULL DEFAULT 0,
    validate_by     TEXT NOT NULL,             -- YYYY-MM-DD
    decide_by       TEXT NOT NULL,             -- YYYY-MM-DD
    impact_customer   INTEGER NOT NULL DEFAULT 0,
    impact_compliance INTEGER NOT NULL DEFAULT 0,
    impact_financial  INTEGER NOT NULL DEFAULT 0,
    escalated       INTEGER NOT NULL DEFAULT 0,
    recovered_at    TEXT,
    disposition     TEXT,
    rationale       TEXT,
    follow_up       TEXT,                      -- YYYY-MM-DD
    decided_by      INTEGER REFERENCES members(id),
    decided_at      TEXT,
    cosign_required INTEGER NOT NULL DEFAULT 0,
    cosigned_by     INTEGER REFERENCES members(id),
    cosigned_at     TEXT,
    closed_at       TEXT,
    updated_at      TEXT NOT NULL
);
CREATE INDEX exceptions_model_metric ON exceptions(model_id, metric, state);
CREATE INDEX exceptions_state ON exceptions(state);

-- Earlier exceptions a re-breach is linked to.
CREATE TABLE exception_links (
    exception_id INTEGER NOT NULL REFERENCES exceptions(id),
    earlier_id   INTEGER NOT NULL REFERENCES exceptions(id),
    PRIMARY KEY (exception_id, earlier_id)
);

-- Why an exception was escalated (one row per rule that fired).
CREATE TABLE escalations (
    id           INTEGER PRIMARY KEY,
    exception_id INTEGER NOT NULL REFERENCES exceptions(id),
    at           TEXT NOT NULL,
    rule         TEXT NOT NULL,
    reason       TEXT NOT NULL,
    routed_to    TEXT                          -- the business approver's email
);

-- Ed25519 sign-offs over the canonical bytes of a statement rebuilt from the signed record.
CREATE TABLE signoffs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('approval', 'disposition', 'cosign')),
    entity_type TEXT NOT NULL,
    entity_id   INTEGER NOT NULL,
    signer_id   INTEGER NOT NULL REFERENCES members(id),
    signed_at   TEXT NOT NULL,
    statement   TEXT NOT NULL,                 -- canonical JSON that was signed
    signature   TEXT NOT NULL                  -- base64
);
CREATE INDEX signoffs_entity ON signoffs(entity_type, entity_id);
